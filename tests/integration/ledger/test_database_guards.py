"""The database defends the ledger on its own: against raw SQL that skips the Python
layer, and against any attempt to rewrite history."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from croupier.core.errors import InvalidAmount
from croupier.core.money import Currency
from croupier.ledger import (
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    TransferType,
    hold,
    post_pending,
    transfer,
)
from croupier.ledger.errors import InvalidTransfer, LedgerImmutable, ledger_errors
from tests.integration.ledger.conftest import Books

ETH = Currency.ETH


def raw_sql(engine: Engine, sql: str, **params: object) -> None:
    with ledger_errors(), engine.begin() as conn:
        conn.execute(text(sql), params)


@pytest.mark.parametrize("amount", ["0", "-5", "1.5", "NULL"])
def test_the_database_refuses_amounts_that_are_not_positive_whole_minor_units(
    books: Books, amount: str
) -> None:
    player = books.player(funded=100)
    before = books.state()

    with pytest.raises(InvalidAmount, match="positive whole number of minor units"):
        raw_sql(
            books.engine,
            f"SELECT ledger_transfer(:id, :debit, :credit, {amount}, 'ETH', 'bet', NULL, NULL, "
            "false, NULL)",
            id=books.tid("raw"),
            debit=player.id,
            credit=books.house.id,
        )
    with pytest.raises(InvalidAmount, match="item 1: amount must be"):
        raw_sql(
            books.engine,
            f"SELECT * FROM ledger_transfer_batch(ARRAY[:id], ARRAY[:debit]::bigint[], "
            f"ARRAY[:credit]::bigint[], ARRAY[{amount}]::numeric[], ARRAY['ETH'], ARRAY['bet'], "
            "ARRAY[NULL]::text[], ARRAY[NULL]::jsonb[], ARRAY[false], ARRAY[NULL]::integer[])",
            id=books.tid("raw"),
            debit=player.id,
            credit=books.house.id,
        )

    assert books.state() == before


def test_the_database_refuses_a_transfer_between_an_account_and_itself(books: Books) -> None:
    player = books.player(funded=100)
    before = books.state()

    with pytest.raises(InvalidTransfer, match="distinct_accounts"):
        raw_sql(
            books.engine,
            "SELECT ledger_transfer(:id, :player, :player, 5, 'ETH', 'bet', NULL, NULL, false, "
            "NULL)",
            id=books.tid("raw"),
            player=player.id,
        )

    assert books.state() == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = amount + 1 WHERE transfer_id = :id",
        "DELETE FROM ledger_entries WHERE transfer_id = :id",
        "UPDATE transfers SET amount = amount + 1 WHERE id = :id",
        "UPDATE transfers SET status = 'voided' WHERE id = :id",
        "DELETE FROM transfers WHERE id = :id",
        "UPDATE transfer_ids SET id = id || 'x' WHERE id = :id",
        "DELETE FROM transfer_ids WHERE id = :id",
    ],
)
def test_posted_history_cannot_be_updated_or_deleted(books: Books, statement: str) -> None:
    player = books.player(funded=100)
    posted = transfer(
        books.engine,
        TransferRequest(books.tid("bet"), player.id, books.house.id, 10, ETH, TransferType.BET),
    )
    before = books.state()

    with pytest.raises(LedgerImmutable, match="refused"):
        raw_sql(books.engine, statement, id=posted.id)

    assert books.state() == before


@pytest.mark.parametrize(
    "table", ["ledger_entries", "transfers", "transfer_ids", "ledger_entries_y{month}"]
)
def test_the_journal_cannot_be_truncated(engine: Engine, table: str) -> None:
    with engine.connect() as conn:
        month = conn.execute(
            text("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY\"m\"MM')")
        ).scalar_one()

    with pytest.raises(LedgerImmutable, match=r"TRUNCATE on .* is refused"):
        raw_sql(engine, f"TRUNCATE {table.format(month=month)} CASCADE")


def test_a_pending_hold_may_only_change_its_status(books: Books) -> None:
    player = books.player(funded=100)
    held = hold(
        books.engine,
        HoldRequest(books.tid("stake"), player.id, books.house.id, 10, ETH, TransferType.BET),
    )

    with pytest.raises(LedgerImmutable, match=rf"UPDATE of transfer {held.id} \(hold pending\)"):
        raw_sql(books.engine, "UPDATE transfers SET amount = 1 WHERE id = :id", id=held.id)

    post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id))
    with pytest.raises(LedgerImmutable, match=r"\(hold posted\) is refused"):
        raw_sql(books.engine, "UPDATE transfers SET status = 'voided' WHERE id = :id", id=held.id)


def test_accounts_cannot_be_deleted_or_changed_except_closed(books: Books) -> None:
    player = books.player()

    with pytest.raises(LedgerImmutable):
        raw_sql(books.engine, "DELETE FROM accounts WHERE id = :id", id=player.id)
    with pytest.raises(LedgerImmutable):
        raw_sql(
            books.engine,
            "UPDATE accounts SET debits_must_not_exceed_credits = false WHERE id = :id",
            id=player.id,
        )
    with pytest.raises(LedgerImmutable):
        raw_sql(books.engine, "DELETE FROM account_balances WHERE account_id = :id", id=player.id)
