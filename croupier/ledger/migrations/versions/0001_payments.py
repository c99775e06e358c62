"""payments: HD indexes and deposit addresses, scanner cursors, deposits, withdrawals, sends

Revision ID: 0001_payments
Revises:
Create Date: 2025-01-01

See ``croupier/payments/tables.py`` for the meaning of each column. The database guards
what the code promises:

- a player has one HD index, from a sequence, forever; an address belongs to one player;
- a deposit is one row per (chain, tx hash, log index), its id the business key that is
  also its workflow id and its ledger transfer id; a credited deposit stays credited;
- a withdrawal's hot-wallet send has one nonce for life, and a (sender, nonce) pays one
  withdrawal only: every replacement of a stuck transaction reuses that nonce, so at
  most one transaction can ever pay a withdrawal.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_payments"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("payments",)
depends_on: str | Sequence[str] | None = ("0001_identity",)

DEPOSIT_STATUSES = "'pending', 'confirming', 'credited', 'orphaned', 'dust'"
WITHDRAWAL_STATUSES = (
    "'held', 'awaiting_approval', 'paused_by_circuit_breaker', 'approved', 'rejected', "
    "'cancelled', 'expired', "
    "'sending', 'broadcast', 'completed', 'failed'"
)

UPGRADE = f"""
CREATE SEQUENCE payment_hd_index_seq AS integer MINVALUE 0 MAXVALUE 2147483647 START 0 NO CYCLE;

CREATE TABLE player_hd_indexes (
    user_id uuid PRIMARY KEY
        CONSTRAINT fk_player_hd_indexes_user_id_users REFERENCES users (id),
    hd_index integer NOT NULL DEFAULT nextval('payment_hd_index_seq'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_player_hd_indexes_hd_index UNIQUE (hd_index)
);
ALTER SEQUENCE payment_hd_index_seq OWNED BY player_hd_indexes.hd_index;

CREATE TABLE deposit_addresses (
    user_id uuid NOT NULL
        CONSTRAINT fk_deposit_addresses_user_id REFERENCES player_hd_indexes (user_id),
    chain text NOT NULL,
    address text NOT NULL,
    hd_index integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_deposit_addresses PRIMARY KEY (user_id, chain),
    CONSTRAINT uq_deposit_addresses_chain_address UNIQUE (chain, address)
);

CREATE TABLE chain_cursors (
    chain text PRIMARY KEY,
    window_headers jsonb NOT NULL,
    tip_number bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_chain_cursors_window_is_array CHECK (jsonb_typeof(window_headers) = 'array')
);

CREATE TABLE deposits (
    id text PRIMARY KEY,
    chain text NOT NULL,
    tx_hash text NOT NULL,
    log_index integer NOT NULL,
    user_id uuid NOT NULL CONSTRAINT fk_deposits_user_id_users REFERENCES users (id),
    address text NOT NULL,
    from_address text NOT NULL,
    currency text NOT NULL,
    amount numeric(78, 0) NOT NULL,
    status text NOT NULL,
    block_number bigint,
    block_hash text,
    confirmations integer NOT NULL DEFAULT 0,
    confirmations_required integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    credited_at timestamptz,
    CONSTRAINT uq_deposits_chain_tx_log UNIQUE (chain, tx_hash, log_index),
    CONSTRAINT ck_deposits_amount_positive CHECK (amount > 0),
    CONSTRAINT ck_deposits_status CHECK (status IN ({DEPOSIT_STATUSES})),
    CONSTRAINT ck_deposits_credited_at CHECK ((status = 'credited') = (credited_at IS NOT NULL)),
    CONSTRAINT ck_deposits_confirmations CHECK (confirmations >= 0 AND confirmations_required >= 1)
);
CREATE INDEX ix_deposits_user_id_created_at ON deposits (user_id, created_at DESC, id);

-- Once credited, a deposit never changes again (the ledger holds the money now).
CREATE FUNCTION deposits_credited_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'credited' THEN
        RAISE EXCEPTION 'deposit % is credited and cannot change', OLD.id
            USING ERRCODE = 'CP001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trg_deposits_credited_is_final BEFORE UPDATE OR DELETE ON deposits
    FOR EACH ROW EXECUTE FUNCTION deposits_credited_is_final();

CREATE TABLE withdrawals (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL CONSTRAINT fk_withdrawals_user_id_users REFERENCES users (id),
    currency text NOT NULL,
    amount numeric(78, 0) NOT NULL,
    fee numeric(78, 0) NOT NULL,
    to_address text NOT NULL,
    status text NOT NULL,
    review_reasons text[] NOT NULL DEFAULT '{{}}',
    decided_by uuid,
    decision_reason text,
    approval_reminders integer NOT NULL DEFAULT 0,
    tx_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_withdrawals_amount_positive CHECK (amount > 0),
    CONSTRAINT ck_withdrawals_fee CHECK (fee >= 0),
    CONSTRAINT ck_withdrawals_status CHECK (status IN ({WITHDRAWAL_STATUSES})),
    CONSTRAINT ck_withdrawals_decision_reason CHECK (length(decision_reason) <= 500)
);
CREATE INDEX ix_withdrawals_user_id_created_at ON withdrawals (user_id, created_at);

CREATE TABLE hot_wallet_sends (
    withdrawal_id uuid PRIMARY KEY
        CONSTRAINT fk_hot_wallet_sends_withdrawal_id REFERENCES withdrawals (id),
    chain text NOT NULL,
    sender text NOT NULL,
    nonce bigint NOT NULL,
    status text NOT NULL,
    final_tx_hash text,
    fee_paid numeric(78, 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_hot_wallet_sends_sender_nonce UNIQUE (chain, sender, nonce),
    CONSTRAINT ck_hot_wallet_sends_nonce CHECK (nonce >= 0),
    CONSTRAINT ck_hot_wallet_sends_status CHECK (status IN ('in_flight', 'confirmed', 'reverted')),
    CONSTRAINT ck_hot_wallet_sends_final CHECK ((status = 'in_flight') = (final_tx_hash IS NULL))
);

CREATE TABLE hot_wallet_transactions (
    tx_hash text PRIMARY KEY,
    withdrawal_id uuid NOT NULL
        CONSTRAINT fk_hot_wallet_transactions_withdrawal_id
        REFERENCES hot_wallet_sends (withdrawal_id),
    attempt smallint NOT NULL,
    chain_id bigint NOT NULL,
    to_address text,
    value_wei numeric(78, 0) NOT NULL,
    data bytea NOT NULL,
    gas_limit bigint NOT NULL,
    max_fee_per_gas numeric(78, 0) NOT NULL,
    max_priority_fee_per_gas numeric(78, 0) NOT NULL,
    raw bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_hot_wallet_transactions_attempt UNIQUE (withdrawal_id, attempt),
    CONSTRAINT ck_hot_wallet_transactions_attempt CHECK (attempt BETWEEN 1 AND 100)
);
"""

DOWNGRADE = """
DROP TABLE hot_wallet_transactions;
DROP TABLE hot_wallet_sends;
DROP TABLE withdrawals;
DROP TABLE deposits;
DROP FUNCTION deposits_credited_is_final();
DROP TABLE chain_cursors;
DROP TABLE deposit_addresses;
DROP TABLE player_hd_indexes;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
