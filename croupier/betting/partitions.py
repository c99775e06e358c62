"""Monthly partitions of ``bets``, created ahead of need (see migration ``0001_betting``).

A maintenance job calls :func:`ensure_partitions` (idempotent, cheap when nothing is
missing); :func:`missing_partitions` lets a health check warn months before a month
without a partition would refuse bets.
"""

from __future__ import annotations

from sqlalchemy import text

from croupier.core.errors import InvalidInput
from croupier.ledger.connections import Bind, transaction

DEFAULT_MONTHS_AHEAD = 6
MAX_MONTHS_AHEAD = 120


def ensure_partitions(bind: Bind, months_ahead: int = DEFAULT_MONTHS_AHEAD) -> int:
    """Create the missing partitions from this month to ``months_ahead`` after it."""
    _check_months(months_ahead)
    with transaction(bind) as conn:
        created = conn.execute(
            text("SELECT betting_ensure_partitions(:months)"), {"months": months_ahead}
        ).scalar_one()
    return int(created)


def missing_partitions(bind: Bind, months_ahead: int) -> tuple[str, ...]:
    _check_months(months_ahead)
    with transaction(bind) as conn:
        rows = conn.execute(
            text("SELECT betting_missing_partitions(:months)"), {"months": months_ahead}
        ).all()
    return tuple(str(row[0]) for row in rows)


def _check_months(months_ahead: int) -> None:
    if isinstance(months_ahead, bool) or not 0 <= months_ahead <= MAX_MONTHS_AHEAD:
        raise InvalidInput(f"months ahead must be from 0 to {MAX_MONTHS_AHEAD}")
