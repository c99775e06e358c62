"""payments: Bitcoin sends from the hot wallet, each signed spend and the coins it uses

Revision ID: 0003_payments_bitcoin_sends
Revises: 0002_payments_any_send
Create Date: 2025-01-03

A Bitcoin send has no nonce: what makes "at most one transaction pays a withdrawal"
hold is that every transaction signed for a send (the first and each RBF replacement)
spends the send's first inputs, so they conflict and the chain can include only one.
``hot_wallet_sends.nonce`` stays the send's ordinal per hot address (it orders sends
and restores them), and two tables hold the rest:

- ``btc_hot_wallet_transactions``: every signed transaction of a send with the plan it
  was signed from (inputs, payments, change, fee), stored before it is broadcast, so a
  crash loses nothing and a stuck one can be replaced from the same inputs;
- ``btc_hot_wallet_inputs``: the coins a send spends, each owned by one send for good
  (the primary key), so no later send can pick a coin an earlier one signed for, even
  while that transaction is not (or no longer) in the node's mempool.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_payments_bitcoin_sends"
down_revision: str | None = "0002_payments_any_send"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE btc_hot_wallet_transactions (
    txid text PRIMARY KEY,
    withdrawal_id uuid NOT NULL
        CONSTRAINT fk_btc_hot_wallet_transactions_withdrawal_id
        REFERENCES hot_wallet_sends (withdrawal_id),
    attempt smallint NOT NULL,
    spend_plan jsonb NOT NULL,
    fee_sat numeric(78, 0) NOT NULL,
    vsize integer NOT NULL,
    raw bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_btc_hot_wallet_transactions_attempt UNIQUE (withdrawal_id, attempt),
    CONSTRAINT ck_btc_hot_wallet_transactions_attempt CHECK (attempt BETWEEN 1 AND 100),
    CONSTRAINT ck_btc_hot_wallet_transactions_txid CHECK (txid ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_btc_hot_wallet_transactions_fee CHECK (fee_sat > 0 AND vsize > 0)
);

CREATE TABLE btc_hot_wallet_inputs (
    txid text NOT NULL,
    vout integer NOT NULL,
    withdrawal_id uuid NOT NULL
        CONSTRAINT fk_btc_hot_wallet_inputs_withdrawal_id
        REFERENCES hot_wallet_sends (withdrawal_id),
    CONSTRAINT pk_btc_hot_wallet_inputs PRIMARY KEY (txid, vout),
    CONSTRAINT ck_btc_hot_wallet_inputs_vout CHECK (vout >= 0)
);
CREATE INDEX ix_btc_hot_wallet_inputs_withdrawal_id ON btc_hot_wallet_inputs (withdrawal_id);
"""

DOWNGRADE = """
DROP TABLE btc_hot_wallet_inputs;
DROP TABLE btc_hot_wallet_transactions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
