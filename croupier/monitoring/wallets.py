"""Ledger wallets against the chain: what the books say we hold is what the chain says.

Two kinds of wallet account are compared with their on-chain balance:

- a ``hot_wallet`` or ``cold_wallet`` account whose owner is an on-chain address;
- the payments hot wallet (the system-owned ``hot_wallet`` account of a currency),
  against the sum over its addresses, allowing for the payouts and gas of sends not
  yet settled in the ledger (``croupier.monitoring.hot_wallets``).

Movements in flight are also the account's own pending holds, so the chain balance must
lie in ``[posted - pending_out - in_flight_out, posted + pending_in]``. The ledger is
read before and after the chain, and the chain balance must lie within the hull of the
two intervals: a send that settles between the reads is then not a false alarm. Other
system-owned wallet accounts with money on them name no address; they are listed as
unmatched, never silently passed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, text

from croupier.core.errors import ConfigurationError, CroupierError
from croupier.core.money import Currency
from croupier.ledger.connections import snapshot
from croupier.ledger.kinds import SYSTEM_OWNER, AccountKind
from croupier.monitoring.alerts import AlertKind, Severity, raise_alert
from croupier.monitoring.hot_wallets import hot_wallets

WALLET_KINDS = (AccountKind.HOT_WALLET, AccountKind.COLD_WALLET)
# Each wallet costs one node call; a casino has a handful of hot and cold wallets.
MAX_WALLETS = 200


class BalanceReader(Protocol):
    """The part of a ``ChainClient`` reconciliation uses."""

    def balance(self, address: str, currency: Currency) -> int: ...


@dataclass(frozen=True, slots=True)
class LedgerWallet:
    """A wallet account's ledger figures (debit-normal: debits grow it)."""

    account_id: int
    kind: AccountKind
    currency: Currency
    addresses: tuple[str, ...]
    posted: int
    pending_out: int
    pending_in: int
    # Paid out on chain but not yet settled in the ledger (payments' hot wallet).
    in_flight_out: int = 0

    @property
    def address(self) -> str:
        return ",".join(self.addresses)

    @property
    def low(self) -> int:
        return self.posted - self.pending_out - self.in_flight_out

    @property
    def high(self) -> int:
        return self.posted + self.pending_in


@dataclass(frozen=True, slots=True)
class WalletCheck:
    before: LedgerWallet
    after: LedgerWallet
    chain_balance: int | None
    error: str | None = None

    @property
    def readable(self) -> bool:
        return self.chain_balance is not None

    @property
    def matches(self) -> bool:
        low = min(self.before.low, self.after.low)
        high = max(self.before.high, self.after.high)
        return self.chain_balance is not None and low <= self.chain_balance <= high

    def describe(self) -> str:
        w = self.after
        if self.chain_balance is None:
            return (
                f"{w.kind.value} {w.address} ({w.currency.value}): chain unreadable: {self.error}"
            )
        return (
            f"{w.kind.value} {w.address} ({w.currency.value}): chain holds "
            f"{self.chain_balance}, ledger says {w.posted} (in flight "
            f"-{w.pending_out + w.in_flight_out} / +{w.pending_in}); difference "
            f"{self.chain_balance - w.posted}"
        )

    def to_json(self) -> dict[str, Any]:
        w = self.after
        return {
            "account_id": w.account_id,
            "kind": w.kind.value,
            "currency": w.currency.value,
            "address": w.address,
            "ledger_posted": str(w.posted),
            "ledger_pending_out": str(w.pending_out),
            "ledger_pending_in": str(w.pending_in),
            "in_flight_out": str(w.in_flight_out),
            "chain_balance": None if self.chain_balance is None else str(self.chain_balance),
            "matches": self.matches,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class WalletReport:
    checks: tuple[WalletCheck, ...]
    # Wallet accounts with money on them but no address to check it against.
    unmatched_account_ids: tuple[int, ...]

    @property
    def mismatches(self) -> tuple[WalletCheck, ...]:
        return tuple(c for c in self.checks if c.readable and not c.matches)

    @property
    def unreadable(self) -> tuple[WalletCheck, ...]:
        return tuple(c for c in self.checks if not c.readable)


_WALLETS = text(
    """
    SELECT a.id, a.kind, a.currency, a.owner,
           sum(b.debits_posted) - sum(b.credits_posted) AS posted,
           sum(b.credits_pending) AS pending_out, sum(b.debits_pending) AS pending_in
    FROM accounts a JOIN account_balances b ON b.account_id = a.id
    WHERE a.kind IN ('hot_wallet', 'cold_wallet') AND a.closed_at IS NULL
      AND (:everything OR a.id = ANY(CAST(:ids AS bigint[])))
    GROUP BY a.id
    ORDER BY a.id
    LIMIT :limit
    """
)


def check_wallets(
    engine: Engine,
    readers: Mapping[str, BalanceReader],
    *,
    account_ids: Collection[int] | None = None,
) -> WalletReport:
    """Compare every wallet account with an address (or those of ``account_ids``) with
    its chain; raise a critical alert per mismatch and a warning per unreadable chain."""
    before, unmatched = _ledger_wallets(engine, readers, account_ids)
    chain = {wallet.account_id: _read_chain(readers, wallet) for wallet in before}
    after = {
        w.account_id: w for w in _ledger_wallets(engine, readers, [w.account_id for w in before])[0]
    }
    checks = tuple(
        WalletCheck(wallet, after.get(wallet.account_id, wallet), *chain[wallet.account_id])
        for wallet in before
    )
    report = WalletReport(checks, unmatched)
    _record(engine, report)
    return report


def _ledger_wallets(
    engine: Engine, readers: Mapping[str, BalanceReader], account_ids: Collection[int] | None
) -> tuple[list[LedgerWallet], tuple[int, ...]]:
    scope = {
        "everything": account_ids is None,
        "ids": sorted(account_ids or []),
        "limit": MAX_WALLETS + 1,
    }
    with snapshot(engine) as conn:
        rows = conn.execute(_WALLETS, scope).all()
        hot = {wallet.currency: wallet for wallet in hot_wallets(conn, readers)}
    if len(rows) > MAX_WALLETS:
        raise ConfigurationError(f"more than {MAX_WALLETS} wallet accounts; raise MAX_WALLETS")
    wallets, unmatched = [], []
    for row in rows:
        kind, currency = AccountKind(row.kind), Currency(row.currency)
        payments_hot = hot.get(currency) if kind is AccountKind.HOT_WALLET else None
        addresses: tuple[str, ...]
        if row.owner != SYSTEM_OWNER:
            addresses, in_flight_out = (row.owner,), 0
        elif payments_hot is not None:
            addresses, in_flight_out = payments_hot.addresses, payments_hot.in_flight_out
        else:
            if row.posted or row.pending_out or row.pending_in:
                unmatched.append(int(row.id))
            continue
        wallets.append(
            LedgerWallet(
                account_id=int(row.id),
                kind=kind,
                currency=currency,
                addresses=addresses,
                posted=int(row.posted),
                pending_out=int(row.pending_out),
                pending_in=int(row.pending_in),
                in_flight_out=in_flight_out,
            )
        )
    return wallets, tuple(unmatched)


def _read_chain(
    readers: Mapping[str, BalanceReader], wallet: LedgerWallet
) -> tuple[int | None, str | None]:
    reader = readers.get(wallet.currency.chain)
    if reader is None:
        return None, f"no {wallet.currency.chain} node is configured"
    try:
        return sum(reader.balance(a, wallet.currency) for a in wallet.addresses), None
    except CroupierError as error:  # node down, bad address: report, keep checking others
        return None, f"{type(error).__name__}: {error}"


def _record(engine: Engine, report: WalletReport) -> None:
    with engine.begin() as conn:
        for check in report.checks:
            if not check.readable:
                raise_alert(
                    conn,
                    AlertKind.WALLET_UNREADABLE,
                    Severity.WARNING,
                    check.describe(),
                    check.to_json(),
                    dedup_key=f"account-{check.after.account_id}",
                )
                continue
            _observe(conn, check)
            if not check.matches:
                raise_alert(
                    conn,
                    AlertKind.WALLET_MISMATCH,
                    Severity.CRITICAL,
                    check.describe(),
                    check.to_json(),
                    dedup_key=f"account-{check.after.account_id}",
                )


def _observe(conn: Connection, check: WalletCheck) -> None:
    """Keep the latest comparison per wallet, for dashboards (the metrics collector)."""
    w = check.after
    conn.execute(
        text(
            """
            INSERT INTO wallet_observations (
                account_id, kind, currency, address, ledger_posted, ledger_pending_out,
                ledger_pending_in, chain_balance, matches, observed_at)
            VALUES (:account_id, :kind, :currency, :address, :posted, :pending_out,
                    :pending_in, :chain_balance, :matches, now())
            ON CONFLICT (account_id) DO UPDATE SET
                ledger_posted = excluded.ledger_posted,
                ledger_pending_out = excluded.ledger_pending_out,
                ledger_pending_in = excluded.ledger_pending_in,
                chain_balance = excluded.chain_balance,
                matches = excluded.matches,
                observed_at = excluded.observed_at
            """
        ),
        {
            "account_id": w.account_id,
            "kind": w.kind.value,
            "currency": w.currency.value,
            "address": w.address,
            "posted": w.posted,
            "pending_out": w.pending_out,
            "pending_in": w.pending_in,
            "chain_balance": check.chain_balance,
            "matches": check.matches,
        },
    )
