"""``croupier reconcile``: prove the ledger's invariants, or name what breaks them.

Exit status 0 when the ledger is whole, 1 when any check fails (the report names the
accounts and transfers), 2 for bad input, as every command.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from croupier.core.settings import get_settings
from croupier.ledger.reconcile import MAX_GRACE_S, ReconciliationReport
from croupier.workers.commands.database import command_engine

VIOLATIONS_FOUND = 1

console = Console()


def reconcile(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    grace_s: Annotated[
        int,
        typer.Option(
            "--grace-s",
            min=0,
            max=MAX_GRACE_S,
            help="seconds a hold may stay pending past its timeout before it counts as overdue",
        ),
    ] = 0,
) -> None:
    """Check the ledger: balanced per currency, balances equal their entries, no player
    below zero, no overdue holds, partitions ready. Exits 1 on any violation."""
    from croupier.core.clock import SystemClock
    from croupier.ledger.reconcile import reconcile as run_reconciliation

    with command_engine(get_settings()) as engine:
        report = run_reconciliation(engine, SystemClock(), grace_s=grace_s)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(VIOLATIONS_FOUND)


def _print(report: ReconciliationReport) -> None:
    totals = Table(title="Ledger totals (minor units)")
    for column in ("currency", "entries", "debits", "credits"):
        totals.add_column(column, justify="left" if column == "currency" else "right")
    for total in report.totals:
        totals.add_row(total.currency, str(total.entries), str(total.debits), str(total.credits))
    console.print(totals)
    if report.ok:
        console.print(
            f"[green]ok[/]: {report.accounts_checked} accounts and {report.entries_checked} "
            "entries reconcile"
        )
        return
    violations = Table(title="Violations")
    for column in ("check", "account", "transfer", "detail"):
        violations.add_column(column)
    for violation in report.violations:
        violations.add_row(
            violation.check.value,
            "" if violation.account_id is None else str(violation.account_id),
            violation.transfer_id or "",
            violation.message,
        )
    console.print(violations)
    more = " (only the first of each check are listed)" if report.truncated else ""
    console.print(f"[red]{len(report.violations)} violations[/]{more}")
