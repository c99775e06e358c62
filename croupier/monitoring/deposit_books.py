"""The ledger's deposit-address side against the records of what sits at the addresses.

The ledger books "coins at player deposit addresses" in one system-owned
``deposits_in_flight`` account per currency. Every posting to it is made in the same
transaction as the record that explains it (a credited deposit, a treasury top-up or
consolidation), so in one snapshot the account equals, exactly, the records summed over
every address of its chain (``croupier.monitoring.deposit_records``): posted
= ``booked``, pending out = ``leaving``, pending in = ``arriving``.

This check is exact and cheap (two aggregate queries), so it runs over all addresses
every run; the chain side is then proved per address, in rotating batches
(``croupier.monitoring.deposit_addresses``). Together: ledger = records = chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from croupier.core.money import Currency
from croupier.ledger.connections import snapshot
from croupier.ledger.kinds import SYSTEM_OWNER, AccountKind
from croupier.monitoring.alerts import AlertKind, Severity, raise_alert
from croupier.monitoring.deposit_records import Holdings, chain_holdings

_LEDGER = text(
    """
    SELECT a.currency,
           sum(b.debits_posted) - sum(b.credits_posted) AS posted,
           sum(b.credits_pending) AS pending_out, sum(b.debits_pending) AS pending_in
    FROM accounts a JOIN account_balances b ON b.account_id = a.id
    WHERE a.kind = :kind AND a.owner = :owner
    GROUP BY a.currency
    """
)


@dataclass(frozen=True, slots=True)
class BooksCheck:
    """One currency: the ledger account's figures and the records' sums."""

    currency: Currency
    posted: int
    pending_out: int
    pending_in: int
    records: Holdings

    @property
    def matches(self) -> bool:
        return (self.posted, self.pending_out, self.pending_in) == (
            self.records.booked,
            self.records.leaving,
            self.records.arriving,
        )

    def describe(self) -> str:
        return (
            f"deposits_in_flight {self.currency.value}: ledger posted {self.posted} "
            f"(pending -{self.pending_out} / +{self.pending_in}); deposit address records "
            f"say {self.records.booked} (in flight -{self.records.leaving} / "
            f"+{self.records.arriving}); difference {self.posted - self.records.booked}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency.value,
            "ledger_posted": str(self.posted),
            "ledger_pending_out": str(self.pending_out),
            "ledger_pending_in": str(self.pending_in),
            "records_booked": str(self.records.booked),
            "records_leaving": str(self.records.leaving),
            "records_arriving": str(self.records.arriving),
            "matches": self.matches,
        }


def check_deposit_books(engine: Engine, chains: Iterable[str]) -> tuple[BooksCheck, ...]:
    """Every currency of ``chains`` that the ledger or the records know; a critical alert
    per currency whose ledger account and records disagree."""
    watched = set(chains)
    with snapshot(engine) as conn:
        ledger = {
            Currency(row.currency): (int(row.posted), int(row.pending_out), int(row.pending_in))
            for row in conn.execute(
                _LEDGER, {"kind": AccountKind.DEPOSITS_IN_FLIGHT.value, "owner": SYSTEM_OWNER}
            )
        }
        records: dict[Currency, Holdings] = {}
        for chain in sorted(watched):
            records.update(chain_holdings(conn, chain))
    currencies = set(records) | {currency for currency in ledger if currency.chain in watched}
    checks = tuple(
        BooksCheck(
            currency, *ledger.get(currency, (0, 0, 0)), records.get(currency, Holdings(currency))
        )
        for currency in sorted(currencies)
    )
    with engine.begin() as conn:
        for check in checks:
            if not check.matches:
                raise_alert(
                    conn,
                    AlertKind.DEPOSIT_BOOKS_MISMATCH,
                    Severity.CRITICAL,
                    check.describe(),
                    check.to_json(),
                    dedup_key=f"deposits-in-flight-{check.currency.value}",
                )
    return checks
