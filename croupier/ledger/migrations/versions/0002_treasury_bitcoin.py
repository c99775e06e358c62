"""treasury: Bitcoin consolidation transactions and the deposit coins each one spends

Revision ID: 0002_treasury_bitcoin
Revises: 0001_treasury
Create Date: 2025-01-04

A Bitcoin consolidation is one transaction spending coins of many deposit addresses
(one ``treasury_movements`` row per address, all with the same transaction). Two tables
hold what Ethereum's ``treasury_transactions`` holds for a deposit-address transaction:

- ``treasury_btc_transactions``: the signed transaction, stored before it is broadcast,
  so a crash re-broadcasts the same bytes;
- ``treasury_btc_inputs``: every deposit coin it spends, with the movement (address)
  it belongs to. The primary key is the coin: a coin is consolidated at most once, so a
  later plan never signs it again, even while the first transaction is not (or no
  longer) in the node's mempool.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_treasury_bitcoin"
down_revision: str | None = "0001_treasury"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE treasury_btc_transactions (
    txid text PRIMARY KEY,
    fee_sat numeric(78, 0) NOT NULL,
    vsize integer NOT NULL,
    raw bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_treasury_btc_transactions_txid CHECK (txid ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_treasury_btc_transactions_fee CHECK (fee_sat > 0 AND vsize > 0)
);

CREATE TABLE treasury_btc_inputs (
    txid text NOT NULL,
    vout integer NOT NULL,
    spent_by text NOT NULL
        CONSTRAINT fk_treasury_btc_inputs_spent_by
        REFERENCES treasury_btc_transactions (txid),
    movement_id text NOT NULL
        CONSTRAINT fk_treasury_btc_inputs_movement_id
        REFERENCES treasury_movements (id),
    CONSTRAINT pk_treasury_btc_inputs PRIMARY KEY (txid, vout),
    CONSTRAINT ck_treasury_btc_inputs_vout CHECK (vout >= 0)
);
CREATE INDEX ix_treasury_btc_inputs_movement_id ON treasury_btc_inputs (movement_id);
"""

DOWNGRADE = """
DROP TABLE treasury_btc_inputs;
DROP TABLE treasury_btc_transactions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
