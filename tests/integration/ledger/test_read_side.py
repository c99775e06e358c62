"""Balances and statements as the API reads them."""

from __future__ import annotations

import pytest

from croupier.core.errors import InvalidInput
from croupier.core.money import Currency
from croupier.ledger import (
    Direction,
    StatementLine,
    TransferRequest,
    TransferType,
    balance,
    statement,
    transfer,
    transfer_batch,
)
from croupier.ledger.balances import MAX_PAGE_SIZE
from croupier.ledger.errors import AccountNotFound
from tests.integration.ledger.conftest import Books

ETH = Currency.ETH


def test_a_statement_pages_through_every_entry_newest_first(books: Books) -> None:
    player = books.player(funded=1_000)
    bets = [
        TransferRequest(books.tid("bet"), player.id, books.house.id, n, ETH, TransferType.BET)
        for n in range(1, 12)
    ]
    for request in bets:
        transfer(books.engine, request)

    lines: list[StatementLine] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = statement(books.engine, player.id, limit=5, cursor=cursor)
        lines.extend(page.lines)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert pages == 3 and len(lines) == 12
    assert [line.transfer_id for line in lines[:-1]] == [r.id for r in reversed(bets)]
    assert lines[-1].direction is Direction.CREDIT and lines[-1].change == 1_000
    assert [line.change for line in lines[:3]] == [-11, -10, -9]
    assert sum(line.change for line in lines) == balance(books.engine, player.id).posted


def test_entries_of_one_transaction_keep_their_order_across_pages(books: Books) -> None:
    """A batch gives every entry the same created_at; the id breaks the tie."""
    player = books.player()
    deposits = [
        TransferRequest(books.tid("dep"), books.bank.id, player.id, n, ETH, TransferType.DEPOSIT)
        for n in range(1, 8)
    ]
    transfer_batch(books.engine, deposits)

    first = statement(books.engine, player.id, limit=4)
    second = statement(books.engine, player.id, limit=4, cursor=first.next_cursor)

    assert [line.amount for line in (*first.lines, *second.lines)] == [7, 6, 5, 4, 3, 2, 1]
    assert second.next_cursor is None


def test_house_balance_sums_its_shards(books: Books) -> None:
    players = [books.player(str(n), funded=100) for n in range(6)]
    for player in players:
        transfer(
            books.engine,
            TransferRequest(books.tid("bet"), player.id, books.house.id, 10, ETH, TransferType.BET),
        )

    house = balance(books.engine, books.house.id)

    assert (house.credits_posted, house.posted, house.available) == (60, 60, 60)


def test_pages_are_bounded_and_cursors_checked(books: Books) -> None:
    player = books.player(funded=1)

    for limit in (0, MAX_PAGE_SIZE + 1):
        with pytest.raises(InvalidInput, match="page size"):
            statement(books.engine, player.id, limit=limit)
    with pytest.raises(InvalidInput, match="cursor"):
        statement(books.engine, player.id, cursor="bm90LWEtY3Vyc29y")
    with pytest.raises(AccountNotFound):
        statement(books.engine, 2**62)
    with pytest.raises(AccountNotFound):
        balance(books.engine, 2**62)
