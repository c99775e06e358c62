"""Monthly partitions of ``transfers`` and ``ledger_entries``, created ahead of need.

There is no DEFAULT partition (see migration ``0001_ledger``): a posting in a month
without a partition fails. So a maintenance job calls :func:`ensure_partitions`
(idempotent, cheap when nothing is missing), and reconciliation reports a violation as
soon as fewer than ``MIN_MONTHS_AHEAD`` future months are ready, months before it matters.
"""

from __future__ import annotations

from sqlalchemy import text

from croupier.core.errors import InvalidInput
from croupier.ledger.connections import Bind, transaction

DEFAULT_MONTHS_AHEAD = 6
MIN_MONTHS_AHEAD = 2
MAX_MONTHS_AHEAD = 120


def ensure_partitions(bind: Bind, months_ahead: int = DEFAULT_MONTHS_AHEAD) -> int:
    """Create the partitions missing from this month to ``months_ahead`` after it.

    Returns how many were created (two per missing month: transfers and entries).
    """
    _check_months(months_ahead)
    with transaction(bind) as conn:
        created = conn.execute(
            text("SELECT ledger_ensure_partitions(:months)"), {"months": months_ahead}
        ).scalar_one()
    return int(created)


def missing_partitions(bind: Bind, months_ahead: int = MIN_MONTHS_AHEAD) -> tuple[str, ...]:
    """Names of the partitions missing from this month to ``months_ahead`` after it."""
    _check_months(months_ahead)
    with transaction(bind) as conn:
        rows = conn.execute(
            text("SELECT ledger_missing_partitions(:months)"), {"months": months_ahead}
        ).all()
    return tuple(str(row[0]) for row in rows)


def _check_months(months_ahead: int) -> None:
    if (
        isinstance(months_ahead, bool)
        or not isinstance(months_ahead, int)
        or not 0 <= months_ahead <= MAX_MONTHS_AHEAD
    ):
        raise InvalidInput(f"months ahead must be from 0 to {MAX_MONTHS_AHEAD}")
