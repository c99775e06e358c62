"""SQLAlchemy definitions of the betting tables, for reads and idempotent writes.

Migration ``0001_betting`` creates them by hand (partitions, triggers); the columns
here mirror it one for one.

- ``seed_pairs``: one row per provably-fair seed pair. The server seed is stored sealed
  (AES-GCM, see ``croupier.betting.sealing``) until the pair is rotated out; then the
  plain seed is written to ``server_seed`` and checked against the hash by a CHECK
  constraint, so the database itself refuses a reveal that does not match the promise.
- ``bet_keys``: one row per bet, never partitioned: it makes a bet id unique across
  every partition of ``bets`` (and says which partition holds it), and makes a
  (seed pair, nonce) usable by one bet only.
- ``bets``: range-partitioned by month on ``created_at``; everything needed to verify
  a bet. Amounts are ``NUMERIC(78,0)`` read as ``int``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from croupier.ledger.schema import MinorUnits

metadata = MetaData()

seed_pairs = Table(
    "seed_pairs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("server_seed_hash", Text, nullable=False),
    # nonce (12 bytes) || AES-256-GCM ciphertext and tag; associated data is the pair id.
    Column("server_seed_sealed", LargeBinary, nullable=False),
    # NULL until the pair is rotated out.
    Column("server_seed", Text),
    Column("client_seed", Text, nullable=False),
    # How many nonces the pair used (0..bets-1); set when it is revealed.
    Column("bets", BigInteger),
    # The rotation (an idempotency key) that created this pair / revealed it.
    Column("created_by_rotation", Uuid),
    Column("revealed_by_rotation", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revealed_at", DateTime(timezone=True)),
)

bet_keys = Table(
    "bet_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seed_pair_id", Uuid),
    Column("nonce", BigInteger),
)

bets = Table(
    "bets",
    metadata,
    Column("id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("game", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", MinorUnits, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("outcome", JSONB),
    # The exact payout multiplier as a fraction in lowest terms: "99/50", "0", "2".
    Column("multiplier", Text),
    Column("payout", MinorUnits),
    Column("seed_pair_id", Uuid),
    Column("server_seed_hash", Text),
    Column("server_seed", Text),
    Column("client_seed", Text),
    Column("nonce", BigInteger),
    # The shared round a bet belongs to (crash); NULL for seeded games.
    Column("round_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("id", "created_at"),
    postgresql_partition_by="RANGE (created_at)",
)
