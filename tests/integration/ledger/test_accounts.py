"""Accounts are opened once per (kind, owner, currency), however many callers race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from croupier.core.errors import IdempotencyConflict, InvalidInput
from croupier.core.money import Currency
from croupier.ledger import (
    Account,
    AccountKind,
    AccountSpec,
    find_account,
    open_account,
    player_account,
    system_account,
)
from croupier.ledger.errors import AccountNotFound
from croupier.ledger.schema import account_balances
from tests.integration.ledger.conftest import Books

ETH = Currency.ETH


def test_system_and_player_accounts_are_opened_once(books: Books) -> None:
    owner = f"player-{books.tag}"

    first = player_account(books.engine, owner, AccountKind.PLAYER_CASH, ETH)
    again = player_account(books.engine, owner, AccountKind.PLAYER_CASH, ETH)
    fees = system_account(books.engine, AccountKind.FEES, Currency.USDT)

    assert first == again and first.debits_must_not_exceed_credits
    assert find_account(books.engine, AccountKind.PLAYER_CASH, owner, ETH) == first
    assert fees == system_account(books.engine, AccountKind.FEES, Currency.USDT)
    with pytest.raises(AccountNotFound, match=f"no player_bonus account of {owner} in ETH"):
        find_account(books.engine, AccountKind.PLAYER_BONUS, owner, ETH)


def test_player_and_system_kinds_are_not_mixed_up(books: Books) -> None:
    with pytest.raises(InvalidInput, match="player account kind"):
        system_account(books.engine, AccountKind.PLAYER_CASH, ETH)
    with pytest.raises(InvalidInput, match="not a player account kind"):
        player_account(books.engine, f"p-{books.tag}", AccountKind.HOUSE, ETH)


def test_reopening_with_other_shards_is_an_idempotency_conflict(books: Books) -> None:
    spec = AccountSpec(AccountKind.FEES, f"fees-{books.tag}", ETH)
    open_account(books.engine, spec)

    with pytest.raises(IdempotencyConflict, match="other limits or shards"):
        open_account(books.engine, AccountSpec(AccountKind.FEES, spec.owner, ETH, shards=2))


def test_racing_openers_get_the_same_account_with_one_set_of_balance_rows(books: Books) -> None:
    spec = AccountSpec(AccountKind.HOUSE, f"house-race-{books.tag}", ETH, shards=8)
    start = threading.Barrier(8)

    def racer(_: int) -> Account:
        start.wait()
        return open_account(books.engine, spec)

    with ThreadPoolExecutor(max_workers=8) as pool:
        opened = set(pool.map(racer, range(8)))

    [account] = opened
    with books.engine.connect() as conn:
        rows = conn.execute(
            select(func.count()).where(account_balances.c.account_id == account.id)
        ).scalar_one()
    assert rows == 8
