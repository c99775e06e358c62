"""The withdrawal circuit breaker: its state in PostgreSQL, tripped by velocity, resumed by staff.

While tripped (``approvals_paused``), withdrawals are not auto-approved: the withdrawal
workflow parks them (search attribute ``CroupierStatus = PAUSED_STATUS``) until a
compliance officer approves each one, or resumes the breaker, which signals every parked
withdrawal with ``BREAKER_RESUMED_SIGNAL``. Holds stay in place meanwhile; nothing is
voided by a trip.

``note_withdrawal_request`` serializes on the breaker row (``FOR UPDATE``), so two
requests arriving together are judged one after the other and cannot both slip under
a limit that together they break. Withdrawals are rare next to bets; this lock is
cheap insurance, not a bottleneck.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Row, select, text

from croupier.core.errors import InvalidInput
from croupier.monitoring.alerts import AlertKind, Severity, raise_alert
from croupier.monitoring.errors import BreakerAlreadyTripped, BreakerNotTripped
from croupier.monitoring.tables import circuit_breakers, withdrawal_velocity
from croupier.monitoring.velocity import (
    MAX_WINDOW_S,
    Breach,
    VelocityPolicy,
    WithdrawalSeen,
)

log = structlog.get_logger(__name__)

WITHDRAWALS_BREAKER = "withdrawals"
# The signal the resume route sends to every parked withdrawal workflow.
BREAKER_RESUMED_SIGNAL = "circuit_breaker_resumed"
# The CroupierStatus search attribute a parked withdrawal workflow sets.
PAUSED_STATUS = "paused_by_circuit_breaker"
SYSTEM_ACTOR = "system"
# Requests are kept as long as the longest window any policy may use.
VELOCITY_RETENTION = timedelta(seconds=MAX_WINDOW_S)
MAX_REASON_CHARS = 1000


@dataclass(frozen=True, slots=True)
class BreakerResumed:
    """Payload of ``BREAKER_RESUMED_SIGNAL``: who resumed, why, when (ISO 8601)."""

    resumed_by: str
    reason: str
    resumed_at: str


@dataclass(frozen=True, slots=True)
class BreakerState:
    name: str
    tripped: bool
    reason: str | None
    tripped_at: datetime | None
    tripped_by: str | None
    resumed_at: datetime | None
    resumed_by: str | None
    resume_reason: str | None

    @property
    def paused(self) -> bool:
        """True while withdrawals must not be approved automatically."""
        return self.tripped


def breaker_state(conn: Connection, name: str = WITHDRAWALS_BREAKER) -> BreakerState:
    row = conn.execute(select(circuit_breakers).where(circuit_breakers.c.name == name)).one()
    return _state(row)


def approvals_paused(conn: Connection) -> bool:
    """Whether withdrawal auto-approval is paused right now."""
    return breaker_state(conn).paused


def note_withdrawal_request(
    conn: Connection, seen: WithdrawalSeen, policy: VelocityPolicy
) -> BreakerState:
    """Record a withdrawal request, judge the window it closes, trip on a breach.

    Runs in the caller's transaction and never commits. Idempotent on the withdrawal id:
    a retried activity records the request once and is judged again harmlessly.
    """
    state = _locked_state(conn, WITHDRAWALS_BREAKER)
    conn.execute(
        text(
            """
            INSERT INTO withdrawal_velocity (
                withdrawal_id, player_id, currency, amount, player_since, requested_at)
            VALUES (:withdrawal_id, :player_id, :currency, :amount, :player_since,
                    :requested_at)
            ON CONFLICT (withdrawal_id) DO NOTHING
            """
        ),
        {
            "withdrawal_id": seen.withdrawal_id,
            "player_id": seen.player_id,
            "currency": seen.currency.value,
            "amount": seen.amount,
            "player_since": seen.player_since,
            "requested_at": seen.requested_at,
        },
    )
    conn.execute(
        withdrawal_velocity.delete().where(
            withdrawal_velocity.c.requested_at < seen.requested_at - VELOCITY_RETENTION
        )
    )
    if state.tripped:
        return state
    breaches = policy.breaches(_window(conn, policy, seen.requested_at, state.resumed_at))
    if not breaches:
        return state
    return _trip(conn, SYSTEM_ACTOR, _trip_reason(breaches), [b.to_json() for b in breaches])


def trip(conn: Connection, actor: str, reason: str) -> BreakerState:
    """Pause withdrawals by hand (an ops decision, e.g. during an incident)."""
    _check_actor_and_reason(actor, reason)
    if _locked_state(conn, WITHDRAWALS_BREAKER).tripped:
        raise BreakerAlreadyTripped("withdrawal auto-approval is already paused")
    return _trip(conn, actor, reason, [])


def resume(conn: Connection, actor: str, reason: str) -> BreakerState:
    """Close a tripped breaker: auto-approval resumes for requests from now on."""
    _check_actor_and_reason(actor, reason)
    if not _locked_state(conn, WITHDRAWALS_BREAKER).tripped:
        raise BreakerNotTripped("withdrawal auto-approval is not paused")
    row = conn.execute(
        circuit_breakers.update()
        .where(circuit_breakers.c.name == WITHDRAWALS_BREAKER)
        .values(
            state="closed",
            reason=None,
            tripped_at=None,
            tripped_by=None,
            resumed_at=text("now()"),
            resumed_by=actor,
            resume_reason=reason,
        )
        .returning(*circuit_breakers.c)
    ).one()
    _record_event(conn, "resumed", actor, reason, {})
    log.warning("circuit_breaker_resumed", breaker=WITHDRAWALS_BREAKER, actor=actor, reason=reason)
    return _state(row)


def _window(
    conn: Connection, policy: VelocityPolicy, now: datetime, resumed_at: datetime | None
) -> list[WithdrawalSeen]:
    """The window's requests, newest first; at most one more than the count limit,
    which is enough: past it, the count rule is broken whatever the rest hold."""
    v = withdrawal_velocity.c
    rows = conn.execute(
        select(withdrawal_velocity)
        # No upper bound: a request stamped later but judged earlier still counts here.
        .where(v.requested_at >= policy.window_start(now, resumed_at))
        .order_by(v.requested_at.desc())
        .limit(policy.max_requests + 1)
    ).all()
    return [
        WithdrawalSeen(
            withdrawal_id=row.withdrawal_id,
            player_id=row.player_id,
            currency=row.currency,
            amount=row.amount,
            requested_at=row.requested_at,
            player_since=row.player_since,
        )
        for row in rows
    ]


def _trip(
    conn: Connection, actor: str, reason: str, breaches: list[dict[str, str | None]]
) -> BreakerState:
    row = conn.execute(
        circuit_breakers.update()
        .where(circuit_breakers.c.name == WITHDRAWALS_BREAKER)
        .values(state="tripped", reason=reason, tripped_at=text("now()"), tripped_by=actor)
        .returning(*circuit_breakers.c)
    ).one()
    _record_event(conn, "tripped", actor, reason, {"breaches": breaches})
    raise_alert(
        conn,
        AlertKind.WITHDRAWAL_VELOCITY,
        Severity.CRITICAL if actor == SYSTEM_ACTOR else Severity.WARNING,
        f"withdrawal auto-approval paused by {actor}: {reason}",
        {"breaker": WITHDRAWALS_BREAKER, "breaches": breaches},
    )
    return _state(row)


def _trip_reason(breaches: list[Breach]) -> str:
    return "velocity limits exceeded: " + "; ".join(b.describe() for b in breaches)


def _record_event(
    conn: Connection, event: str, actor: str, reason: str, details: dict[str, Any]
) -> None:
    conn.execute(
        text(
            """
            INSERT INTO circuit_breaker_events (name, event, actor, reason, details)
            VALUES (:name, :event, :actor, :reason, CAST(:details AS jsonb))
            """
        ),
        {
            "name": WITHDRAWALS_BREAKER,
            "event": event,
            "actor": actor,
            "reason": reason[:MAX_REASON_CHARS],
            "details": json.dumps(details),
        },
    )


def _locked_state(conn: Connection, name: str) -> BreakerState:
    row = conn.execute(
        select(circuit_breakers).where(circuit_breakers.c.name == name).with_for_update()
    ).one()
    return _state(row)


def _check_actor_and_reason(actor: str, reason: str) -> None:
    if not 1 <= len(actor) <= 255:
        raise InvalidInput("the actor must be 1-255 characters")
    if not 1 <= len(reason.strip()) <= MAX_REASON_CHARS:
        raise InvalidInput(f"give a reason of 1-{MAX_REASON_CHARS} characters")


def _state(row: Row[Any]) -> BreakerState:
    return BreakerState(
        name=row.name,
        tripped=row.state == "tripped",
        reason=row.reason,
        tripped_at=row.tripped_at,
        tripped_by=row.tripped_by,
        resumed_at=row.resumed_at,
        resumed_by=row.resumed_by,
        resume_reason=row.resume_reason,
    )
