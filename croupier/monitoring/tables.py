"""Table definitions of the monitoring domain; the ``0001_monitoring`` migration creates them.

- ``alerts``: every money alarm, open until a staff member acknowledges it.
- ``circuit_breakers`` / ``circuit_breaker_events``: the withdrawal breaker's current
  state (one row per breaker) and its append-only history of trips and resumes.
- ``withdrawal_velocity``: the withdrawal requests the breaker has seen, kept only as
  long as its sliding window needs them.
- ``house_balance_checkpoints``: the house balance at the end of each drift window.
- ``wallet_observations``: the latest ledger-vs-chain comparison per wallet account.
- ``reconciliation_runs``: one row per reconciliation run, with its report.
- ``deposit_address_cursors`` / ``deposit_address_observations``: where the rotation
  through player deposit addresses stands per chain, and the latest comparison of each
  address and currency with its chain (``croupier.monitoring.deposit_addresses``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from croupier.ledger.schema import MinorUnits

metadata = MetaData()

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("details", JSONB, nullable=False),
    # Repeats of one open problem (same kind and key) bump the open alert instead of
    # adding rows: a mismatch seen by every reconciliation run is one alert, not hundreds.
    Column("dedup_key", Text),
    Column("occurrences", Integer, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("acked_at", DateTime(timezone=True)),
    Column("acked_by", Text),
    Column("ack_note", Text),
    Index(
        "uq_alerts_open_kind_dedup_key",
        "kind",
        "dedup_key",
        unique=True,
        postgresql_where=text("acked_at IS NULL AND dedup_key IS NOT NULL"),
    ),
    Index("ix_alerts_open_id", "id", postgresql_where=text("acked_at IS NULL")),
)

circuit_breakers = Table(
    "circuit_breakers",
    metadata,
    Column("name", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("reason", Text),
    Column("tripped_at", DateTime(timezone=True)),
    Column("tripped_by", Text),
    Column("resumed_at", DateTime(timezone=True)),
    Column("resumed_by", Text),
    Column("resume_reason", Text),
)

circuit_breaker_events = Table(
    "circuit_breaker_events",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("name", Text, ForeignKey("circuit_breakers.name"), nullable=False),
    Column("event", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", JSONB, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_circuit_breaker_events_name_id", "name", "id"),
)

withdrawal_velocity = Table(
    "withdrawal_velocity",
    metadata,
    Column("withdrawal_id", Text, primary_key=True),
    Column("player_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", MinorUnits, nullable=False),
    Column("player_since", DateTime(timezone=True), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Index("ix_withdrawal_velocity_requested_at", "requested_at"),
)

house_balance_checkpoints = Table(
    "house_balance_checkpoints",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("cut_at", DateTime(timezone=True), primary_key=True),
    # Signed: the house account's posted balance (credits - debits) at cut_at.
    Column("balance", MinorUnits, nullable=False),
    # Of the window ending at cut_at (NULL for a currency's first checkpoint).
    Column("ggr", MinorUnits),
    Column("drift", MinorUnits),
)

wallet_observations = Table(
    "wallet_observations",
    metadata,
    Column("account_id", BigInteger, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("ledger_posted", MinorUnits, nullable=False),
    Column("ledger_pending_out", MinorUnits, nullable=False),
    Column("ledger_pending_in", MinorUnits, nullable=False),
    Column("chain_balance", MinorUnits, nullable=False),
    Column("matches", Boolean, nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", BigInteger, primary_key=True),
    # The workflow id of the run: recording a run twice (an activity retry) is a no-op.
    Column("run_key", Text, nullable=False, unique=True),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("ledger_violations", Integer, nullable=False),
    Column("wallet_mismatches", Integer, nullable=False),
    Column("house_drifts", Integer, nullable=False),
    Column("biased_games", Integer, nullable=False),
    Column("report", JSONB, nullable=False),
    Column("deposit_mismatches", Integer, nullable=False),
)

deposit_address_cursors = Table(
    "deposit_address_cursors",
    metadata,
    Column("chain", Text, primary_key=True),
    # The HD index the last batch ended at; the next batch starts after it.
    Column("after_hd_index", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

deposit_address_observations = Table(
    "deposit_address_observations",
    metadata,
    Column("chain", Text, primary_key=True),
    Column("address", Text, primary_key=True),
    Column("currency", Text, primary_key=True),
    Column("hd_index", Integer, nullable=False),
    Column("expected_low", MinorUnits, nullable=False),
    Column("expected_high", MinorUnits, nullable=False),
    Column("chain_balance", MinorUnits, nullable=False),
    Column("matches", Boolean, nullable=False),
    # Since when the address has disagreed with its records (NULL while it agrees).
    Column("mismatch_since", DateTime(timezone=True)),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Index(
        "ix_deposit_address_observations_mismatched",
        "chain",
        "mismatch_since",
        postgresql_where=text("mismatch_since IS NOT NULL"),
    ),
)

MONITORING_TABLES = frozenset(metadata.tables)
