"""identity: an index to purge expired Idempotency-Keys by age

Revision ID: 0002_identity_key_expiry
Revises: 0001_identity
Create Date: 2026-11-27

Ledger maintenance deletes ``idempotency_keys`` rows older than the keys' time to live
(``croupier.identity.request_records``) in bounded batches, oldest first; without an
index on ``created_at`` every batch would scan the whole table. ``created_at`` changes
only when an expired key is reused, so the index costs a request one index insert.
``rate_limit_buckets`` gets no such index: every hit moves its timestamp, and an index
on it would tax every rate-limited request to save the purge a scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_identity_key_expiry"
down_revision: str | None = "0001_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_idempotency_keys_created_at")
