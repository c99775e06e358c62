"""payments: compliance's queue of held deposits

Revision ID: 0005_payments_held_deposit_queue
Revises: 0004_payments_held_deposits
Create Date: 2025-01-05

``GET /admin/deposits/held`` lists held deposits across every player, oldest first.
Held ones are a handful among millions of credited rows: a partial index keeps that
read from scanning the table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_payments_held_deposit_queue"
down_revision: str | None = "0004_payments_held_deposits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_deposits_held_created_at ON deposits (created_at, id) "
        "WHERE status = 'held'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_deposits_held_created_at")
