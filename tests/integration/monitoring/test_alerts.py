"""Alerts: one row per open problem, an error log line and a Prometheus count each time."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, text
from structlog.testing import capture_logs

from croupier.core.errors import InvalidInput
from croupier.monitoring.alerts import (
    AlertFilter,
    Severity,
    ack_alert,
    get_alert,
    list_alerts,
    raise_alert,
)
from croupier.monitoring.errors import AlertNotFound


def raised_count(kind: str, severity: str) -> float:
    value = REGISTRY.get_sample_value(
        "croupier_alerts_raised_total", {"kind": kind, "severity": severity}
    )
    return value or 0.0


def test_raising_an_alert_stores_it_logs_it_and_counts_it(engine: Engine) -> None:
    before = raised_count("test_alarm", "critical")
    with capture_logs() as logs, engine.begin() as conn:
        alert = raise_alert(conn, "test_alarm", Severity.CRITICAL, "house moved", {"amount": "12"})

    with engine.connect() as conn:
        stored = get_alert(conn, alert.id)
    assert stored.open and stored.details == {"amount": "12"} and stored.occurrences == 1
    assert raised_count("test_alarm", "critical") == before + 1
    assert {"event": "alert_raised", "log_level": "error", "alert_id": alert.id}.items() <= (
        logs[-1].items()
    )


def test_an_alert_raised_in_a_rolled_back_transaction_never_existed(engine: Engine) -> None:
    key = uuid.uuid4().hex
    with pytest.raises(RuntimeError), engine.begin() as conn:
        raise_alert(conn, "test_alarm", Severity.INFO, "found", dedup_key=key)
        raise RuntimeError("the check failed after raising")

    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM alerts WHERE dedup_key = :key"), {"key": key}
        ).scalar_one()
    assert count == 0


def test_a_repeated_open_problem_bumps_one_alert_and_keeps_its_worst_severity(
    engine: Engine,
) -> None:
    key = uuid.uuid4().hex
    with engine.begin() as conn:
        first = raise_alert(conn, "test_alarm", Severity.CRITICAL, "first", dedup_key=key)
        again = raise_alert(conn, "test_alarm", Severity.WARNING, "second", dedup_key=key)

    assert again.id == first.id
    assert again.occurrences == 2 and again.severity is Severity.CRITICAL
    assert again.message == "second"


def test_after_an_acknowledgement_a_recurrence_opens_a_new_alert(engine: Engine) -> None:
    key = uuid.uuid4().hex
    with engine.begin() as conn:
        first = raise_alert(conn, "test_alarm", Severity.WARNING, "seen", dedup_key=key)
        acked = ack_alert(conn, first.id, "staff-1", "looked at it")
        repeat_ack = ack_alert(conn, first.id, "staff-2", "me too")
        recurrence = raise_alert(conn, "test_alarm", Severity.WARNING, "seen", dedup_key=key)

    assert acked.acked_by == "staff-1" and acked.ack_note == "looked at it"
    assert repeat_ack.acked_by == "staff-1"  # the first acknowledgement stands
    assert recurrence.id != first.id and recurrence.open


def test_pages_run_newest_first_without_gaps_or_repeats(engine: Engine) -> None:
    kind = f"test_page_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        ids = [raise_alert(conn, kind, Severity.INFO, f"alert {n}").id for n in range(5)]

    seen: list[int] = []
    cursor = None
    with engine.connect() as conn:
        while True:
            page = list_alerts(conn, kind=kind, status=AlertFilter.ALL, limit=2, cursor=cursor)
            seen += [alert.id for alert in page.alerts]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == sorted(ids, reverse=True)


def test_bad_alerts_are_refused_before_the_database(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(InvalidInput):
            raise_alert(conn, "Not A Kind", Severity.INFO, "x")
        with pytest.raises(InvalidInput):
            raise_alert(conn, "test_alarm", Severity.INFO, "")
        with pytest.raises(AlertNotFound):
            ack_alert(conn, 2**62, "staff", None)
