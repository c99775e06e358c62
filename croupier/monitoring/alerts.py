"""Money alarms: one row per open problem, acknowledged by a named staff member.

``raise_alert`` is the one way anything in Croupier raises an alarm. It writes the row
in the caller's transaction (so an alarm about a posting commits or rolls back with
whatever found it), logs at error level for the log pipeline, and counts it for
Prometheus. With a ``dedup_key``, a problem that is still open (say, a wallet mismatch
seen by every reconciliation run) bumps its alert's ``occurrences`` instead of adding
a row, so the queue holds problems, not repetitions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import Connection, Row, select, text

from croupier.core.errors import InvalidInput
from croupier.monitoring.errors import AlertNotFound
from croupier.monitoring.metrics import ALERTS_RAISED
from croupier.monitoring.tables import alerts

log = structlog.get_logger(__name__)

KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_MESSAGE_CHARS = 2000
MAX_DEDUP_KEY_CHARS = 255
MAX_DETAILS_BYTES = 64 * 1024
MAX_PAGE_SIZE = 200


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"  # someone should look today
    CRITICAL = "critical"  # money may be wrong or leaving: look now


class AlertKind(StrEnum):
    """The kinds monitoring itself raises; other domains may use their own names."""

    LEDGER_INVARIANT = "ledger_invariant"
    WALLET_MISMATCH = "wallet_mismatch"
    WALLET_UNREADABLE = "wallet_unreadable"
    DEPOSIT_ADDRESS_MISMATCH = "deposit_address_mismatch"
    DEPOSIT_BOOKS_MISMATCH = "deposit_books_mismatch"
    HOUSE_DRIFT = "house_drift"
    OUTCOME_BIAS = "outcome_bias"
    WITHDRAWAL_VELOCITY = "withdrawal_velocity"


class AlertFilter(StrEnum):
    OPEN = "open"
    ACKED = "acked"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    severity: Severity
    message: str
    details: dict[str, Any]
    dedup_key: str | None
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    acked_at: datetime | None
    acked_by: str | None
    ack_note: str | None

    @property
    def open(self) -> bool:
        return self.acked_at is None


@dataclass(frozen=True, slots=True)
class AlertPage:
    """Newest first; ``next_cursor`` fetches older alerts, None on the last page."""

    alerts: tuple[Alert, ...]
    next_cursor: str | None


# Upsert on the partial unique index of open alerts; a repeat keeps the worst severity.
_RAISE = text(
    """
    INSERT INTO alerts AS a (kind, severity, message, details, dedup_key)
    VALUES (:kind, :severity, :message, CAST(:details AS jsonb), :dedup_key)
    ON CONFLICT (kind, dedup_key) WHERE acked_at IS NULL AND dedup_key IS NOT NULL
    DO UPDATE SET
        occurrences = a.occurrences + 1,
        last_seen_at = now(),
        message = excluded.message,
        details = excluded.details,
        severity = CASE WHEN a.severity = 'critical' OR excluded.severity = 'critical'
                        THEN 'critical'
                        WHEN a.severity = 'warning' OR excluded.severity = 'warning'
                        THEN 'warning' ELSE 'info' END
    RETURNING *
    """
)


def raise_alert(
    conn: Connection,
    kind: str,
    severity: Severity,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    dedup_key: str | None = None,
) -> Alert:
    """Record an alarm in the caller's transaction; log it and count it."""
    severity = Severity(severity)
    details_json = _checked(kind, message, details, dedup_key)
    row = conn.execute(
        _RAISE,
        {
            "kind": kind,
            "severity": severity.value,
            "message": message,
            "details": details_json,
            "dedup_key": dedup_key,
        },
    ).one()
    alert = _alert(row)
    ALERTS_RAISED.labels(kind=kind, severity=severity.value).inc()
    log.error(
        "alert_raised",
        alert_id=alert.id,
        kind=kind,
        severity=severity.value,
        message=message,
        occurrences=alert.occurrences,
        dedup_key=dedup_key,
    )
    return alert


def get_alert(conn: Connection, alert_id: int) -> Alert:
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one_or_none()
    if row is None:
        raise AlertNotFound(f"alert {alert_id} does not exist")
    return _alert(row)


def ack_alert(conn: Connection, alert_id: int, acked_by: str, note: str | None) -> Alert:
    """Acknowledge an alert; the first acknowledgement stands (a repeat returns it).

    Once acknowledged, a recurrence of the same problem opens a new alert.
    """
    if not 1 <= len(acked_by) <= 255:
        raise InvalidInput("acked_by must be 1-255 characters")
    if note is not None and len(note) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"an acknowledgement note is at most {MAX_MESSAGE_CHARS} characters")
    row = conn.execute(
        alerts.update()
        .where(alerts.c.id == alert_id, alerts.c.acked_at.is_(None))
        .values(acked_at=text("now()"), acked_by=acked_by, ack_note=note)
        .returning(*alerts.c)
    ).one_or_none()
    if row is not None:
        log.info("alert_acknowledged", alert_id=alert_id, acked_by=acked_by)
        return _alert(row)
    return get_alert(conn, alert_id)


def list_alerts(
    conn: Connection,
    *,
    status: AlertFilter = AlertFilter.OPEN,
    severity: Severity | None = None,
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AlertPage:
    """One page of alerts, newest first (keyset on id, so deep pages cost the same)."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page size must be from 1 to {MAX_PAGE_SIZE}, got {limit!r}")
    query = select(alerts).order_by(alerts.c.id.desc()).limit(limit + 1)
    if status is AlertFilter.OPEN:
        query = query.where(alerts.c.acked_at.is_(None))
    elif status is AlertFilter.ACKED:
        query = query.where(alerts.c.acked_at.is_not(None))
    if severity is not None:
        query = query.where(alerts.c.severity == Severity(severity).value)
    if kind is not None:
        query = query.where(alerts.c.kind == kind)
    if cursor is not None:
        query = query.where(alerts.c.id < _decode_cursor(cursor))
    rows = conn.execute(query).all()
    page = tuple(_alert(row) for row in rows[:limit])
    next_cursor = str(page[-1].id) if len(rows) > limit else None
    return AlertPage(alerts=page, next_cursor=next_cursor)


def open_alert_counts(conn: Connection) -> dict[Severity, int]:
    rows = conn.execute(
        text("SELECT severity, count(*) FROM alerts WHERE acked_at IS NULL GROUP BY severity")
    ).all()
    counts = dict.fromkeys(Severity, 0)
    for severity, count in rows:
        counts[Severity(severity)] = int(count)
    return counts


def _checked(
    kind: str, message: str, details: Mapping[str, Any] | None, dedup_key: str | None
) -> str:
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise InvalidInput(f"alert kind must match {KIND_RE.pattern}, got {kind!r}")
    if not 1 <= len(message) <= MAX_MESSAGE_CHARS:
        raise InvalidInput(f"an alert message is 1-{MAX_MESSAGE_CHARS} characters")
    if dedup_key is not None and not 1 <= len(dedup_key) <= MAX_DEDUP_KEY_CHARS:
        raise InvalidInput(f"a dedup key is 1-{MAX_DEDUP_KEY_CHARS} characters")
    try:
        details_json = json.dumps(dict(details or {}), sort_keys=True, default=str)
    except (TypeError, ValueError):
        raise InvalidInput("alert details must be a JSON object") from None
    if len(details_json.encode()) > MAX_DETAILS_BYTES:
        raise InvalidInput(f"alert details are at most {MAX_DETAILS_BYTES} bytes of JSON")
    return details_json


def _decode_cursor(cursor: str) -> int:
    if not cursor.isdigit() or len(cursor) > 19:
        raise InvalidInput("alert cursor is not one this API issued")
    return int(cursor)


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        kind=row.kind,
        severity=Severity(row.severity),
        message=row.message,
        details=dict(row.details),
        dedup_key=row.dedup_key,
        occurrences=row.occurrences,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        acked_at=row.acked_at,
        acked_by=row.acked_by,
        ack_note=row.ack_note,
    )
