"""Table definitions of the crash domain; the ``0001_crash`` migration creates them.

- ``crash_chains``: one row per generated hash chain, with what is published before its
  first round (the terminating hash and the salt).
- ``crash_chain_hashes``: every game hash of every chain, secret until its round has
  crashed (round k plays hash k; see ``croupier.games.hashchain``).
- ``crash_rounds``: one row per round played (opened when its betting window opens),
  with the crash point it was bound to before any bet, and its settlement.

A round's bets are rows of betting's ``bets`` table with ``round_id`` = the round's key.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

crash_chains = Table(
    "crash_chains",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("terminating_hash", Text, nullable=False, unique=True),
    Column("salt", Text, nullable=False),
    Column("length", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

crash_chain_hashes = Table(
    "crash_chain_hashes",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("round_number", Integer, nullable=False),
    Column("game_hash", Text, nullable=False),
    PrimaryKeyConstraint("chain_id", "round_number"),
    ForeignKeyConstraint(["chain_id"], ["crash_chains.id"]),
)

crash_rounds = Table(
    "crash_rounds",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("round_number", Integer, nullable=False),
    Column("game_hash", Text, nullable=False),
    # Hundredths: 250 is 2.50x. The hash's result, before the round's multiplier cap.
    Column("crash_point_h", BigInteger, nullable=False),
    # Bets still open when the multiplier reaches this cash out at it.
    Column("max_multiplier_h", BigInteger, nullable=False),
    Column("status", Text, nullable=False),  # open | settled
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("settled_at", DateTime(timezone=True)),
    Column("bet_count", Integer),
    PrimaryKeyConstraint("chain_id", "round_number"),
    ForeignKeyConstraint(
        ["chain_id", "round_number"],
        ["crash_chain_hashes.chain_id", "crash_chain_hashes.round_number"],
    ),
)
