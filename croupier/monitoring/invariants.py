"""The ledger's own invariants, checked by ``croupier.ledger.reconcile`` and alarmed here.

Violations are grouped by check: one open alert per kind of breakage (balance
mismatch, journal mismatch, ...), listing the first accounts and transfers at fault.
A ledger that stays broken across runs keeps one alert whose ``occurrences`` grows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict

from sqlalchemy import Engine

from croupier.ledger.reconcile import Check, ReconciliationReport, Violation, reconcile
from croupier.monitoring.alerts import MAX_MESSAGE_CHARS, AlertKind, Severity, raise_alert

# Violations quoted in one alert's details; the report names up to 100 per check.
MAX_QUOTED_VIOLATIONS = 20
# Late holds are the expiry sweeper's job; the rest means money may be wrong.
WARNING_CHECKS = frozenset({Check.OVERDUE_PENDING, Check.PARTITION_MISSING})


def check_ledger(
    engine: Engine, *, grace_s: int, account_ids: Collection[int] | None = None
) -> ReconciliationReport:
    """Run ``reconcile`` on one snapshot and raise one alert per violated check."""
    report = reconcile(engine, grace_s=grace_s, account_ids=account_ids)
    by_check: dict[Check, list[Violation]] = {}
    for violation in report.violations:
        by_check.setdefault(violation.check, []).append(violation)
    if not by_check:
        return report
    scope = "all" if account_ids is None else ",".join(str(i) for i in sorted(account_ids))
    with engine.begin() as conn:
        for check, violations in sorted(by_check.items()):
            raise_alert(
                conn,
                AlertKind.LEDGER_INVARIANT,
                Severity.WARNING if check in WARNING_CHECKS else Severity.CRITICAL,
                f"ledger {check.value}: {len(violations)} violation(s); first: "
                f"{violations[0].message}"[:MAX_MESSAGE_CHARS],
                {
                    "check": check.value,
                    "violations": len(violations),
                    "truncated": report.truncated,
                    "first": [asdict(v) for v in violations[:MAX_QUOTED_VIOLATIONS]],
                },
                dedup_key=f"{check.value}:{scope}"[:255],
            )
    return report
