"""Fixtures for ledger tests: each test gets its own accounts, so tests sharing the
session database never see each other's money."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, func, select

from croupier.core.money import Currency
from croupier.ledger import (
    Account,
    AccountKind,
    AccountSpec,
    TransferRequest,
    TransferResult,
    TransferType,
    balance,
    migrate,
    open_account,
    transfer,
)
from croupier.ledger.db import drop_database, ensure_database, make_engine
from croupier.ledger.schema import ledger_entries, transfer_ids, transfers

TEST_HOUSE_SHARDS = 4


@dataclass
class Books:
    """A private corner of the ledger: a house, a bank to fund players, and players."""

    engine: Engine
    currency: Currency = Currency.ETH
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    accounts: list[Account] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.house = self.open(AccountKind.HOUSE, shards=TEST_HOUSE_SHARDS)
        # Deposits in flight: unlimited, the source of every player's funds here.
        self.bank = self.open(AccountKind.DEPOSITS_IN_FLIGHT)

    def open(
        self,
        kind: AccountKind,
        *,
        name: str = "",
        currency: Currency | None = None,
        shards: int | None = None,
    ) -> Account:
        spec = AccountSpec(
            kind, f"{kind.value}{name}-{self.tag}", currency or self.currency, shards=shards
        )
        account = open_account(self.engine, spec)
        self.accounts.append(account)
        return account

    def player(self, name: str = "", *, funded: int = 0) -> Account:
        account = self.open(AccountKind.PLAYER_CASH, name=name)
        if funded:
            self.fund(account, funded)
        return account

    def fund(self, account: Account, amount: int) -> TransferResult:
        return transfer(
            self.engine,
            TransferRequest(
                self.tid("deposit"),
                self.bank.id,
                account.id,
                amount,
                self.currency,
                TransferType.DEPOSIT,
            ),
        )

    def tid(self, label: str) -> str:
        """A transfer id unique to this test: ``<label>-<tag>-<n>``."""
        return f"{label}-{self.tag}-{uuid.uuid4().hex[:8]}"

    def available(self, account: Account) -> int:
        return balance(self.engine, account.id).available

    def state(self) -> tuple[object, ...]:
        """Everything a posting could write for these accounts: to prove a refusal wrote
        nothing, compare it before and after."""
        ids = [account.id for account in self.accounts]
        with self.engine.connect() as conn:
            journal = conn.execute(
                select(func.count())
                .select_from(transfers)
                .where(
                    transfers.c.debit_account_id.in_(ids) | transfers.c.credit_account_id.in_(ids)
                )
            ).scalar_one()
            entries = conn.execute(
                select(func.count())
                .select_from(ledger_entries)
                .where(ledger_entries.c.account_id.in_(ids))
            ).scalar_one()
            claimed = conn.execute(
                select(func.count())
                .select_from(transfer_ids)
                .where(transfer_ids.c.id.like(f"%-{self.tag}-%"))
            ).scalar_one()
        balances = tuple(balance(self.engine, account_id) for account_id in ids)
        return journal, entries, claimed, balances


@pytest.fixture
def books(engine: Engine) -> Books:
    return Books(engine)


def private_database(server_url: str) -> Iterator[Engine]:
    """A migrated database of its own on the session's server, dropped afterwards."""
    name = f"croupier_ledger_{uuid.uuid4().hex[:12]}"
    url = ensure_database(server_url, name)
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=4)
    yield engine
    engine.dispose()
    drop_database(server_url, name)


@pytest.fixture
def fresh_engine(postgres_server_url: str) -> Iterator[Engine]:
    """A database of its own, for checks that must see the whole ledger (reconciliation)."""
    yield from private_database(postgres_server_url)
