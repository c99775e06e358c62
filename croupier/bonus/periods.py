"""Reward periods: the fixed, back-to-back windows cashback and rakeback are paid for.

Periods are ``length_s`` long and aligned to ``EPOCH`` (a Monday, 00:00 UTC), so a weekly
period runs Monday to Monday and every run, on any worker, names the same period for
the same instant. A period is paid once it has ended; its key (its start, in UTC) is
part of every ledger transfer id that pays it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croupier.core.errors import InvalidInput

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
MIN_PERIOD_S = 60
MAX_PERIOD_S = 366 * 86400


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """The period in transfer ids and workflow ids: its start, ``20250106T000000Z``."""
        return self.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def period_containing(instant: datetime, length_s: int) -> Period:
    """The period ``instant`` falls in."""
    if instant.tzinfo is None:
        raise InvalidInput("a period is found for an aware instant")
    if not MIN_PERIOD_S <= length_s <= MAX_PERIOD_S:
        raise InvalidInput(f"a reward period is {MIN_PERIOD_S}-{MAX_PERIOD_S} seconds")
    length = timedelta(seconds=length_s)
    start = EPOCH + length * ((instant - EPOCH) // length)
    return Period(start, start + length)


def last_closed_period(now: datetime, length_s: int) -> Period:
    """The latest period that has ended by ``now``."""
    current = period_containing(now, length_s)
    return period_containing(current.start - timedelta(microseconds=1), length_s)
