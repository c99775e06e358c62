"""bonus: a deposit qualifies one deposit match

Revision ID: 0004_bonus_deposit_once
Revises: 0003_bonus_staked_bets
Create Date: 2025-01-04

A pending match takes its deposit two ways: the Deposit workflow signals it, and the
activation looks up a deposit credited since the claim (one credited before the Bonus
workflow started found nobody to signal). The same deposit may come both ways, or be
offered to a later bonus; ``bonuses.deposit_id`` is unique, so it grants once.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_bonus_deposit_once"
down_revision: str | None = "0003_bonus_staked_bets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE UNIQUE INDEX uq_bonuses_deposit_id ON bonuses (deposit_id) "
        "WHERE deposit_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_bonuses_deposit_id")
