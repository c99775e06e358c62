"""Gauges read from PostgreSQL at scrape time, so every worker replica reports the same.

What the database knows (open alerts, the breaker, the last reconciliation and the
wallet balances it saw, deposits and withdrawals by state, bets settled recently) is
read when Prometheus scrapes, at most once per ``refresh_s`` (several scrapers or a
short scrape interval never multiply the load), under a short statement timeout. If
the database does not answer, ``croupier_metrics_database_up`` is 0 and the rest is
left out rather than reported stale.

Balances are exported in whole coins as floats: a dashboard figure, never money that
is computed with (the ledger and reconciliation work in integer minor units).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from croupier.betting.tables import bets
from croupier.core.money import Currency
from croupier.games.registry import GAMES
from croupier.monitoring.alerts import open_alert_counts
from croupier.monitoring.breaker import breaker_state
from croupier.monitoring.runs import last_run
from croupier.monitoring.tables import wallet_observations
from croupier.payments.states import DepositStatus, WithdrawalStatus
from croupier.payments.tables import deposits, withdrawals

log = structlog.get_logger(__name__)

DEFAULT_REFRESH_S = 10.0
STATEMENT_TIMEOUT_MS = 2000
RECENT_BETS = timedelta(minutes=5)
FINDINGS = (
    "ledger_violations",
    "wallet_mismatches",
    "house_drifts",
    "biased_games",
    "deposit_mismatches",
)


class DatabaseCollector(Collector):
    def __init__(
        self,
        engine: Engine,
        *,
        refresh_s: float = DEFAULT_REFRESH_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: list[Metric] = []
        self._cached_at: float | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = self._monotonic()
            if self._cached_at is None or now - self._cached_at >= self._refresh_s:
                self._cached = self._read()
                self._cached_at = now
            yield from self._cached

    def _read(self) -> list[Metric]:
        up = GaugeMetricFamily(
            "croupier_metrics_database_up", "1 if the metrics query reached PostgreSQL."
        )
        try:
            with self._engine.connect() as conn, conn.begin():
                conn.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
                families = [
                    *_alerts(conn),
                    *_breaker(conn),
                    *_last_run(conn),
                    *_wallets(conn),
                    *_payments(conn),
                    *_bets(conn),
                ]
        except SQLAlchemyError as error:
            log.warning("metrics_database_unreachable", error=str(error).splitlines()[0])
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]


def _alerts(conn: Connection) -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "croupier_alerts_open", "Alerts not yet acknowledged, by severity.", labels=["severity"]
    )
    for severity, count in open_alert_counts(conn).items():
        family.add_metric([severity.value], count)
    yield family


def _breaker(conn: Connection) -> Iterable[Metric]:
    state = breaker_state(conn)
    family = GaugeMetricFamily(
        "croupier_circuit_breaker_paused",
        "1 while the breaker pauses withdrawal auto-approval.",
        labels=["breaker"],
    )
    family.add_metric([state.name], 1 if state.paused else 0)
    yield family


def _last_run(conn: Connection) -> Iterable[Metric]:
    run = last_run(conn)
    if run is None:
        return
    finished = GaugeMetricFamily(
        "croupier_reconciliation_last_run_timestamp_seconds",
        "When the latest reconciliation run finished (Unix time).",
    )
    finished.add_metric([], run.finished_at.timestamp())
    ok = GaugeMetricFamily(
        "croupier_reconciliation_last_run_ok", "1 if the latest reconciliation found nothing."
    )
    ok.add_metric([], 1 if run.summary.ok else 0)
    findings = GaugeMetricFamily(
        "croupier_reconciliation_last_run_findings",
        "What the latest reconciliation found, by check.",
        labels=["check"],
    )
    for name in FINDINGS:
        findings.add_metric([name], getattr(run.summary, name))
    yield from (finished, ok, findings)


def _wallets(conn: Connection) -> Iterable[Metric]:
    balance = GaugeMetricFamily(
        "croupier_wallet_balance_coins",
        "Wallet balances at the latest reconciliation, in whole coins, as the ledger and "
        "the chain saw them.",
        labels=["kind", "currency", "address", "source"],
    )
    matches = GaugeMetricFamily(
        "croupier_wallet_matches",
        "1 if the wallet's chain balance matched the ledger at the latest reconciliation.",
        labels=["kind", "currency", "address"],
    )
    for row in conn.execute(select(wallet_observations)):
        unit = Currency(row.currency).unit
        labels = [row.kind, row.currency, row.address]
        balance.add_metric([*labels, "ledger"], row.ledger_posted / unit)
        balance.add_metric([*labels, "chain"], row.chain_balance / unit)
        matches.add_metric(labels, 1 if row.matches else 0)
    yield from (balance, matches)


def _payments(conn: Connection) -> Iterable[Metric]:
    """Deposits and withdrawals still in progress, by state (final states grow forever
    and belong to reports, not gauges)."""
    for table, statuses, name in (
        (deposits, [s for s in DepositStatus if not s.is_final], "deposits"),
        (withdrawals, [s for s in WithdrawalStatus if not s.is_final], "withdrawals"),
    ):
        family = GaugeMetricFamily(
            f"croupier_{name}_in_progress",
            f"{name.capitalize()} not yet in a final state, by state and currency.",
            labels=["status", "currency"],
        )
        counts = dict.fromkeys(((s.value, c.value) for s in statuses for c in Currency), 0)
        rows = conn.execute(
            select(table.c.status, table.c.currency, func.count())
            .where(table.c.status.in_([s.value for s in statuses]))
            .group_by(table.c.status, table.c.currency)
        )
        for status, currency, count in rows:
            counts[(status, currency)] = int(count)
        for (status, currency), count in sorted(counts.items()):
            family.add_metric([status, currency], count)
        yield family


def _bets(conn: Connection) -> Iterable[Metric]:
    """Settled bets per game over the last few minutes: one index range scan per game
    and partition on (game, settled_at)."""
    family = GaugeMetricFamily(
        "croupier_bets_settled_recent",
        f"Bets settled in the last {int(RECENT_BETS.total_seconds())} s, by game.",
        labels=["game"],
    )
    b = bets.c
    for game in sorted(GAMES):
        count = conn.execute(
            select(func.count()).where(
                b.game == game, b.status == "settled", b.settled_at >= func.now() - RECENT_BETS
            )
        ).scalar_one()
        family.add_metric([game], int(count))
    yield family
