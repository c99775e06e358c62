"""The staff audit log is append-only in the database, and its hash chain shows any
edited or removed row, even one changed by a superuser who disabled the triggers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from croupier.compliance.audit import (
    GENESIS_HASH,
    Anchor,
    entry_hash,
    record_staff_action,
    verify_chain,
)
from croupier.compliance.errors import InvalidAuditEntry
from croupier.ledger import migrate
from croupier.ledger.db import drop_database, ensure_database, make_engine


@pytest.fixture(scope="module")
def scratch_url(postgres_server_url: str) -> Iterator[str]:
    """A database of its own: these tests tamper with the log on purpose."""
    name = f"croupier_audit_{uuid.uuid4().hex[:10]}"
    url = ensure_database(postgres_server_url, name)
    migrate.upgrade(url)
    yield url
    drop_database(postgres_server_url, name)


@pytest.fixture
def scratch(scratch_url: str) -> Iterator[Engine]:
    """The scratch database with an empty log at the start of each test."""
    engine = make_engine(scratch_url, pool_size=4)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate"))
        conn.execute(text("TRUNCATE audit_log"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate"))
    yield engine
    engine.dispose()


def append(engine: Engine, count: int) -> None:
    for number in range(count):
        with engine.begin() as conn:
            record_staff_action(
                conn,
                uuid.uuid4(),
                "withdrawal.approve",
                f"withdrawal:{uuid.uuid4()}",
                {"amount": str(10**18 + number), "currency": "ETH", "note": "Ünïcode ✓"},
            )


def tamper(engine: Engine, statement: str) -> None:
    """What a superuser can do: switch the guard off, change history, switch it on."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text(statement))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "croupier.workers.cli", "audit", "verify", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CROUPIER_DATABASE_URL": database_url},
        timeout=60,
        check=False,
    )


def test_each_row_holds_the_hash_of_the_one_before(scratch: Engine) -> None:
    append(scratch, 3)

    with scratch.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_log ORDER BY seq")).all()

    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
    for row in rows:
        recomputed = entry_hash(
            row.seq, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash
        )
        assert recomputed == row.hash
    report = verify_chain(scratch)
    assert report.intact
    assert (report.rows_checked, report.head_seq, report.head_hash) == (3, 3, rows[-1].hash)


def test_the_database_refuses_to_change_or_remove_audit_rows(scratch: Engine) -> None:
    append(scratch, 1)

    for statement in (
        "UPDATE audit_log SET actor = 'system:someone-else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), scratch.begin() as conn:
            conn.execute(text(statement))

    assert verify_chain(scratch).rows_checked == 1


def test_the_database_refuses_a_row_that_does_not_extend_the_chain(scratch: Engine) -> None:
    append(scratch, 2)

    with pytest.raises(DBAPIError, match="does not extend the chain"), scratch.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log VALUES (3, now(), 'system:x', 'x.y', 's', '{}', :prev, :h)"
            ),
            {"prev": GENESIS_HASH, "h": "a" * 64},
        )


def test_concurrent_appends_never_fork_the_chain(scratch: Engine) -> None:
    threads = [threading.Thread(target=append, args=(scratch, 10)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    report = verify_chain(scratch)
    assert report.intact
    assert report.rows_checked == report.head_seq == 40


def test_an_edited_row_is_named_by_verify(scratch: Engine, scratch_url: str) -> None:
    append(scratch, 5)
    tamper(scratch, 'UPDATE audit_log SET details = \'{"amount": "1"}\' WHERE seq = 3')

    report = verify_chain(scratch)
    cli = run_cli(scratch_url, "--json")

    assert report.first_break is not None
    assert report.first_break.seq == 3
    assert "edited" in report.first_break.reason
    assert cli.returncode == 1, cli.stderr
    assert json.loads(cli.stdout) == {
        "intact": False,
        "rows_checked": 3,
        "head_seq": 2,
        "head_hash": json.loads(cli.stdout)["head_hash"],
        "first_broken_seq": 3,
        "reason": report.first_break.reason,
    }


def test_a_row_edited_with_a_recomputed_hash_breaks_the_next_link(scratch: Engine) -> None:
    append(scratch, 4)
    with scratch.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_log WHERE seq = 2")).one()
    forged = entry_hash(2, row.at, row.actor, row.action, row.subject, {}, row.prev_hash)
    tamper(scratch, f"UPDATE audit_log SET details = '{{}}', hash = '{forged}' WHERE seq = 2")

    report = verify_chain(scratch)

    assert report.first_break is not None
    assert report.first_break.seq == 3
    assert "seq 2" in report.first_break.reason


def test_a_removed_row_is_named_by_verify(scratch: Engine, scratch_url: str) -> None:
    append(scratch, 5)
    tamper(scratch, "DELETE FROM audit_log WHERE seq = 4")

    cli = run_cli(scratch_url)

    assert cli.returncode == 1
    assert "audit row 4" in cli.stdout
    assert "missing" in cli.stdout


def test_a_removed_first_row_is_named_by_verify(scratch: Engine) -> None:
    append(scratch, 2)
    tamper(scratch, "DELETE FROM audit_log WHERE seq = 1")

    report = verify_chain(scratch)

    assert report.first_break is not None and report.first_break.seq == 1


def test_rows_cut_off_the_end_show_against_an_earlier_anchor(
    scratch: Engine, scratch_url: str
) -> None:
    append(scratch, 4)
    head = verify_chain(scratch)
    anchor = f"{head.head_seq}:{head.head_hash}"
    tamper(scratch, "DELETE FROM audit_log WHERE seq = 4")

    without_anchor = run_cli(scratch_url)
    with_anchor = run_cli(scratch_url, "--anchor", anchor)

    assert without_anchor.returncode == 0, "the chain alone cannot see a cut-off tail"
    assert with_anchor.returncode == 1
    assert "audit row 4" in with_anchor.stdout


def test_an_intact_log_verifies_from_the_command_line(scratch: Engine, scratch_url: str) -> None:
    append(scratch, 3)
    head = verify_chain(scratch)

    cli = run_cli(scratch_url, "--anchor", f"2:{_hash_of(scratch, 2)}", "--json")

    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert json.loads(cli.stdout)["head_hash"] == head.head_hash
    assert verify_chain(scratch, anchor=Anchor(3, "f" * 64)).first_break is not None


def test_floats_and_unknown_actors_are_refused_before_anything_is_written(
    scratch: Engine,
) -> None:
    with pytest.raises(InvalidAuditEntry, match="float"), scratch.begin() as conn:
        record_staff_action(conn, uuid.uuid4(), "bonus.grant", "bonus:1", {"amount": 1.5})
    with pytest.raises(InvalidAuditEntry, match="actor"), scratch.begin() as conn:
        record_staff_action(conn, "mallory", "bonus.grant", "bonus:1", {})

    assert verify_chain(scratch).rows_checked == 0


def _hash_of(engine: Engine, seq: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq}).scalar_one()
        )
