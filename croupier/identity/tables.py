"""Table definitions of the identity domain; the ``0001_identity`` migration creates them.

Besides who a caller is, the domain keeps what the API remembers per caller and request:
``idempotency_keys`` (the first response to each Idempotency-Key, ``croupier.api.
idempotency``) and ``rate_limit_buckets`` (``croupier.api.ratelimit``). They are defined
here, not in the API, so maintenance can purge them (``request_records``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    # Set once TOTP is confirmed; NULL means the account has no second factor.
    Column("totp_secret", Text),
    # Issued by setup and waiting for the first code that proves the app has it.
    Column("totp_pending_secret", Text),
    # The time step of the last accepted code; later codes must be from a later step.
    Column("totp_last_step", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One login = one session = one family of refresh tokens.
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("used_totp", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", Text),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    # sha256 of the opaque token: a database leak does not hand out live tokens.
    Column("token_hash", LargeBinary, primary_key=True),
    Column("session_id", Uuid, ForeignKey("login_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_fingerprint", LargeBinary, nullable=False),
    Column("response_status", SmallInteger),
    Column("response_body", JSONB(none_as_null=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
)

# UNLOGGED: a crash resets every limit (errs towards letting people in).
rate_limit_buckets = Table(
    "rate_limit_buckets",
    metadata,
    Column("bucket", Text, primary_key=True),
    Column("theoretical_arrival_at", DateTime(timezone=True), nullable=False),
    Column("last_allowed", Boolean, nullable=False),
)
