"""identity: users, login sessions, refresh tokens, idempotency keys, rate-limit buckets

Revision ID: 0001_identity
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_identity"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("identity",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE users (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            password_hash text NOT NULL,
            role text NOT NULL,
            totp_secret text,
            totp_pending_secret text,
            totp_last_step bigint,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT uq_users_email UNIQUE (email),
            CONSTRAINT ck_users_email_normalised
                CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
            CONSTRAINT ck_users_role
                CHECK (role IN ('player', 'support', 'compliance', 'treasury', 'admin')),
            CONSTRAINT ck_users_totp_step_needs_secret
                CHECK (totp_last_step IS NULL OR totp_secret IS NOT NULL)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE login_sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL
                CONSTRAINT fk_login_sessions_user_id_users REFERENCES users (id) ON DELETE CASCADE,
            used_totp boolean NOT NULL,
            created_at timestamptz NOT NULL,
            revoked_at timestamptz,
            revoked_reason text,
            CONSTRAINT ck_login_sessions_revocation_has_reason
                CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
            CONSTRAINT ck_login_sessions_known_reason
                CHECK (revoked_reason IN ('logout', 'refresh_token_reused', 'role_changed'))
        )
        """
    )
    op.execute("CREATE INDEX ix_login_sessions_user_id ON login_sessions (user_id)")
    op.execute(
        """
        CREATE TABLE refresh_tokens (
            token_hash bytea PRIMARY KEY,
            session_id uuid NOT NULL
                CONSTRAINT fk_refresh_tokens_session_id_login_sessions
                REFERENCES login_sessions (id) ON DELETE CASCADE,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            rotated_at timestamptz,
            CONSTRAINT ck_refresh_tokens_sha256 CHECK (octet_length(token_hash) = 32),
            CONSTRAINT ck_refresh_tokens_expires_after_issue CHECK (expires_at > issued_at)
        )
        """
    )
    op.execute("CREATE INDEX ix_refresh_tokens_session_id ON refresh_tokens (session_id)")
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            user_id uuid NOT NULL
                CONSTRAINT fk_idempotency_keys_user_id_users REFERENCES users (id)
                ON DELETE CASCADE,
            key text NOT NULL,
            request_fingerprint bytea NOT NULL,
            response_status smallint,
            response_body jsonb,
            created_at timestamptz NOT NULL,
            completed_at timestamptz,
            CONSTRAINT pk_idempotency_keys PRIMARY KEY (user_id, key),
            CONSTRAINT ck_idempotency_keys_key_length CHECK (length(key) BETWEEN 1 AND 255),
            CONSTRAINT ck_idempotency_keys_sha256 CHECK (octet_length(request_fingerprint) = 32),
            CONSTRAINT ck_idempotency_keys_completed_has_response
                CHECK ((completed_at IS NULL) = (response_status IS NULL)
                       AND (response_status IS NULL) = (response_body IS NULL))
        )
        """
    )
    # Counters are disposable: UNLOGGED skips the WAL, and a crash merely resets limits.
    op.execute(
        """
        CREATE UNLOGGED TABLE rate_limit_buckets (
            bucket text PRIMARY KEY,
            theoretical_arrival_at timestamptz NOT NULL,
            last_allowed boolean NOT NULL,
            CONSTRAINT ck_rate_limit_buckets_bucket_length CHECK (length(bucket) <= 200)
        )
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE rate_limit_buckets, idempotency_keys, refresh_tokens, login_sessions, users"
    )
