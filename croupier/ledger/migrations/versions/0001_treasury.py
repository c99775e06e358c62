"""treasury: sweeps to cold, deposit-address consolidation, refills from cold

Revision ID: 0001_treasury
Revises:
Create Date: 2025-01-03

See ``croupier/sweeps/tables.py`` for each column. The database guards what the code
promises:

- a movement is one row per business key, and at most one is in flight per currency's
  sweep, per deposit address sending, and per deposit address being topped up (one
  transaction per address at a time: its nonce is never contended);
- a deposit-address transaction is stored before it is broadcast, numbered per movement;
- at most one refill per chain and currency is open, and a staff member approves a
  refill at most once (the two approvals are two different people).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_treasury"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("treasury",)
depends_on: str | Sequence[str] | None = ("0002_payments_any_send",)

UPGRADE = """
CREATE TABLE treasury_movements (
    id text PRIMARY KEY,
    kind text NOT NULL,
    chain text NOT NULL,
    currency text NOT NULL,
    from_address text NOT NULL,
    to_address text NOT NULL,
    hd_index integer,
    amount numeric(78, 0) NOT NULL,
    fee_reserved numeric(78, 0) NOT NULL,
    send_id uuid,
    status text NOT NULL,
    tx_hash text,
    fee_paid numeric(78, 0),
    workflow_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_treasury_movements_send_id UNIQUE (send_id),
    CONSTRAINT ck_treasury_movements_kind
        CHECK (kind IN ('sweep', 'top_up', 'consolidation', 'refill')),
    CONSTRAINT ck_treasury_movements_status
        CHECK (status IN ('held', 'completed', 'failed', 'cancelled')),
    CONSTRAINT ck_treasury_movements_amount CHECK (amount > 0 AND fee_reserved >= 0),
    CONSTRAINT ck_treasury_movements_completed
        CHECK (status <> 'completed' OR (tx_hash IS NOT NULL AND fee_paid IS NOT NULL)),
    CONSTRAINT ck_treasury_movements_fee_paid CHECK (fee_paid >= 0),
    CONSTRAINT ck_treasury_movements_sender
        CHECK ((kind IN ('sweep', 'top_up')) = (send_id IS NOT NULL)),
    CONSTRAINT ck_treasury_movements_hd_index
        CHECK ((kind = 'consolidation') = (hd_index IS NOT NULL))
);
CREATE UNIQUE INDEX uq_treasury_movements_one_sweep ON treasury_movements (chain, currency)
    WHERE kind = 'sweep' AND status = 'held';
CREATE UNIQUE INDEX uq_treasury_movements_one_send_per_address
    ON treasury_movements (chain, from_address) WHERE kind = 'consolidation' AND status = 'held';
CREATE UNIQUE INDEX uq_treasury_movements_one_top_up_per_address
    ON treasury_movements (chain, to_address) WHERE kind = 'top_up' AND status = 'held';
CREATE INDEX ix_treasury_movements_from ON treasury_movements (chain, from_address);
CREATE INDEX ix_treasury_movements_to ON treasury_movements (chain, to_address);
CREATE INDEX ix_treasury_movements_held ON treasury_movements (kind, chain)
    WHERE status = 'held';

CREATE TABLE treasury_transactions (
    tx_hash text PRIMARY KEY,
    movement_id text NOT NULL
        CONSTRAINT fk_treasury_transactions_movement_id REFERENCES treasury_movements (id),
    attempt smallint NOT NULL,
    chain_id bigint NOT NULL,
    sender text NOT NULL,
    nonce bigint NOT NULL,
    to_address text NOT NULL,
    value_wei numeric(78, 0) NOT NULL,
    data bytea NOT NULL,
    gas_limit bigint NOT NULL,
    max_fee_per_gas numeric(78, 0) NOT NULL,
    max_priority_fee_per_gas numeric(78, 0) NOT NULL,
    raw bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_treasury_transactions_attempt UNIQUE (movement_id, attempt),
    CONSTRAINT ck_treasury_transactions_attempt CHECK (attempt BETWEEN 1 AND 100)
);

CREATE TABLE refill_requests (
    id uuid PRIMARY KEY,
    chain text NOT NULL,
    currency text NOT NULL,
    amount numeric(78, 0) NOT NULL,
    cold_address text NOT NULL,
    hot_address text NOT NULL,
    status text NOT NULL,
    requested_by text NOT NULL,
    reason text NOT NULL,
    tx_hash text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_refill_requests_amount CHECK (amount > 0),
    CONSTRAINT ck_refill_requests_status CHECK (status IN (
        'awaiting_approval', 'awaiting_transaction', 'confirming', 'completed', 'expired')),
    CONSTRAINT ck_refill_requests_reason CHECK (length(reason) BETWEEN 1 AND 500)
);
CREATE UNIQUE INDEX uq_refill_requests_one_open ON refill_requests (chain, currency)
    WHERE status IN ('awaiting_approval', 'awaiting_transaction', 'confirming');

CREATE TABLE refill_approvals (
    refill_id uuid NOT NULL
        CONSTRAINT fk_refill_approvals_refill_id REFERENCES refill_requests (id),
    staff_id uuid NOT NULL,
    reason text NOT NULL,
    approved_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_refill_approvals PRIMARY KEY (refill_id, staff_id),
    CONSTRAINT ck_refill_approvals_reason CHECK (length(reason) BETWEEN 1 AND 500)
);
"""

DOWNGRADE = """
DROP TABLE refill_approvals;
DROP TABLE refill_requests;
DROP TABLE treasury_transactions;
DROP TABLE treasury_movements;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
