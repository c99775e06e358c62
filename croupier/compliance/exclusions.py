"""Self-exclusion and cool-off: a player's own block on betting and depositing.

Both run to their end: nobody, the player included, can lift one early, and a new one
may only end later than the one running (an exclusion row is never changed; the
database refuses it). A cool-off is a short break (1 to 42 days); a self-exclusion is
long (6 months to 5 years). Withdrawals stay open throughout.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, text

from croupier.compliance.errors import ExclusionCannotBeShortened, InvalidLimit
from croupier.compliance.limits import ExclusionKind, exclusions_until
from croupier.compliance.tables import rg_exclusions

DURATION_DAYS: dict[ExclusionKind, range] = {
    ExclusionKind.COOL_OFF: range(1, 42 + 1),
    ExclusionKind.SELF_EXCLUSION: range(180, 5 * 365 + 1),
}


@dataclass(frozen=True, slots=True)
class Exclusion:
    kind: ExclusionKind
    starts_at: datetime
    ends_at: datetime


def exclusion_duration(kind: ExclusionKind, days: int) -> timedelta:
    allowed = DURATION_DAYS[kind]
    if days not in allowed:
        raise InvalidLimit(
            f"a {kind.value.replace('_', '-')} lasts {allowed.start} to {allowed.stop - 1} days"
        )
    return timedelta(days=days)


def exclude(
    engine: Engine, user_id: uuid.UUID, kind: ExclusionKind, days: int, *, now: datetime
) -> Exclusion:
    """Start an exclusion now; refused if one already running would outlast it."""
    ends_at = now + exclusion_duration(kind, days)
    with engine.begin() as conn:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"rg-exclusion:{user_id}"},
        )
        running = {
            other: until for other, until in exclusions_until(conn, user_id).items() if until > now
        }
        # A cool-off inside a self-exclusion would change nothing; a self-exclusion may
        # start during a cool-off, since it only ever blocks for longer.
        relevant = [running.get(kind)]
        if kind is ExclusionKind.COOL_OFF:
            relevant.append(running.get(ExclusionKind.SELF_EXCLUSION))
        latest = max((until for until in relevant if until is not None), default=None)
        if latest is not None and latest >= ends_at:
            raise ExclusionCannotBeShortened(
                f"you are already blocked until {latest.isoformat()}; an exclusion can only "
                "be extended, never shortened or lifted"
            )
        conn.execute(
            insert(rg_exclusions).values(
                id=uuid.uuid4(), user_id=user_id, kind=kind.value, starts_at=now, ends_at=ends_at
            )
        )
    return Exclusion(kind, now, ends_at)
