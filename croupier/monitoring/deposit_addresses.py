"""Player deposit addresses against their chain, a bounded batch per reconciliation run.

For each address and currency, the records (``croupier.monitoring.deposit_records``) give
the range the chain balance must lie in, allowing for what is in flight: deposits seen
but not credited, gas top-ups and consolidations not yet final. The ledger is tied to the
same records exactly by ``croupier.monitoring.deposit_books``, so a chain balance in range
means the ledger's deposit-address side holds for that address.

Scale: each address costs one ``balance`` call per currency of its chain (the chain
clients offer no batched balance read), so a run checks at most ``batch_size`` addresses:
first those that disagreed last time (up to half the batch, so a pile of open problems
never stops the rotation), then the next ones in HD-index order after the chain's
cursor, wrapping around. With N addresses, each is seen at least every
``ceil(2N / batch_size)`` runs, and every run when N fits in half a batch.

Races: the records are read before and after the chain, and the chain balance must lie
within the hull of both ranges, so a movement settling between the reads is no alarm.
A deposit mined but not yet seen by the scanner looks like coins nobody recorded: a
surplus is therefore alarmed only once it has lasted ``surplus_grace_s`` (an address
that disagrees is re-checked every run). A shortfall (coins gone that the records say
are there) is alarmed at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from croupier.core.errors import ConfigurationError, CroupierError, InvalidInput
from croupier.core.money import Currency
from croupier.ledger.connections import snapshot
from croupier.monitoring.alerts import AlertKind, Severity, raise_alert
from croupier.monitoring.deposit_records import Holdings, address_holdings, chain_currencies
from croupier.monitoring.tables import deposit_address_observations
from croupier.monitoring.wallets import BalanceReader

MAX_BATCH_ADDRESSES = 5000
MAX_RECHECKS = 100
MAX_LISTED = 200


class Verdict(StrEnum):
    MATCHES = "matches"
    SHORT = "short"  # less on chain than the records allow: coins left unrecorded
    SURPLUS = "surplus"  # more than the records allow, for longer than the grace
    # More than the records allow, maybe a deposit the scanner has not seen yet.
    SURPLUS_IN_GRACE = "surplus_in_grace"

    @property
    def alarming(self) -> bool:
        return self in (Verdict.SHORT, Verdict.SURPLUS)


@dataclass(frozen=True, slots=True)
class AddressCheck:
    chain: str
    address: str
    hd_index: int
    currency: Currency
    low: int
    high: int
    chain_balance: int
    verdict: Verdict = Verdict.MATCHES

    @property
    def in_range(self) -> bool:
        return self.low <= self.chain_balance <= self.high

    def describe(self) -> str:
        gap = (
            self.chain_balance - self.high
            if self.chain_balance > self.high
            else self.chain_balance - self.low
        )
        return (
            f"deposit address {self.address} ({self.chain}, {self.currency.value}, index "
            f"{self.hd_index}): chain holds {self.chain_balance}, records allow "
            f"{self.low}..{self.high}; {self.verdict.value} by {abs(gap)}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "address": self.address,
            "hd_index": self.hd_index,
            "currency": self.currency.value,
            "expected_low": str(self.low),
            "expected_high": str(self.high),
            "chain_balance": str(self.chain_balance),
            "verdict": self.verdict.value,
        }


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: str
    total_addresses: int
    checks: tuple[AddressCheck, ...] = ()
    # Currencies the chain's node does not watch (no token contract configured).
    unwatched: tuple[Currency, ...] = ()
    error: str | None = None

    @property
    def addresses_checked(self) -> int:
        return len({check.address for check in self.checks})

    @property
    def mismatches(self) -> tuple[AddressCheck, ...]:
        return tuple(check for check in self.checks if check.verdict.alarming)

    @property
    def in_grace(self) -> tuple[AddressCheck, ...]:
        return tuple(c for c in self.checks if c.verdict is Verdict.SURPLUS_IN_GRACE)


@dataclass(frozen=True, slots=True)
class Batch:
    """Addresses (with their HD index) to check, and where the rotation stops."""

    addresses: tuple[tuple[str, int], ...]
    next_cursor: int | None


def check_deposit_addresses(
    engine: Engine,
    readers: Mapping[str, BalanceReader],
    *,
    batch_size: int,
    surplus_grace_s: int,
) -> tuple[ChainReport, ...]:
    """Check one batch of deposit addresses per chain; raise an alert per alarming
    address and currency, and a warning per chain that has addresses but no readable node."""
    assert 1 <= batch_size <= MAX_BATCH_ADDRESSES, f"batch size {batch_size}"
    assert surplus_grace_s >= 0
    chains = sorted({currency.chain for currency in Currency})
    return tuple(
        _check_chain(engine, chain, readers.get(chain), batch_size, surplus_grace_s)
        for chain in chains
    )


def _check_chain(
    engine: Engine, chain: str, reader: BalanceReader | None, batch_size: int, grace_s: int
) -> ChainReport:
    with engine.connect() as conn:
        total = int(
            conn.execute(
                text("SELECT count(*) FROM deposit_addresses WHERE chain = :chain"),
                {"chain": chain},
            ).scalar_one()
        )
        batch = _next_batch(conn, chain, batch_size) if total else Batch((), None)
    if not batch.addresses:
        return ChainReport(chain, total)
    if reader is None:
        return _unreadable(
            engine, ChainReport(chain, total, error=f"no {chain} node is configured")
        )
    addresses = [address for address, _ in batch.addresses]
    before = _holdings(engine, chain, addresses)
    try:
        balances, unwatched = _read_chain(reader, addresses, chain_currencies(chain))
    except CroupierError as error:  # node down: report it, keep the cursor for next run
        return _unreadable(
            engine, ChainReport(chain, total, error=f"{type(error).__name__}: {error}")
        )
    after = _holdings(engine, chain, addresses)
    checks = [
        AddressCheck(
            chain=chain,
            address=address,
            hd_index=hd_index,
            currency=currency,
            low=min(before[address, currency].low, after[address, currency].low),
            high=max(before[address, currency].high, after[address, currency].high),
            chain_balance=balances[address, currency],
        )
        for address, hd_index in batch.addresses
        for currency in chain_currencies(chain)
        if currency not in unwatched
    ]
    with engine.begin() as conn:
        judged = tuple(_record(conn, check, grace_s) for check in checks)
        if batch.next_cursor is not None:
            _save_cursor(conn, chain, batch.next_cursor)
    return ChainReport(chain, total, judged, unwatched)


def _next_batch(conn: Connection, chain: str, batch_size: int) -> Batch:
    rechecks = conn.execute(
        text(
            """
            SELECT DISTINCT address, hd_index FROM deposit_address_observations
            WHERE chain = :chain AND mismatch_since IS NOT NULL
            ORDER BY hd_index LIMIT :limit
            """
        ),
        {"chain": chain, "limit": min(MAX_RECHECKS, batch_size // 2)},
    ).all()
    cursor = conn.execute(
        text("SELECT after_hd_index FROM deposit_address_cursors WHERE chain = :chain"),
        {"chain": chain},
    ).scalar_one_or_none()
    limit = batch_size - len(rechecks)
    rotation = _addresses_after(conn, chain, -1 if cursor is None else int(cursor), limit)
    if len(rotation) < limit and cursor is not None:  # wrap around to the start
        rotation += _addresses_after(conn, chain, -1, limit - len(rotation), up_to=int(cursor))
    chosen = dict((row.address, int(row.hd_index)) for row in rechecks)
    chosen.update(rotation)
    next_cursor = rotation[-1][1] if rotation else None
    return Batch(tuple(chosen.items()), next_cursor)


def _addresses_after(
    conn: Connection, chain: str, after: int, limit: int, *, up_to: int | None = None
) -> list[tuple[str, int]]:
    rows = conn.execute(
        text(
            """
            SELECT address, hd_index FROM deposit_addresses
            WHERE chain = :chain AND hd_index > :after
              AND (CAST(:up_to AS integer) IS NULL OR hd_index <= :up_to)
            ORDER BY hd_index LIMIT :limit
            """
        ),
        {"chain": chain, "after": after, "up_to": up_to, "limit": limit},
    ).all()
    return [(row.address, int(row.hd_index)) for row in rows]


def _holdings(
    engine: Engine, chain: str, addresses: Sequence[str]
) -> dict[tuple[str, Currency], Holdings]:
    with snapshot(engine) as conn:
        return address_holdings(conn, chain, addresses)


def _read_chain(
    reader: BalanceReader, addresses: Sequence[str], currencies: Sequence[Currency]
) -> tuple[dict[tuple[str, Currency], int], tuple[Currency, ...]]:
    """Every address's balance in every currency the node watches; the others listed."""
    balances: dict[tuple[str, Currency], int] = {}
    unwatched: list[Currency] = []
    for currency in currencies:
        try:
            for address in addresses:
                balances[address, currency] = reader.balance(address, currency)
        except ConfigurationError:  # no contract configured: the node cannot tell
            unwatched.append(currency)
    return balances, tuple(unwatched)


_OBSERVE = text(
    """
    INSERT INTO deposit_address_observations AS o (
        chain, address, currency, hd_index, expected_low, expected_high, chain_balance,
        matches, mismatch_since, observed_at)
    VALUES (:chain, :address, :currency, :hd_index, :low, :high, :balance, :matches,
            CASE WHEN :matches THEN NULL ELSE now() END, now())
    ON CONFLICT (chain, address, currency) DO UPDATE SET
        hd_index = excluded.hd_index,
        expected_low = excluded.expected_low,
        expected_high = excluded.expected_high,
        chain_balance = excluded.chain_balance,
        matches = excluded.matches,
        mismatch_since = CASE WHEN excluded.matches THEN NULL
                              ELSE coalesce(o.mismatch_since, excluded.mismatch_since) END,
        observed_at = excluded.observed_at
    RETURNING mismatch_since IS NOT NULL
              AND mismatch_since <= now() - :grace_s * interval '1 second' AS overdue
    """
)


def _record(conn: Connection, check: AddressCheck, grace_s: int) -> AddressCheck:
    """Keep the observation, judge the check, and alarm if it is alarming."""
    overdue = conn.execute(
        _OBSERVE,
        {
            "chain": check.chain,
            "address": check.address,
            "currency": check.currency.value,
            "hd_index": check.hd_index,
            "low": check.low,
            "high": check.high,
            "balance": check.chain_balance,
            "matches": check.in_range,
            "grace_s": grace_s,
        },
    ).scalar_one()
    if check.in_range:
        return check
    if check.chain_balance < check.low:
        verdict = Verdict.SHORT
    else:
        verdict = Verdict.SURPLUS if overdue else Verdict.SURPLUS_IN_GRACE
    judged = replace(check, verdict=verdict)
    if verdict.alarming:
        raise_alert(
            conn,
            AlertKind.DEPOSIT_ADDRESS_MISMATCH,
            Severity.CRITICAL,
            judged.describe(),
            judged.to_json(),
            dedup_key=f"{check.chain}:{check.address}:{check.currency.value}",
        )
    return judged


def _save_cursor(conn: Connection, chain: str, after_hd_index: int) -> None:
    conn.execute(
        text(
            """
            INSERT INTO deposit_address_cursors (chain, after_hd_index, updated_at)
            VALUES (:chain, :after, now())
            ON CONFLICT (chain) DO UPDATE SET
                after_hd_index = excluded.after_hd_index, updated_at = excluded.updated_at
            """
        ),
        {"chain": chain, "after": after_hd_index},
    )


def _unreadable(engine: Engine, report: ChainReport) -> ChainReport:
    assert report.error is not None
    with engine.begin() as conn:
        raise_alert(
            conn,
            AlertKind.WALLET_UNREADABLE,
            Severity.WARNING,
            f"{report.chain} deposit addresses cannot be checked: {report.error}",
            {"chain": report.chain, "error": report.error},
            dedup_key=f"deposit-addresses-{report.chain}",
        )
    return report


@dataclass(frozen=True, slots=True)
class Observation:
    """The latest comparison of one deposit address and currency with its chain."""

    chain: str
    address: str
    currency: Currency
    hd_index: int
    expected_low: int
    expected_high: int
    chain_balance: int
    mismatch_since: datetime | None
    observed_at: datetime


def mismatched_observations(
    conn: Connection, *, chain: str | None = None, limit: int = 50
) -> tuple[Observation, ...]:
    """Deposit addresses that disagreed with their chain when last checked, longest first."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_LISTED:
        raise InvalidInput(f"page size must be from 1 to {MAX_LISTED}, got {limit!r}")
    o = deposit_address_observations.c
    query = (
        select(deposit_address_observations)
        .where(o.mismatch_since.is_not(None))
        .order_by(o.mismatch_since, o.chain, o.address, o.currency)
        .limit(limit)
    )
    if chain is not None:
        query = query.where(o.chain == chain)
    return tuple(
        Observation(
            chain=row.chain,
            address=row.address,
            currency=Currency(row.currency),
            hd_index=row.hd_index,
            expected_low=row.expected_low,
            expected_high=row.expected_high,
            chain_balance=row.chain_balance,
            mismatch_since=row.mismatch_since,
            observed_at=row.observed_at,
        )
        for row in conn.execute(query)
    )
