"""Changing a responsible-gambling limit: stricter at once, looser only after a delay.

Every request is a row in ``rg_limit_changes``. A tightening (or an equal value) is
applied in the same transaction. A loosening waits as ``pending`` until its
``effective_at`` (at least 24 hours later); the limit-change workflow's timer then
calls ``apply_limit_change``. A newer request for the same limit supersedes a pending
one; asking again for exactly the pending value returns it unchanged, so a retried
request neither restarts the delay nor loses it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.compliance.errors import InvalidLimit, LimitChangeNotFound
from croupier.compliance.limits import LimitKey, is_loosening
from croupier.compliance.tables import rg_limit_changes, rg_limits

MIN_INCREASE_DELAY = timedelta(hours=24)
MAX_PENDING_PAGE = 50


class ChangeStatus(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class LimitChange:
    id: uuid.UUID
    user_id: uuid.UUID
    key: LimitKey
    old_value: int | None
    new_value: int | None
    status: ChangeStatus
    requested_at: datetime
    effective_at: datetime


def request_limit_change(
    engine: Engine,
    user_id: uuid.UUID,
    key: LimitKey,
    new_value: int | None,
    *,
    now: datetime,
    increase_delay: timedelta,
) -> LimitChange:
    """Record a change and apply it now if it is not a loosening; else leave it pending."""
    assert increase_delay >= MIN_INCREASE_DELAY, "loosening a limit waits at least 24 hours"
    key.check_value(new_value)
    with engine.begin() as conn:
        _lock_limit(conn, user_id, key)
        current = conn.execute(
            select(rg_limits.c.value).where(
                rg_limits.c.user_id == user_id, rg_limits.c.limit_key == key.render()
            )
        ).scalar_one_or_none()
        pending = _pending(conn, user_id, key)
        loosening = is_loosening(current, new_value)
        if loosening and pending is not None and pending.new_value == new_value:
            return _change(pending)
        if pending is not None:
            _settle(conn, pending.id, ChangeStatus.SUPERSEDED, now)
        change = LimitChange(
            id=uuid.uuid4(),
            user_id=user_id,
            key=key,
            old_value=current,
            new_value=new_value,
            status=ChangeStatus.PENDING if loosening else ChangeStatus.APPLIED,
            requested_at=now,
            effective_at=now + increase_delay if loosening else now,
        )
        _insert(conn, change)
        if not loosening:
            _set_limit(conn, user_id, key, new_value, now)
    return change


def apply_limit_change(engine: Engine, change_id: uuid.UUID, *, now: datetime) -> ChangeStatus:
    """Put a pending loosening in force once its delay has run; what became of it.

    Safe to run twice: an applied change stays applied, a superseded one is left alone.
    ``now`` is the workflow's time, the clock the delay was measured on.
    """
    with engine.begin() as conn:
        row = conn.execute(
            select(rg_limit_changes).where(rg_limit_changes.c.id == change_id).with_for_update()
        ).first()
        if row is None:
            raise LimitChangeNotFound(f"no limit change with id {change_id}")
        if row.status != ChangeStatus.PENDING.value:
            return ChangeStatus(row.status)
        if now < row.effective_at:
            raise InvalidLimit(
                f"limit change {change_id} takes effect at {row.effective_at.isoformat()}, "
                f"not at {now.isoformat()}"
            )
        _set_limit(conn, row.user_id, LimitKey.parse(row.limit_key), row.new_value, now)
        _settle(conn, change_id, ChangeStatus.APPLIED, now)
    return ChangeStatus.APPLIED


def pending_changes(conn: Connection, user_id: uuid.UUID) -> list[LimitChange]:
    rows = conn.execute(
        select(rg_limit_changes)
        .where(
            rg_limit_changes.c.user_id == user_id,
            rg_limit_changes.c.status == ChangeStatus.PENDING.value,
        )
        .order_by(rg_limit_changes.c.limit_key)
        .limit(MAX_PENDING_PAGE)
    ).all()
    return [_change(row) for row in rows]


def _lock_limit(conn: Connection, user_id: uuid.UUID, key: LimitKey) -> None:
    """Serialise requests for one limit of one player (the row may not exist yet)."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
        {"name": f"rg-limit:{user_id}:{key.render()}"},
    )


def _pending(conn: Connection, user_id: uuid.UUID, key: LimitKey) -> Any:
    return conn.execute(
        select(rg_limit_changes).where(
            rg_limit_changes.c.user_id == user_id,
            rg_limit_changes.c.limit_key == key.render(),
            rg_limit_changes.c.status == ChangeStatus.PENDING.value,
        )
    ).first()


def _settle(conn: Connection, change_id: uuid.UUID, status: ChangeStatus, now: datetime) -> None:
    conn.execute(
        update(rg_limit_changes)
        .where(rg_limit_changes.c.id == change_id)
        .values(status=status.value, settled_at=now)
    )


def _insert(conn: Connection, change: LimitChange) -> None:
    settled = change.status is not ChangeStatus.PENDING
    conn.execute(
        insert(rg_limit_changes).values(
            id=change.id,
            user_id=change.user_id,
            limit_key=change.key.render(),
            old_value=change.old_value,
            new_value=change.new_value,
            status=change.status.value,
            requested_at=change.requested_at,
            effective_at=change.effective_at,
            settled_at=change.requested_at if settled else None,
        )
    )


def _set_limit(
    conn: Connection, user_id: uuid.UUID, key: LimitKey, value: int | None, now: datetime
) -> None:
    where = (rg_limits.c.user_id == user_id, rg_limits.c.limit_key == key.render())
    if value is None:
        conn.execute(delete(rg_limits).where(*where))
        return
    conn.execute(
        pg_insert(rg_limits)
        .values(user_id=user_id, limit_key=key.render(), value=value, updated_at=now)
        .on_conflict_do_update(
            index_elements=[rg_limits.c.user_id, rg_limits.c.limit_key],
            set_={"value": value, "updated_at": now},
        )
    )


def _change(row: Any) -> LimitChange:
    return LimitChange(
        id=row.id,
        user_id=row.user_id,
        key=LimitKey.parse(row.limit_key),
        old_value=row.old_value,
        new_value=row.new_value,
        status=ChangeStatus(row.status),
        requested_at=row.requested_at,
        effective_at=row.effective_at,
    )
