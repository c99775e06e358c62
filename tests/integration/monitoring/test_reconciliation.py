"""Reconciliation catches money the ledger does not know about and history rewritten
behind the database's back; both raise critical alerts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, text

from croupier.chains.ethereum.client import EthereumClient
from croupier.ledger import AccountKind, HoldRequest, TransferType, hold
from croupier.ledger.errors import LedgerImmutable, ledger_errors
from croupier.ledger.reconcile import Check
from croupier.monitoring.invariants import check_ledger
from croupier.monitoring.wallets import check_wallets
from tests.integration.monitoring.conftest import ETH, Corner, fresh_address, pay_on_chain


def open_alert(engine: Engine, kind: str, dedup_key: str) -> tuple[str, str] | None:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT severity, message FROM alerts "
                "WHERE kind = :kind AND dedup_key = :key AND acked_at IS NULL"
            ),
            {"kind": kind, "key": dedup_key},
        ).one_or_none()
    return None if row is None else (row.severity, row.message)


def test_an_on_chain_transfer_the_ledger_does_not_know_is_a_mismatch(
    corner: Corner, eth_client: EthereumClient
) -> None:
    address = fresh_address()
    hot = corner.open(AccountKind.HOT_WALLET, owner=address)
    source = corner.open(AccountKind.DEPOSITS_IN_FLIGHT)
    pay_on_chain(eth_client, address, ETH)
    corner.move(hot, source, ETH, TransferType.REFILL)
    readers = {"ethereum": eth_client}

    before = check_wallets(corner.engine, readers, account_ids=[hot.id])
    pay_on_chain(eth_client, address, ETH // 4)  # nobody booked this one
    after = check_wallets(corner.engine, readers, account_ids=[hot.id])

    assert [c.matches for c in before.checks] == [True]
    (mismatch,) = after.mismatches
    assert mismatch.chain_balance == ETH + ETH // 4 and mismatch.after.posted == ETH
    alert = open_alert(corner.engine, "wallet_mismatch", f"account-{hot.id}")
    assert alert is not None and alert[0] == "critical"
    assert f"difference {ETH // 4}" in alert[1]


def test_money_in_flight_as_a_hold_on_the_wallet_is_not_a_mismatch(
    corner: Corner, eth_client: EthereumClient
) -> None:
    address = fresh_address()
    hot = corner.open(AccountKind.HOT_WALLET, owner=address)
    cold = corner.open(AccountKind.COLD_WALLET)
    source = corner.open(AccountKind.DEPOSITS_IN_FLIGHT)
    corner.move(cold, source, ETH, TransferType.ADJUSTMENT)
    # A refill from cold is on its way: held in the ledger, already mined on chain.
    hold(
        corner.engine,
        HoldRequest(f"refill-{corner.tag}", hot.id, cold.id, ETH // 2, "ETH", TransferType.REFILL),
    )
    pay_on_chain(eth_client, address, ETH // 2)

    report = check_wallets(corner.engine, {"ethereum": eth_client}, account_ids=[hot.id])

    (check,) = report.checks
    assert check.matches and check.after.pending_in == ETH // 2


def test_a_wallet_whose_chain_cannot_be_read_is_reported_not_passed(corner: Corner) -> None:
    hot = corner.open(AccountKind.HOT_WALLET, owner=fresh_address())

    report = check_wallets(corner.engine, {}, account_ids=[hot.id])

    (check,) = report.unreadable
    assert not check.matches and "no ethereum node" in (check.error or "")
    assert open_alert(corner.engine, "wallet_unreadable", f"account-{hot.id}") is not None


def test_the_database_refuses_to_rewrite_a_posted_entry(corner: Corner) -> None:
    player = corner.open(AccountKind.PLAYER_CASH)
    bank = corner.open(AccountKind.DEPOSITS_IN_FLIGHT)
    deposit = corner.move(bank, player, 5 * ETH, TransferType.DEPOSIT)

    with pytest.raises(LedgerImmutable), ledger_errors(), corner.engine.begin() as conn:
        inflate(conn, deposit)


def test_a_tamper_with_the_trigger_disabled_is_found_by_reconciliation(corner: Corner) -> None:
    player = corner.open(AccountKind.PLAYER_CASH)
    bank = corner.open(AccountKind.DEPOSITS_IN_FLIGHT)
    deposit = corner.move(bank, player, 5 * ETH, TransferType.DEPOSIT)
    assert check_ledger(corner.engine, grace_s=0, account_ids=corner.ids).ok

    with superuser_tamper(corner.engine, deposit):
        report = check_ledger(corner.engine, grace_s=0, account_ids=corner.ids)

        found = {violation.check for violation in report.violations}
        assert {Check.BALANCE_MISMATCH, Check.JOURNAL_MISMATCH} <= found
        scope = ",".join(str(i) for i in sorted(corner.ids))
        alert = open_alert(corner.engine, "ledger_invariant", f"balance_mismatch:{scope}")
        assert alert is not None and alert[0] == "critical"
    assert check_ledger(corner.engine, grace_s=0, account_ids=corner.ids).ok


def inflate(conn: Connection, transfer_id: str, by: int = 1) -> None:
    conn.execute(
        text(
            "UPDATE ledger_entries SET amount = amount + :by "
            "WHERE transfer_id = :id AND direction = 'credit'"
        ),
        {"id": transfer_id, "by": by},
    )


@contextmanager
def superuser_tamper(engine: Engine, transfer_id: str) -> Iterator[None]:
    """Add 1000 to a posted credit entry with the append-only trigger off, as a superuser
    with a grudge would; undo it the same way afterwards so the session's ledger is whole."""

    def rewrite(by: int) -> None:
        with engine.begin() as conn:
            is_superuser = conn.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar_one()
            assert is_superuser, "this test needs a superuser connection"
            conn.execute(
                text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only")
            )
            inflate(conn, transfer_id, by)
            conn.execute(
                text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only")
            )

    rewrite(1000)
    try:
        yield
    finally:
        rewrite(-1000)
