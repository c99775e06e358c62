"""payments: a hot-wallet send pays a withdrawal or moves the casino's own coins

Revision ID: 0002_payments_any_send
Revises: 0001_payments
Create Date: 2025-01-02

The Hot Wallet Sender owns the hot address's nonces, so every transaction from it goes
through it: withdrawals, and also treasury movements (sweeps to cold, gas top-ups of
deposit addresses; ``croupier.sweeps``). A send's id is therefore no longer always a
withdrawal's: the foreign key goes, and the send names what the sender restores and
whom it tells by itself:

- ``currency``: what it moves (backfilled from the withdrawals);
- ``reply_to``: the workflow told about its progress; NULL means the withdrawal's own
  workflow (``withdrawal-<id>``), as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_payments_any_send"
down_revision: str | None = "0001_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
ALTER TABLE hot_wallet_sends DROP CONSTRAINT fk_hot_wallet_sends_withdrawal_id;
ALTER TABLE hot_wallet_sends ADD COLUMN currency text;
ALTER TABLE hot_wallet_sends ADD COLUMN reply_to text;
UPDATE hot_wallet_sends s SET currency = w.currency FROM withdrawals w WHERE w.id = s.withdrawal_id;
ALTER TABLE hot_wallet_sends ADD CONSTRAINT ck_hot_wallet_sends_reply_to
    CHECK (length(reply_to) BETWEEN 1 AND 255);
"""

DOWNGRADE = """
ALTER TABLE hot_wallet_sends DROP CONSTRAINT ck_hot_wallet_sends_reply_to;
ALTER TABLE hot_wallet_sends DROP COLUMN reply_to;
ALTER TABLE hot_wallet_sends DROP COLUMN currency;
ALTER TABLE hot_wallet_sends ADD CONSTRAINT fk_hot_wallet_sends_withdrawal_id
    FOREIGN KEY (withdrawal_id) REFERENCES withdrawals (id);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
