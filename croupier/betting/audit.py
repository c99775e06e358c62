"""Bets against the ledger: every settled bet moved exactly its stake and its payout.

The ledger's own reconciliation proves the books balance; this proves the books say
what the bets say: each bet has one stake transfer of its amount (``bet-<id>-stake``),
a payout transfer of its payout exactly when that is not zero (``bet-<id>-payout``),
and no bet transfer lacks its bet. Run it scoped to one player after a test, or over
everything from a reconciliation job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from croupier.core.errors import InvalidInput
from croupier.ledger.connections import Bind, snapshot

MAX_MISMATCHES = 100


@dataclass(frozen=True, slots=True)
class BetMismatch:
    bet_id: uuid.UUID | None
    transfer_id: str | None
    problem: str


def bet_ledger_mismatches(
    bind: Bind, *, user_id: uuid.UUID | None = None, limit: int = MAX_MISMATCHES
) -> tuple[BetMismatch, ...]:
    """Up to ``limit`` disagreements between bets and their transfers (none: all good)."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_MISMATCHES:
        raise InvalidInput(f"limit must be from 1 to {MAX_MISMATCHES}")
    scope = {"everyone": user_id is None, "user_id": str(user_id) if user_id else None}
    with snapshot(bind) as conn:
        rows = conn.execute(_MISMATCHES, {**scope, "limit": limit}).all()
    return tuple(BetMismatch(row.bet_id, row.transfer_id, row.problem) for row in rows)


_MISMATCHES = text(
    """
    WITH scoped AS (
        SELECT id, amount, payout, status FROM bets
        WHERE :everyone OR user_id = CAST(:user_id AS uuid)
    ), checked AS (
        SELECT b.id AS bet_id, NULL::text AS transfer_id,
               CASE
                   WHEN s.id IS NULL THEN 'no stake transfer'
                   WHEN s.amount <> b.amount THEN 'stake transfer differs from the amount'
                   WHEN b.status = 'settled' AND b.payout > 0 AND p.id IS NULL
                       THEN 'no payout transfer'
                   WHEN p.id IS NOT NULL AND (b.status <> 'settled' OR p.amount <> b.payout)
                       THEN 'payout transfer differs from the payout'
               END AS problem
        FROM scoped b
        LEFT JOIN transfers s ON s.id = 'bet-' || b.id || '-stake'
        LEFT JOIN transfers p ON p.id = 'bet-' || b.id || '-payout'
    ), orphans AS (
        SELECT NULL::uuid AS bet_id, t.id AS transfer_id, 'bet transfer without a bet' AS problem
        FROM transfers t
        WHERE :everyone AND t.type IN ('bet', 'win') AND t.id LIKE 'bet-%'
          AND NOT EXISTS (
              SELECT 1 FROM bet_keys k
              WHERE k.id::text = substring(t.id FROM 5 FOR 36)
          )
    )
    SELECT * FROM checked WHERE problem IS NOT NULL
    UNION ALL
    SELECT * FROM orphans
    LIMIT :limit
    """
)
