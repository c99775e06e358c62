"""bonus: bonuses, claims (abuse checks), wagering contributions, cashback payouts

Revision ID: 0001_bonus
Revises:
Create Date: 2025-01-01

See ``croupier/bonus/tables.py`` for what each table holds. The database guards what
the code promises:

- one open bonus (pending, active or wagered) per player and currency;
- one welcome claim per account, per verified identity, per device fingerprint and
  per deposit address (partial unique indexes: racing claims cannot both win);
- a bet contributes to wagering once (``bonus_wagering`` is keyed by the bet id);
- amounts are whole, non-negative minor units; a closed bonus says what it paid out.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_bonus"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("bonus",)
depends_on: str | Sequence[str] | None = None

_STATUSES = "'pending', 'active', 'wagered', 'released', 'forfeited', 'expired'"
_OPEN = "'pending', 'active', 'wagered'"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE bonuses (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            currency text NOT NULL,
            offer text NOT NULL,
            kind text NOT NULL,
            status text NOT NULL,
            amount numeric(78, 0) NOT NULL,
            wagering_required numeric(78, 0) NOT NULL,
            wagered numeric(78, 0) NOT NULL DEFAULT 0,
            multiple integer NOT NULL,
            max_bet numeric(78, 0) NOT NULL,
            max_conversion numeric(78, 0),
            game_weights jsonb NOT NULL,
            expires_after_s integer NOT NULL,
            deposit_id text,
            claimed_at timestamptz NOT NULL,
            activated_at timestamptz,
            expires_at timestamptz NOT NULL,
            closed_at timestamptz,
            released numeric(78, 0),
            returned numeric(78, 0),
            CONSTRAINT ck_bonuses_status CHECK (status IN ({_STATUSES})),
            CONSTRAINT ck_bonuses_kind CHECK (kind IN ('deposit_match', 'free_bet')),
            CONSTRAINT ck_bonuses_amounts CHECK (
                amount >= 0 AND wagering_required >= 0 AND wagered >= 0 AND max_bet > 0
                AND (max_conversion IS NULL OR max_conversion > 0)
                AND coalesce(released, 0) >= 0 AND coalesce(returned, 0) >= 0),
            CONSTRAINT ck_bonuses_closed_when_final CHECK (
                (closed_at IS NOT NULL) = (status NOT IN ({_OPEN}))
                AND (closed_at IS NULL OR (released IS NOT NULL AND returned IS NOT NULL))),
            CONSTRAINT ck_bonuses_active_has_money CHECK (
                status = 'pending' OR activated_at IS NULL OR amount > 0)
        )
        """
    )
    op.execute(
        f"CREATE UNIQUE INDEX uq_bonuses_one_open ON bonuses (user_id, currency) "
        f"WHERE status IN ({_OPEN})"
    )
    op.execute("CREATE INDEX ix_bonuses_user ON bonuses (user_id, claimed_at DESC)")
    op.execute(
        """
        CREATE TABLE bonus_claims (
            bonus_id uuid PRIMARY KEY REFERENCES bonuses (id),
            user_id uuid NOT NULL,
            offer text NOT NULL,
            welcome boolean NOT NULL,
            identity_key text,
            device_fingerprint text,
            deposit_from_address text,
            claimed_at timestamptz NOT NULL,
            CONSTRAINT ck_bonus_claims_lengths CHECK (
                length(identity_key) <= 128 AND length(device_fingerprint) <= 256
                AND length(deposit_from_address) <= 128)
        )
        """
    )
    op.execute("CREATE INDEX ix_bonus_claims_user ON bonus_claims (user_id, claimed_at DESC)")
    for column in ("user_id", "identity_key", "device_fingerprint", "deposit_from_address"):
        op.execute(
            f"CREATE UNIQUE INDEX uq_bonus_claims_welcome_{column} ON bonus_claims ({column}) "
            f"WHERE welcome AND {column} IS NOT NULL"
        )
    op.execute(
        """
        CREATE TABLE bonus_wagering (
            bet_id uuid PRIMARY KEY,
            bonus_id uuid NOT NULL REFERENCES bonuses (id),
            game text NOT NULL,
            params jsonb NOT NULL,
            stake numeric(78, 0) NOT NULL,
            stake_bonus numeric(78, 0) NOT NULL,
            payout numeric(78, 0) NOT NULL,
            payout_bonus numeric(78, 0) NOT NULL,
            contribution numeric(78, 0) NOT NULL,
            hedge boolean NOT NULL,
            placed_at timestamptz NOT NULL,
            CONSTRAINT ck_bonus_wagering_amounts CHECK (
                stake > 0 AND stake_bonus BETWEEN 0 AND stake
                AND payout >= 0 AND payout_bonus BETWEEN 0 AND payout
                AND contribution BETWEEN 0 AND stake AND (NOT hedge OR contribution = 0))
        )
        """
    )
    op.execute("CREATE INDEX ix_bonus_wagering_bonus ON bonus_wagering (bonus_id, placed_at DESC)")
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


def downgrade() -> None:
    op.execute("DROP TABLE cashback_payouts, bonus_wagering, bonus_claims, bonuses")
