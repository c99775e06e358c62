"""bonus: bets staked before they are played (mines, crash) are wagered in two steps

Revision ID: 0003_bonus_staked_bets
Revises: 0002_bonus_rewards
Create Date: 2025-01-03

A mines game stakes when it opens and a crash bet when it is placed; both settle
later. Their ``bonus_wagering`` row is written with the stake's split, and completed
(payout, its bonus share, the contribution) when the bet settles: ``settled_at`` says
which rows are complete. Every row written so far was written settled.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_bonus_staked_bets"
down_revision: str | None = "0002_bonus_rewards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE bonus_wagering ADD COLUMN settled_at timestamptz")
    op.execute("UPDATE bonus_wagering SET settled_at = placed_at")
    op.execute(
        """
        ALTER TABLE bonus_wagering ADD CONSTRAINT ck_bonus_wagering_open CHECK (
            settled_at IS NOT NULL OR (payout = 0 AND payout_bonus = 0 AND contribution = 0))
        """
    )


def downgrade() -> None:
    op.execute("DELETE FROM bonus_wagering WHERE settled_at IS NULL")
    op.execute("ALTER TABLE bonus_wagering DROP COLUMN settled_at")
