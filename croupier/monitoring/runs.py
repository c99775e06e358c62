"""The record of reconciliation runs: what dashboards and ``/metrics`` report as the
books' latest verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from croupier.monitoring.tables import reconciliation_runs


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_key: str
    ledger_violations: int
    wallet_mismatches: int
    house_drifts: int
    biased_games: int
    report: dict[str, Any]
    # Deposit addresses (and deposit books) that disagree with the chain (or the ledger).
    deposit_mismatches: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.ledger_violations
            or self.wallet_mismatches
            or self.house_drifts
            or self.biased_games
            or self.deposit_mismatches
        )


@dataclass(frozen=True, slots=True)
class RunRecord:
    summary: RunSummary
    finished_at: datetime


def record_run(engine: Engine, summary: RunSummary) -> None:
    """Store the run once; a retried activity finds it recorded and does nothing."""
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO reconciliation_runs (
                    run_key, ok, ledger_violations, wallet_mismatches, house_drifts,
                    biased_games, deposit_mismatches, report)
                VALUES (:run_key, :ok, :ledger_violations, :wallet_mismatches, :house_drifts,
                        :biased_games, :deposit_mismatches, CAST(:report AS jsonb))
                ON CONFLICT (run_key) DO NOTHING
                """
            ),
            {
                "run_key": summary.run_key,
                "ok": summary.ok,
                "ledger_violations": summary.ledger_violations,
                "wallet_mismatches": summary.wallet_mismatches,
                "house_drifts": summary.house_drifts,
                "biased_games": summary.biased_games,
                "deposit_mismatches": summary.deposit_mismatches,
                "report": json.dumps(summary.report, default=str),
            },
        )


def last_run(conn: Connection) -> RunRecord | None:
    r = reconciliation_runs.c
    row = conn.execute(
        select(reconciliation_runs).order_by(r.finished_at.desc(), r.id.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return None
    summary = RunSummary(
        run_key=row.run_key,
        ledger_violations=row.ledger_violations,
        wallet_mismatches=row.wallet_mismatches,
        house_drifts=row.house_drifts,
        biased_games=row.biased_games,
        report=dict(row.report),
        deposit_mismatches=row.deposit_mismatches,
    )
    return RunRecord(summary=summary, finished_at=row.finished_at)
