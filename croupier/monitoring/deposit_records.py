"""What the records say sits at player deposit addresses, per address and currency.

Payments and the treasury record every movement at a deposit address; the ledger's
``deposits_in_flight`` account ("coins at deposit addresses") follows them in the same
transactions. Per address and currency, the records give four figures:

- ``booked``: credited deposits, plus completed gas top-ups, less completed
  consolidations and the fees consolidations paid (completed or reverted);
- ``unbooked``: deposits seen but not credited: pending, confirming, held (by the
  player's limits, until released) and dust (never credited, it stays at the address).
  They count only towards the most the chain may hold: a deposit seen may yet be
  reorged out, and the least is then never above what the ledger can vouch for;
- ``arriving``: gas top-ups in flight (broadcast or not, mined or not);
- ``leaving``: consolidations in flight, with the most their fee can be.

So the chain must hold between ``booked - leaving`` and ``booked + unbooked +
arriving``; and the ledger's ``deposits_in_flight`` account must equal the sums: posted
``booked``, pending out ``leaving``, pending in ``arriving`` (``croupier.monitoring
.deposit_books``). The SQL is chain-neutral: a chain's deposits and treasury movements
are read by its name, fees in its native coin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Numeric, Row, Text, column, func, select, text

from croupier.core.money import Currency
from croupier.monitoring.hot_wallets import GAS_CURRENCY

# One leg per record touching an address; ``:addresses`` NULL means every address.
_LEGS = text(
    """
    SELECT address, currency,
           CASE WHEN status = 'credited' THEN amount ELSE 0 END AS booked,
           CASE WHEN status IN ('pending', 'confirming', 'held', 'dust') THEN amount ELSE 0 END
               AS unbooked,
           0 AS arriving, 0 AS leaving
    FROM deposits
    WHERE chain = :chain
      AND (CAST(:addresses AS text[]) IS NULL OR address = ANY(CAST(:addresses AS text[])))
    UNION ALL
    SELECT to_address, currency,
           CASE WHEN status = 'completed' THEN amount ELSE 0 END, 0,
           CASE WHEN status = 'held' THEN amount ELSE 0 END, 0
    FROM treasury_movements
    WHERE chain = :chain AND kind = 'top_up'
      AND (CAST(:addresses AS text[]) IS NULL OR to_address = ANY(CAST(:addresses AS text[])))
    UNION ALL
    SELECT from_address, currency,
           CASE WHEN status = 'completed' THEN -amount ELSE 0 END, 0, 0,
           CASE WHEN status = 'held' THEN amount ELSE 0 END
    FROM treasury_movements
    WHERE chain = :chain AND kind = 'consolidation'
      AND (CAST(:addresses AS text[]) IS NULL OR from_address = ANY(CAST(:addresses AS text[])))
    UNION ALL
    SELECT from_address, :native, -coalesce(fee_paid, 0), 0, 0,
           CASE WHEN status = 'held' THEN fee_reserved ELSE 0 END
    FROM treasury_movements
    WHERE chain = :chain AND kind = 'consolidation'
      AND (CAST(:addresses AS text[]) IS NULL OR from_address = ANY(CAST(:addresses AS text[])))
    """
).columns(
    column("address", Text),
    column("currency", Text),
    column("booked", Numeric),
    column("unbooked", Numeric),
    column("arriving", Numeric),
    column("leaving", Numeric),
)
_legs = _LEGS.subquery("legs")
_SUMS = tuple(
    func.sum(_legs.c[name]).label(name) for name in ("booked", "unbooked", "arriving", "leaving")
)
_PER_ADDRESS = select(_legs.c.address, _legs.c.currency, *_SUMS).group_by(
    _legs.c.address, _legs.c.currency
)
_PER_CURRENCY = select(_legs.c.currency, *_SUMS).group_by(_legs.c.currency)


@dataclass(frozen=True, slots=True)
class Holdings:
    """The records' figures for one address (or a whole chain) in one currency."""

    currency: Currency
    booked: int = 0
    unbooked: int = 0
    arriving: int = 0
    leaving: int = 0

    @property
    def low(self) -> int:
        """The least the chain may hold: every consolidation in flight went out."""
        return self.booked - self.leaving

    @property
    def high(self) -> int:
        """The most the chain may hold: every deposit seen and top-up sent arrived."""
        return self.booked + self.unbooked + self.arriving


def chain_currencies(chain: str) -> tuple[Currency, ...]:
    return tuple(currency for currency in Currency if currency.chain == chain)


def address_holdings(
    conn: Connection, chain: str, addresses: Sequence[str]
) -> dict[tuple[str, Currency], Holdings]:
    """The figures of every currency of ``chain`` at each of ``addresses`` (zero if none)."""
    found = {
        (row.address, Currency(row.currency)): _holdings(row)
        for row in conn.execute(
            _PER_ADDRESS,
            _scope(chain, list(addresses)),
        )
    }
    return {
        (address, currency): found.get((address, currency), Holdings(currency))
        for address in addresses
        for currency in chain_currencies(chain)
    }


def chain_holdings(conn: Connection, chain: str) -> dict[Currency, Holdings]:
    """The figures summed over every deposit address of ``chain``, per currency."""
    return {
        Currency(row.currency): _holdings(row)
        for row in conn.execute(_PER_CURRENCY, _scope(chain, None))
    }


def _scope(chain: str, addresses: list[str] | None) -> dict[str, Any]:
    return {"chain": chain, "native": GAS_CURRENCY[chain].value, "addresses": addresses}


def _holdings(row: Row[Any]) -> Holdings:
    return Holdings(
        currency=Currency(row.currency),
        booked=int(row.booked),
        unbooked=int(row.unbooked),
        arriving=int(row.arriving),
        leaving=int(row.leaving),
    )
