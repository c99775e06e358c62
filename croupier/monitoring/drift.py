"""House balance drift: between two checks, the house may move only by the games' result.

Over a window, gross gaming revenue (GGR) is the stakes the house took minus the
payouts it made, read from the ledger's ``bet``, ``win`` and ``refund`` entries on the
house accounts. The house balance must move by exactly that. Anything else is drift,
split into what the journal explains (house entries of other types: an adjustment, a
bonus booked against the house) and what it does not (the materialized balance moved
with no entry at all, which only a tamper or a bug in the posting engine can do).

Windows end ``settle_margin_s`` before the check: a posting stamps ``now()`` at the start
of its transaction, so one still committing could carry a time before the check.
The house balance at the window's end is the materialized balance now, minus every
house entry since the end, all read in one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from croupier.core.money import Currency
from croupier.ledger.connections import snapshot
from croupier.ledger.kinds import TransferType
from croupier.monitoring.alerts import AlertKind, Severity, raise_alert

GAME_TYPES = frozenset({TransferType.BET, TransferType.WIN, TransferType.REFUND})


@dataclass(frozen=True, slots=True)
class HouseCut:
    """The house balance of one currency at ``cut_at``, read from one snapshot."""

    currency: Currency
    cut_at: datetime
    balance: int


@dataclass(frozen=True, slots=True)
class DriftCheck:
    """One currency's window ``[window_start, window_end)``; all amounts signed minor units."""

    currency: Currency
    window_start: datetime
    window_end: datetime
    balance_delta: int
    ggr: int
    # Signed change by transfer type of house entries that are not game results.
    other_movements: dict[str, int] = field(default_factory=dict)
    unjournaled: int = 0

    @property
    def drift(self) -> int:
        return self.balance_delta - self.ggr

    @property
    def severity(self) -> Severity:
        return Severity.CRITICAL if self.unjournaled else Severity.WARNING

    def describe(self) -> str:
        return (
            f"house {self.currency.value} moved {self.balance_delta} minor units from "
            f"{self.window_start.isoformat()} to {self.window_end.isoformat()} but GGR was "
            f"{self.ggr}: drift {self.drift} ({self.unjournaled} with no ledger entry)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency.value,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "balance_delta": str(self.balance_delta),
            "ggr": str(self.ggr),
            "drift": str(self.drift),
            "other_movements": {kind: str(amount) for kind, amount in self.other_movements.items()},
            "unjournaled": str(self.unjournaled),
        }


# Entries are signed for the house (credit-normal): a credit grows it.
_HOUSE_NOW = text(
    """
    WITH cut AS (SELECT now() - make_interval(secs => :margin_s) AS cut_at),
    house AS (SELECT id, currency FROM accounts WHERE kind = 'house'),
    materialized AS (
        SELECT h.currency, sum(b.credits_posted - b.debits_posted) AS balance
        FROM account_balances b JOIN house h ON h.id = b.account_id
        GROUP BY h.currency
    ),
    recent AS (
        SELECT h.currency,
               sum(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END) AS change
        FROM ledger_entries e JOIN house h ON h.id = e.account_id, cut
        WHERE e.created_at >= cut.cut_at
        GROUP BY h.currency
    )
    SELECT m.currency, cut.cut_at, m.balance - coalesce(r.change, 0) AS balance
    FROM materialized m CROSS JOIN cut LEFT JOIN recent r ON r.currency = m.currency
    ORDER BY m.currency
    """
)

_WINDOW_BY_TYPE = text(
    """
    SELECT e.type,
           sum(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END) AS change
    FROM ledger_entries e
    JOIN accounts a ON a.id = e.account_id AND a.kind = 'house' AND a.currency = :currency
    WHERE e.created_at >= :start AND e.created_at < :end
    GROUP BY e.type
    """
)

_LAST_CHECKPOINT = text(
    """
    SELECT cut_at, balance FROM house_balance_checkpoints
    WHERE currency = :currency AND cut_at < :cut_at
    ORDER BY cut_at DESC LIMIT 1
    """
)


def check_house_drift(engine: Engine, *, settle_margin_s: int) -> list[DriftCheck]:
    """Close a window per currency with a house account; alert on drift. Returns the
    windows checked (a currency's first check only records where it starts)."""
    with snapshot(engine) as conn:
        cuts = [
            HouseCut(Currency(row.currency), row.cut_at, int(row.balance))
            for row in conn.execute(_HOUSE_NOW, {"margin_s": settle_margin_s})
        ]
        windows = [_window(conn, cut) for cut in cuts]
    checks = []
    with engine.begin() as conn:
        for cut, check in zip(cuts, windows, strict=True):
            if not _record(conn, cut, check):
                continue  # a retry of a check already recorded
            if check is None:
                continue
            checks.append(check)
            if check.drift:
                raise_alert(
                    conn, AlertKind.HOUSE_DRIFT, check.severity, check.describe(), check.to_json()
                )
    return checks


def _window(conn: Connection, cut: HouseCut) -> DriftCheck | None:
    previous = conn.execute(
        _LAST_CHECKPOINT, {"currency": cut.currency.value, "cut_at": cut.cut_at}
    ).one_or_none()
    if previous is None:
        return None
    by_type = {
        row.type: int(row.change)
        for row in conn.execute(
            _WINDOW_BY_TYPE,
            {"currency": cut.currency.value, "start": previous.cut_at, "end": cut.cut_at},
        )
    }
    delta = cut.balance - int(previous.balance)
    return DriftCheck(
        currency=cut.currency,
        window_start=previous.cut_at,
        window_end=cut.cut_at,
        balance_delta=delta,
        ggr=sum(change for kind, change in by_type.items() if kind in GAME_TYPES),
        other_movements={
            kind: change for kind, change in sorted(by_type.items()) if kind not in GAME_TYPES
        },
        unjournaled=delta - sum(by_type.values()),
    )


def _record(conn: Connection, cut: HouseCut, check: DriftCheck | None) -> bool:
    """Store the checkpoint; False if this exact cut was recorded already."""
    inserted = conn.execute(
        text(
            """
            INSERT INTO house_balance_checkpoints (currency, cut_at, balance, ggr, drift)
            VALUES (:currency, :cut_at, :balance, :ggr, :drift)
            ON CONFLICT (currency, cut_at) DO NOTHING
            RETURNING 1
            """
        ),
        {
            "currency": cut.currency.value,
            "cut_at": cut.cut_at,
            "balance": cut.balance,
            "ggr": None if check is None else check.ggr,
            "drift": None if check is None else check.drift,
        },
    ).one_or_none()
    return inserted is not None
