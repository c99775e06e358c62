"""Reconciliation and monitoring activities: thin adapters over ``croupier.monitoring``.

Each check is its own activity, so a chain node being down retries the wallet check
alone and never re-runs a full ledger scan. Every check raises its own alerts (deduplicated,
so a retry bumps an open alert rather than adding one) and returns a small summary;
amounts in the summaries are decimal strings of minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.ethereum.client import EthereumClient
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.monitoring.deposit_addresses import check_deposit_addresses
from croupier.monitoring.deposit_books import check_deposit_books
from croupier.monitoring.drift import check_house_drift
from croupier.monitoring.invariants import check_ledger
from croupier.monitoring.outcome_feed import check_outcomes
from croupier.monitoring.outcomes import MonitorPolicy
from croupier.monitoring.runs import RunSummary, record_run
from croupier.monitoring.wallets import BalanceReader, check_wallets

# Violations and wallet rows carried back to the workflow (and into its history).
MAX_REPORTED_ITEMS = 20


@dataclass(frozen=True)
class CheckScope:
    """None: everything. A list: only these ledger accounts (ledger and wallet checks)."""

    account_ids: list[int] | None = None


@dataclass(frozen=True)
class LedgerCheckResult:
    accounts_checked: int
    entries_checked: int
    violations: int
    violations_by_check: dict[str, int]
    truncated: bool


@dataclass(frozen=True)
class WalletCheckResult:
    checked: int
    mismatches: int
    unreadable: int
    unmatched_account_ids: list[int]
    wallets: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DepositChainResult:
    chain: str
    total_addresses: int
    addresses_checked: int
    mismatches: int
    # Coins nobody recorded, still within the grace a scanner lag is allowed.
    in_grace: int
    unwatched_currencies: list[str]
    error: str | None


@dataclass(frozen=True)
class DepositCheckResult:
    """Deposit addresses: the ledger against the records (``books``), every currency;
    then a batch of addresses per chain against the chain."""

    mismatches: int
    books_mismatches: int
    unreadable_chains: int
    chains: list[DepositChainResult]
    books: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DriftCheckResult:
    windows: int
    drifts: int
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class OutcomeCheckResult:
    games: int
    flagged: int
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RecordRunInput:
    run_key: str
    ledger_violations: int
    wallet_mismatches: int
    house_drifts: int
    biased_games: int
    report: dict[str, Any]
    deposit_mismatches: int = 0


def chain_readers(
    settings: Settings,
    ethereum: EthereumClient | None = None,
    bitcoin: BitcoinClient | None = None,
) -> dict[str, BalanceReader]:
    """A balance reader per configured chain (clients connect on first use); the worker's
    own clients when it has them."""
    readers: dict[str, BalanceReader] = {
        "ethereum": ethereum or EthereumClient.from_settings(settings)
    }
    if bitcoin is not None:
        readers["bitcoin"] = bitcoin
    elif settings.btc_rpc_url is not None:
        readers["bitcoin"] = BitcoinClient.from_settings(settings)
    return readers


class MonitoringActivities:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        readers: Mapping[str, BalanceReader] | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._readers = dict(readers) if readers is not None else chain_readers(settings)

    @activity.defn(name="monitoring.check_ledger")
    @maps_business_failures
    def check_ledger(self, scope: CheckScope) -> LedgerCheckResult:
        report = check_ledger(
            self._engine,
            grace_s=self._settings.reconciliation_pending_grace_s,
            account_ids=scope.account_ids,
        )
        by_check: dict[str, int] = {}
        for violation in report.violations:
            by_check[violation.check.value] = by_check.get(violation.check.value, 0) + 1
        return LedgerCheckResult(
            accounts_checked=report.accounts_checked,
            entries_checked=report.entries_checked,
            violations=len(report.violations),
            violations_by_check=by_check,
            truncated=report.truncated,
        )

    @activity.defn(name="monitoring.check_wallets")
    @maps_business_failures
    def check_wallets(self, scope: CheckScope) -> WalletCheckResult:
        report = check_wallets(self._engine, self._readers, account_ids=scope.account_ids)
        return WalletCheckResult(
            checked=len(report.checks),
            mismatches=len(report.mismatches),
            unreadable=len(report.unreadable),
            unmatched_account_ids=list(report.unmatched_account_ids),
            wallets=[check.to_json() for check in report.checks[:MAX_REPORTED_ITEMS]],
        )

    @activity.defn(name="monitoring.check_deposit_addresses")
    @maps_business_failures
    def check_deposit_addresses(self) -> DepositCheckResult:
        books = check_deposit_books(self._engine, {currency.chain for currency in Currency})
        reports = check_deposit_addresses(
            self._engine,
            self._readers,
            batch_size=self._settings.reconciliation_deposit_batch_addresses,
            surplus_grace_s=self._settings.reconciliation_deposit_surplus_grace_s,
        )
        books_mismatches = sum(not check.matches for check in books)
        findings = [c for report in reports for c in (*report.mismatches, *report.in_grace)]
        return DepositCheckResult(
            mismatches=books_mismatches + sum(len(report.mismatches) for report in reports),
            books_mismatches=books_mismatches,
            unreadable_chains=sum(report.error is not None for report in reports),
            chains=[
                DepositChainResult(
                    chain=report.chain,
                    total_addresses=report.total_addresses,
                    addresses_checked=report.addresses_checked,
                    mismatches=len(report.mismatches),
                    in_grace=len(report.in_grace),
                    unwatched_currencies=[currency.value for currency in report.unwatched],
                    error=report.error,
                )
                for report in reports
            ],
            books=[check.to_json() for check in books],
            findings=[check.to_json() for check in findings[:MAX_REPORTED_ITEMS]],
        )

    @activity.defn(name="monitoring.check_house_drift")
    @maps_business_failures
    def check_house_drift(self) -> DriftCheckResult:
        checks = check_house_drift(
            self._engine, settle_margin_s=self._settings.house_drift_settle_margin_s
        )
        drifting = [check for check in checks if check.drift]
        return DriftCheckResult(
            windows=len(checks),
            drifts=len(drifting),
            checks=[check.to_json() for check in drifting[:MAX_REPORTED_ITEMS]],
        )

    @activity.defn(name="monitoring.check_outcomes")
    @maps_business_failures
    def check_outcomes(self) -> OutcomeCheckResult:
        policy = MonitorPolicy(
            alpha=self._settings.outcome_monitor_alpha,
            min_samples=self._settings.outcome_monitor_min_bets,
        )
        checks = check_outcomes(
            self._engine, policy, window_bets=self._settings.outcome_monitor_window_bets
        )
        return OutcomeCheckResult(
            games=len(checks),
            flagged=sum(check.flagged for check in checks),
            checks=[check.to_json() for check in checks],
        )

    @activity.defn(name="monitoring.record_run")
    @maps_business_failures
    def record_run(self, run: RecordRunInput) -> None:
        record_run(
            self._engine,
            RunSummary(
                run_key=run.run_key,
                ledger_violations=run.ledger_violations,
                wallet_mismatches=run.wallet_mismatches,
                house_drifts=run.house_drifts,
                biased_games=run.biased_games,
                report=run.report,
                deposit_mismatches=run.deposit_mismatches,
            ),
        )

    def all(self) -> list[Any]:
        """Every activity of this group, for the worker registry."""
        return [
            self.check_ledger,
            self.check_wallets,
            self.check_deposit_addresses,
            self.check_house_drift,
            self.check_outcomes,
            self.record_run,
        ]
