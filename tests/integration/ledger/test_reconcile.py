"""Reconciliation on a database of its own: a whole ledger passes, and every kind of
damage is reported naming the account or transfer at fault."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from croupier.core.clock import ManualClock, SystemClock
from croupier.core.money import Currency
from croupier.ledger import (
    Check,
    HoldRequest,
    ReconciliationReport,
    TransferRequest,
    TransferType,
    ensure_partitions,
    expire_pending,
    hold,
    reconcile,
    transfer,
)
from tests.integration.ledger.conftest import Books

ETH = Currency.ETH


@pytest.fixture
def fresh_books(fresh_engine: Engine) -> Books:
    books = Books(fresh_engine)
    player = books.player("a", funded=1_000)
    transfer(
        fresh_engine,
        TransferRequest(books.tid("bet"), player.id, books.house.id, 300, ETH, TransferType.BET),
    )
    return books


def checks(report: ReconciliationReport) -> set[Check]:
    return {violation.check for violation in report.violations}


def tamper(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def run_cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CROUPIER_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return subprocess.run(
        [sys.executable, "-m", "croupier.workers.cli", "reconcile", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_whole_ledger_reconciles(fresh_books: Books) -> None:
    report = reconcile(fresh_books.engine, SystemClock())

    assert report.ok, report.violations
    assert report.accounts_checked == 3 and report.entries_checked == 4
    [eth] = report.totals
    assert (eth.currency, eth.debits, eth.credits) == ("ETH", 1_300, 1_300)


def test_an_entry_without_its_pair_unbalances_the_currency_and_its_account(
    fresh_books: Books,
) -> None:
    player = fresh_books.accounts[-1]
    tamper(
        fresh_books.engine,
        "INSERT INTO ledger_entries (transfer_id, account_id, direction, amount, currency, "
        "type, created_at) VALUES ('forged', :account, 'credit', 5000, 'ETH', 'deposit', now())",
        account=player.id,
    )

    report = reconcile(fresh_books.engine)

    assert checks(report) == {
        Check.CURRENCY_IMBALANCE,
        Check.BALANCE_MISMATCH,
        Check.JOURNAL_MISMATCH,
    }
    mismatch = next(v for v in report.violations if v.check is Check.BALANCE_MISMATCH)
    assert mismatch.account_id == player.id
    assert "debits 300 / credits 1000, its entries sum to 300 / 6000" in mismatch.message
    assert any(v.transfer_id == "forged" for v in report.violations)


def test_a_balance_edited_behind_the_ledgers_back_is_named(fresh_books: Books) -> None:
    player = fresh_books.accounts[-1]
    tamper(
        fresh_books.engine,
        "UPDATE account_balances SET credits_posted = credits_posted + 1 WHERE account_id = :id",
        id=player.id,
    )

    report = reconcile(fresh_books.engine)

    assert checks(report) == {Check.BALANCE_MISMATCH}
    assert [v.account_id for v in report.violations] == [player.id]


def test_a_player_below_zero_is_named(fresh_books: Books) -> None:
    player = fresh_books.accounts[-1]
    tamper(
        fresh_books.engine,
        "ALTER TABLE account_balances DROP CONSTRAINT ck_account_balances_debits_within_credits",
    )
    tamper(
        fresh_books.engine,
        "UPDATE account_balances SET debits_posted = 10000 WHERE account_id = :id",
        id=player.id,
    )

    report = reconcile(fresh_books.engine)

    assert Check.NEGATIVE_PLAYER_CASH in checks(report)
    negative = next(v for v in report.violations if v.check is Check.NEGATIVE_PLAYER_CASH)
    assert negative.account_id == player.id and "balance is -9000" in negative.message


def test_a_hold_left_pending_past_its_timeout_is_reported_until_swept(fresh_books: Books) -> None:
    player = fresh_books.accounts[-1]
    held = hold(
        fresh_books.engine,
        HoldRequest(
            fresh_books.tid("stake"),
            player.id,
            fresh_books.house.id,
            50,
            ETH,
            TransferType.BET,
            timeout_s=60,
        ),
    )
    assert held.expires_at is not None
    later = ManualClock(held.expires_at + timedelta(seconds=5))

    overdue = reconcile(fresh_books.engine, later)
    within_grace = reconcile(fresh_books.engine, later, grace_s=10)
    expire_pending(fresh_books.engine, later)
    swept = reconcile(fresh_books.engine, later)

    assert checks(overdue) == {Check.OVERDUE_PENDING}
    assert overdue.violations[0].transfer_id == held.id
    assert overdue.violations[0].account_id == player.id
    assert within_grace.ok and swept.ok


def test_a_missing_future_partition_is_reported_until_created(fresh_books: Books) -> None:
    with fresh_books.engine.connect() as conn:
        next_month = conn.execute(
            text(
                "SELECT 'ledger_entries_y' || to_char(date_trunc('month', now() AT TIME ZONE "
                "'UTC') + interval '1 month', 'YYYY\"m\"MM')"
            )
        ).scalar_one()
    tamper(fresh_books.engine, f"DROP TABLE {next_month}")

    missing = reconcile(fresh_books.engine)
    created = ensure_partitions(fresh_books.engine)
    repaired = reconcile(fresh_books.engine)

    assert [v.message for v in missing.violations] == [f"partition {next_month} does not exist yet"]
    assert (created, ensure_partitions(fresh_books.engine)) == (1, 0)
    assert repaired.ok


def test_the_command_exits_zero_on_a_whole_ledger(fresh_books: Books) -> None:
    done = run_cli(fresh_books.engine, "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["totals"][0]["debits"] == "1300"


def test_the_command_exits_one_and_names_the_account_on_a_violation(fresh_books: Books) -> None:
    player = fresh_books.accounts[-1]
    tamper(
        fresh_books.engine,
        "UPDATE account_balances SET credits_posted = credits_posted + 1 WHERE account_id = :id",
        id=player.id,
    )

    as_json = run_cli(fresh_books.engine, "--json")
    human = run_cli(fresh_books.engine)

    assert as_json.returncode == 1 and human.returncode == 1
    [violation] = json.loads(as_json.stdout)["violations"]
    assert violation["check"] == "balance_mismatch" and violation["account_id"] == player.id
    assert f"account {player.id} (player_cash ETH)" in " ".join(human.stdout.split())
