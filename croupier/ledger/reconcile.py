"""Reconciliation: prove, from one consistent snapshot, that the ledger is whole.

Checks, each naming the accounts or transfers at fault:

- ``currency_imbalance``: per currency, the debit entries do not sum to the credit entries;
- ``balance_mismatch``: a materialized balance differs from the sum of its entries;
- ``pending_mismatch``: pending totals differ from the sum of pending holds;
- ``negative_player_cash``: a player's cash balance is below zero;
- ``limit_exceeded``: an account is past its own balance limit;
- ``journal_mismatch``: a posted transfer lacks exactly one debit and one credit entry
  of its amount on its accounts, or an entry has no posted transfer;
- ``unknown_account``: an entry names an account that does not exist, or holds another
  currency than its account;
- ``overdue_pending``: a hold is still pending after its timeout (plus a grace);
- ``partition_missing``: fewer than ``MIN_MONTHS_AHEAD`` months of partitions are ready.

Reading everything is a full scan of the entries; that is the price of proving it from
first principles rather than from the materialized balances being checked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from croupier.core.clock import Clock, SystemClock
from croupier.core.errors import InvalidInput
from croupier.ledger.connections import Bind, snapshot
from croupier.ledger.partitions import MIN_MONTHS_AHEAD, missing_partitions

# Enough to act on, bounded so a badly broken ledger still yields a readable report.
MAX_VIOLATIONS_PER_CHECK = 100
MAX_GRACE_S = 24 * 3600


class Check(StrEnum):
    CURRENCY_IMBALANCE = "currency_imbalance"
    BALANCE_MISMATCH = "balance_mismatch"
    PENDING_MISMATCH = "pending_mismatch"
    NEGATIVE_PLAYER_CASH = "negative_player_cash"
    LIMIT_EXCEEDED = "limit_exceeded"
    JOURNAL_MISMATCH = "journal_mismatch"
    UNKNOWN_ACCOUNT = "unknown_account"
    OVERDUE_PENDING = "overdue_pending"
    PARTITION_MISSING = "partition_missing"


@dataclass(frozen=True, slots=True)
class Violation:
    check: Check
    message: str
    account_id: int | None = None
    transfer_id: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    debits: int
    credits: int
    entries: int


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    checked_at: datetime
    accounts_checked: int
    entries_checked: int
    totals: tuple[CurrencyTotals, ...]
    violations: tuple[Violation, ...]
    # True when some check found more than MAX_VIOLATIONS_PER_CHECK and listed only those.
    truncated: bool = False
    scoped: bool = False

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: amounts as decimal strings of minor units, times as ISO 8601."""
        return {
            "ok": self.ok,
            "checked_at": self.checked_at.isoformat(),
            "accounts_checked": self.accounts_checked,
            "entries_checked": self.entries_checked,
            "scoped": self.scoped,
            "truncated": self.truncated,
            "totals": [
                {**asdict(total), "debits": str(total.debits), "credits": str(total.credits)}
                for total in self.totals
            ],
            "violations": [asdict(violation) for violation in self.violations],
        }


def reconcile(
    bind: Bind,
    clock: Clock | None = None,
    *,
    grace_s: int = 0,
    account_ids: Collection[int] | None = None,
) -> ReconciliationReport:
    """Run every check on one snapshot of the ledger.

    ``account_ids`` limits the checks to those accounts (the currency balance then holds
    only if no transfer crosses the set's edge, as for the accounts of one test). Holds
    count as overdue once ``grace_s`` seconds past their timeout, to leave the expiry
    sweeper time to run.
    """
    if isinstance(grace_s, bool) or not isinstance(grace_s, int) or not 0 <= grace_s <= MAX_GRACE_S:
        raise InvalidInput(f"grace must be whole seconds from 0 to {MAX_GRACE_S}")
    checked_at = (clock or SystemClock()).now()
    scope = {
        "everything": account_ids is None,
        "ids": sorted(account_ids) if account_ids is not None else [],
        "limit": MAX_VIOLATIONS_PER_CHECK + 1,
    }
    with snapshot(bind) as conn:
        accounts_checked = int(conn.execute(_COUNT_ACCOUNTS, scope).scalar_one())
        totals = tuple(
            CurrencyTotals(row.currency, int(row.debits), int(row.credits), int(row.entries))
            for row in conn.execute(_TOTALS, scope)
        )
        found = [
            [_imbalance(total) for total in totals if total.debits != total.credits],
            _account_violations(conn, scope),
            _journal_violations(conn, scope),
            _unknown_accounts(conn, scope),
            _overdue(conn, scope, checked_at - timedelta(seconds=grace_s)),
            [
                Violation(Check.PARTITION_MISSING, f"partition {name} does not exist yet")
                for name in missing_partitions(conn, MIN_MONTHS_AHEAD)
            ],
        ]
    truncated = any(len(group) > MAX_VIOLATIONS_PER_CHECK for group in found)
    return ReconciliationReport(
        checked_at=checked_at,
        accounts_checked=accounts_checked,
        entries_checked=sum(total.entries for total in totals),
        totals=totals,
        violations=tuple(v for group in found for v in group[:MAX_VIOLATIONS_PER_CHECK]),
        truncated=truncated,
        scoped=account_ids is not None,
    )


# Every query takes :everything (no scope) or :ids (the accounts in scope).
_COUNT_ACCOUNTS = text(
    "SELECT count(*) FROM accounts WHERE :everything OR id = ANY(CAST(:ids AS bigint[]))"
)

_TOTALS = text(
    """
    SELECT currency,
           coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0) AS debits,
           coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0) AS credits,
           count(*) AS entries
    FROM ledger_entries
    WHERE (:everything OR account_id = ANY(CAST(:ids AS bigint[])))
    GROUP BY currency
    ORDER BY currency
    """
)

_ACCOUNTS = text(
    """
    WITH scope AS (
        SELECT id, kind, currency FROM accounts
        WHERE (:everything OR id = ANY(CAST(:ids AS bigint[])))
    ), materialized AS (
        SELECT b.account_id,
               sum(b.debits_posted) AS debits_posted, sum(b.credits_posted) AS credits_posted,
               sum(b.debits_pending) AS debits_pending,
               sum(b.credits_pending) AS credits_pending,
               bool_or(b.debits_must_not_exceed_credits) AS debit_limited,
               bool_or(b.credits_must_not_exceed_debits) AS credit_limited
        FROM account_balances b JOIN scope s ON s.id = b.account_id
        GROUP BY b.account_id
    ), entries AS (
        SELECT e.account_id,
               coalesce(sum(e.amount) FILTER (WHERE e.direction = 'debit'), 0) AS debits,
               coalesce(sum(e.amount) FILTER (WHERE e.direction = 'credit'), 0) AS credits
        FROM ledger_entries e JOIN scope s ON s.id = e.account_id
        GROUP BY e.account_id
    ), holds AS (
        SELECT legs.account_id, sum(legs.debits) AS debits, sum(legs.credits) AS credits
        FROM (
            SELECT debit_account_id AS account_id, amount AS debits, 0 AS credits
            FROM transfers WHERE status = 'pending'
            UNION ALL
            SELECT credit_account_id, 0, amount FROM transfers WHERE status = 'pending'
        ) legs JOIN scope s ON s.id = legs.account_id
        GROUP BY legs.account_id
    )
    SELECT s.id, s.kind, s.currency, m.account_id IS NOT NULL AS has_balance,
           coalesce(m.debits_posted, 0) AS debits_posted,
           coalesce(m.credits_posted, 0) AS credits_posted,
           coalesce(m.debits_pending, 0) AS debits_pending,
           coalesce(m.credits_pending, 0) AS credits_pending,
           coalesce(m.debit_limited, false) AS debit_limited,
           coalesce(m.credit_limited, false) AS credit_limited,
           coalesce(e.debits, 0) AS entry_debits, coalesce(e.credits, 0) AS entry_credits,
           coalesce(h.debits, 0) AS hold_debits, coalesce(h.credits, 0) AS hold_credits
    FROM scope s
    LEFT JOIN materialized m ON m.account_id = s.id
    LEFT JOIN entries e ON e.account_id = s.id
    LEFT JOIN holds h ON h.account_id = s.id
    WHERE m.account_id IS NULL
       OR m.debits_posted <> coalesce(e.debits, 0) OR m.credits_posted <> coalesce(e.credits, 0)
       OR m.debits_pending <> coalesce(h.debits, 0) OR m.credits_pending <> coalesce(h.credits, 0)
       OR (s.kind = 'player_cash' AND m.credits_posted < m.debits_posted)
       OR (m.debit_limited AND m.debits_posted + m.debits_pending > m.credits_posted)
       OR (m.credit_limited AND m.credits_posted + m.credits_pending > m.debits_posted)
    ORDER BY s.id
    LIMIT :limit
    """
)

_JOURNAL = text(
    """
    WITH posted AS (
        SELECT id, debit_account_id, credit_account_id, amount
        FROM transfers
        WHERE phase IN ('single', 'post')
          AND ((:everything OR debit_account_id = ANY(CAST(:ids AS bigint[])))
               OR (:everything OR credit_account_id = ANY(CAST(:ids AS bigint[]))))
    ), entries AS (
        SELECT transfer_id, count(*) AS lines,
               sum(amount) FILTER (WHERE direction = 'debit') AS debits,
               sum(amount) FILTER (WHERE direction = 'credit') AS credits,
               min(account_id) FILTER (WHERE direction = 'debit') AS debit_account_id,
               min(account_id) FILTER (WHERE direction = 'credit') AS credit_account_id
        FROM ledger_entries
        WHERE (:everything OR account_id = ANY(CAST(:ids AS bigint[])))
        GROUP BY transfer_id
    )
    SELECT coalesce(p.id, e.transfer_id) AS transfer_id,
           coalesce(p.debit_account_id, e.debit_account_id) AS debit_account_id,
           coalesce(p.credit_account_id, e.credit_account_id) AS credit_account_id,
           p.id IS NULL AS orphan, e.transfer_id IS NULL AS unentered
    FROM posted p FULL JOIN entries e ON e.transfer_id = p.id
    WHERE p.id IS NULL OR e.transfer_id IS NULL OR e.lines <> 2
       OR e.debits IS DISTINCT FROM p.amount OR e.credits IS DISTINCT FROM p.amount
       OR e.debit_account_id IS DISTINCT FROM p.debit_account_id
       OR e.credit_account_id IS DISTINCT FROM p.credit_account_id
    ORDER BY 1
    LIMIT :limit
    """
)

_UNKNOWN_ACCOUNTS = text(
    """
    SELECT e.account_id, e.currency, a.currency AS account_currency, count(*) AS entries
    FROM ledger_entries e LEFT JOIN accounts a ON a.id = e.account_id
    WHERE (:everything OR e.account_id = ANY(CAST(:ids AS bigint[])))
      AND (a.id IS NULL OR a.currency <> e.currency)
    GROUP BY e.account_id, e.currency, a.currency
    ORDER BY e.account_id
    LIMIT :limit
    """
)

_OVERDUE = text(
    """
    SELECT id, debit_account_id, credit_account_id, amount, currency, expires_at
    FROM transfers
    WHERE status = 'pending' AND expires_at <= :cutoff
      AND ((:everything OR debit_account_id = ANY(CAST(:ids AS bigint[])))
           OR (:everything OR credit_account_id = ANY(CAST(:ids AS bigint[]))))
    ORDER BY expires_at, id
    LIMIT :limit
    """
)


def _imbalance(total: CurrencyTotals) -> Violation:
    return Violation(
        Check.CURRENCY_IMBALANCE,
        f"{total.currency}: debit entries sum to {total.debits}, credit entries to "
        f"{total.credits} (difference {total.debits - total.credits})",
        currency=total.currency,
    )


def _account_violations(conn: Connection, scope: dict[str, Any]) -> list[Violation]:
    return [
        Violation(
            check,
            f"account {row.id} ({row.kind} {row.currency}): {problem}",
            row.id,
            None,
            row.currency,
        )
        for row in conn.execute(_ACCOUNTS, scope)
        for check, problem in _account_problems(row)
    ]


def _account_problems(row: Any) -> Iterator[tuple[Check, str]]:
    if not row.has_balance:
        yield Check.BALANCE_MISMATCH, "has no balance rows"
        return
    if (row.debits_posted, row.credits_posted) != (row.entry_debits, row.entry_credits):
        yield (
            Check.BALANCE_MISMATCH,
            f"balance says debits {row.debits_posted} / credits {row.credits_posted}, "
            f"its entries sum to {row.entry_debits} / {row.entry_credits}",
        )
    if (row.debits_pending, row.credits_pending) != (row.hold_debits, row.hold_credits):
        yield (
            Check.PENDING_MISMATCH,
            f"pending debits {row.debits_pending} / credits {row.credits_pending}, "
            f"its pending holds sum to {row.hold_debits} / {row.hold_credits}",
        )
    if row.kind == "player_cash" and row.credits_posted < row.debits_posted:
        yield Check.NEGATIVE_PLAYER_CASH, f"balance is {row.credits_posted - row.debits_posted}"
    if row.debit_limited and row.debits_posted + row.debits_pending > row.credits_posted:
        yield Check.LIMIT_EXCEEDED, "debits and pending debits exceed credits"
    if row.credit_limited and row.credits_posted + row.credits_pending > row.debits_posted:
        yield Check.LIMIT_EXCEEDED, "credits and pending credits exceed debits"


def _journal_violations(conn: Connection, scope: dict[str, Any]) -> list[Violation]:
    violations = []
    for row in conn.execute(_JOURNAL, scope):
        if row.orphan:
            problem = "has entries but no posted transfer"
        elif row.unentered:
            problem = "is posted but has no entries"
        else:
            problem = "entries do not match it (two lines, its amount, its accounts)"
        violations.append(
            Violation(
                Check.JOURNAL_MISMATCH,
                f"transfer {row.transfer_id} (debit account {row.debit_account_id}, credit "
                f"account {row.credit_account_id}) {problem}",
                account_id=row.debit_account_id,
                transfer_id=row.transfer_id,
            )
        )
    return violations


def _unknown_accounts(conn: Connection, scope: dict[str, Any]) -> list[Violation]:
    return [
        Violation(
            Check.UNKNOWN_ACCOUNT,
            f"{row.entries} {row.currency} entries name account {row.account_id}, which "
            + (
                "does not exist"
                if row.account_currency is None
                else f"holds {row.account_currency}"
            ),
            account_id=row.account_id,
            currency=row.currency,
        )
        for row in conn.execute(_UNKNOWN_ACCOUNTS, scope)
    ]


def _overdue(conn: Connection, scope: dict[str, Any], cutoff: datetime) -> list[Violation]:
    return [
        Violation(
            Check.OVERDUE_PENDING,
            f"hold {row.id} of {row.amount} {row.currency} from account "
            f"{row.debit_account_id} to {row.credit_account_id} expired at "
            f"{row.expires_at.isoformat()} and is still pending",
            account_id=row.debit_account_id,
            transfer_id=row.id,
            currency=row.currency,
        )
        for row in conn.execute(_OVERDUE, {**scope, "cutoff": cutoff})
    ]
