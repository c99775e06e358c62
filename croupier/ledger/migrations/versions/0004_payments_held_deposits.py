"""payments: a confirmed deposit the player's limits refuse is held, not credited

Revision ID: 0004_payments_held_deposits
Revises: 0003_payments_bitcoin_sends
Create Date: 2025-01-04

A deposit that arrives for a self-excluded or cooling-off player, or past their deposit
limit or their KYC level's daily deposit limit, is confirmed but not credited: status
``held``, with the reason (``hold_code``, ``hold_reason``), until a re-check admits it
or compliance releases it. The reason is kept after the credit, so the record shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_payments_held_deposits"
down_revision: str | None = "0003_payments_bitcoin_sends"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
ALTER TABLE deposits DROP CONSTRAINT ck_deposits_status;
ALTER TABLE deposits ADD CONSTRAINT ck_deposits_status
    CHECK (status IN ('pending', 'confirming', 'held', 'credited', 'orphaned', 'dust'));
ALTER TABLE deposits ADD COLUMN hold_code text;
ALTER TABLE deposits ADD COLUMN hold_reason text;
ALTER TABLE deposits ADD CONSTRAINT ck_deposits_held_has_reason
    CHECK (status <> 'held' OR (hold_code IS NOT NULL AND hold_reason IS NOT NULL));
ALTER TABLE deposits ADD CONSTRAINT ck_deposits_hold_reason
    CHECK (length(hold_code) <= 64 AND length(hold_reason) <= 500);
"""

DOWNGRADE = """
UPDATE deposits SET status = 'confirming' WHERE status = 'held';
ALTER TABLE deposits DROP CONSTRAINT ck_deposits_hold_reason;
ALTER TABLE deposits DROP CONSTRAINT ck_deposits_held_has_reason;
ALTER TABLE deposits DROP COLUMN hold_reason;
ALTER TABLE deposits DROP COLUMN hold_code;
ALTER TABLE deposits DROP CONSTRAINT ck_deposits_status;
ALTER TABLE deposits ADD CONSTRAINT ck_deposits_status
    CHECK (status IN ('pending', 'confirming', 'credited', 'orphaned', 'dust'));
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
