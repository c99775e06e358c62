"""bonus: reward periods (cashback, rakeback, VIP volume) replace cashback payouts

Revision ID: 0002_bonus_rewards
Revises: 0001_bonus
Create Date: 2025-01-02

One ``reward_periods`` row per player, currency and period holds what the periodic run
paid (cashback and rakeback) and the volume that climbs the VIP ladder; its key makes a
period paid once. ``cashback_payouts`` was never written and goes: a period's cashback
and rakeback are one decision and one row.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_bonus_rewards"
down_revision: str | None = "0001_bonus"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP TABLE cashback_payouts")
    op.execute(
        """
        CREATE TABLE reward_periods (
            user_id uuid NOT NULL,
            currency text NOT NULL,
            period_start timestamptz NOT NULL,
            period_end timestamptz NOT NULL,
            wagered numeric(78, 0) NOT NULL,
            net_loss numeric(78, 0) NOT NULL,
            vip_level integer NOT NULL,
            rakeback_percent integer NOT NULL,
            cashback numeric(78, 0) NOT NULL,
            rakeback numeric(78, 0) NOT NULL,
            paid_at timestamptz NOT NULL,
            PRIMARY KEY (user_id, currency, period_start),
            CONSTRAINT ck_reward_periods_period CHECK (period_start < period_end),
            CONSTRAINT ck_reward_periods_amounts CHECK (
                wagered >= 0 AND net_loss <= wagered AND cashback >= 0 AND rakeback >= 0
                AND cashback <= greatest(net_loss, 0) AND rakeback <= wagered),
            CONSTRAINT ck_reward_periods_level CHECK (
                vip_level >= 0 AND rakeback_percent BETWEEN 0 AND 100)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE reward_periods")
    op.execute(
        """
        CREATE TABLE cashback_payouts (
            id text PRIMARY KEY,
            user_id uuid NOT NULL,
            currency text NOT NULL,
            period_start timestamptz NOT NULL,
            period_end timestamptz NOT NULL,
            net_loss numeric(78, 0) NOT NULL,
            amount numeric(78, 0) NOT NULL,
            paid_at timestamptz NOT NULL,
            CONSTRAINT ck_cashback_payouts_amount CHECK (amount > 0 AND net_loss > 0),
            CONSTRAINT ck_cashback_payouts_period CHECK (period_start < period_end)
        )
        """
    )
