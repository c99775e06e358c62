"""monitoring: per-address reconciliation of player deposit addresses

Revision ID: 0002_monitoring_deposits
Revises: 0001_monitoring
Create Date: 2025-01-03

See ``croupier/monitoring/deposit_addresses.py``. Reconciliation checks a bounded batch
of deposit addresses per run and rotates through them:

- ``deposit_address_cursors``: per chain, the HD index the last batch ended at;
- ``deposit_address_observations``: the latest comparison per address and currency, and
  since when it has disagreed (a surplus is alarmed only once it outlives the grace);
- ``reconciliation_runs.deposit_mismatches``: the run's verdict on deposit addresses.

Two indexes on payments' tables serve the batches (hence the dependency on the payments
branch): ``deposits (chain, address)``, so a batch reads its addresses' deposits without
scanning every deposit ever made, and ``deposit_addresses (chain, hd_index)``, so the
next batch after the cursor is an index range, not a sort of every address.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_monitoring_deposits"
down_revision: str | None = "0001_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0001_payments"

UPGRADE = """
CREATE TABLE deposit_address_cursors (
    chain text NOT NULL,
    after_hd_index integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_deposit_address_cursors PRIMARY KEY (chain)
);

CREATE TABLE deposit_address_observations (
    chain text NOT NULL,
    address text NOT NULL,
    currency text NOT NULL,
    hd_index integer NOT NULL,
    expected_low numeric(78, 0) NOT NULL,
    expected_high numeric(78, 0) NOT NULL,
    chain_balance numeric(78, 0) NOT NULL,
    matches boolean NOT NULL,
    mismatch_since timestamptz,
    observed_at timestamptz NOT NULL,
    CONSTRAINT pk_deposit_address_observations PRIMARY KEY (chain, address, currency),
    CONSTRAINT ck_deposit_address_observations_range CHECK (expected_low <= expected_high),
    CONSTRAINT ck_deposit_address_observations_since CHECK (matches = (mismatch_since IS NULL))
);
CREATE INDEX ix_deposit_address_observations_mismatched
    ON deposit_address_observations (chain, mismatch_since)
    WHERE mismatch_since IS NOT NULL;

ALTER TABLE reconciliation_runs
    ADD COLUMN deposit_mismatches integer NOT NULL DEFAULT 0;

CREATE INDEX ix_deposits_chain_address ON deposits (chain, address);
CREATE INDEX ix_deposit_addresses_chain_hd_index ON deposit_addresses (chain, hd_index);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ix_deposit_addresses_chain_hd_index, ix_deposits_chain_address;
        ALTER TABLE reconciliation_runs DROP COLUMN deposit_mismatches;
        DROP TABLE deposit_address_observations, deposit_address_cursors;
        """
    )
