"""Table definitions of the treasury movements; migration ``0001_treasury`` creates them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
)

from croupier.ledger.schema import MinorUnits

metadata = MetaData()
# Money columns: NUMERIC(78,0) that reads back as int, as the ledger's do.
Amount = MinorUnits()

# One on-chain movement of the casino's own coins, keyed by its business id.
treasury_movements = Table(
    "treasury_movements",
    metadata,
    Column("id", Text, primary_key=True),
    # sweep (hot -> cold), top_up (hot -> deposit address, gas), consolidation
    # (deposit address -> hot), refill (cold -> hot, signed outside Croupier).
    Column("kind", Text, nullable=False),
    Column("chain", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("from_address", Text, nullable=False),
    Column("to_address", Text, nullable=False),
    # The deposit key's index (consolidations: the key that signs).
    Column("hd_index", Integer),
    Column("amount", Amount, nullable=False),
    # The most the transaction's fee can be (native coin), held while in flight.
    Column("fee_reserved", Amount, nullable=False),
    # The Hot Wallet Sender's send id (sweeps and top-ups go through it).
    Column("send_id", Uuid),
    # held (in flight, the ledger holds it), completed, failed (reverted or refused
    # before sending; any fee burnt is booked), cancelled (never sent).
    Column("status", Text, nullable=False),
    Column("tx_hash", Text),
    Column("fee_paid", Amount),
    Column("workflow_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every transaction signed for a deposit address (first, then fee replacements).
treasury_transactions = Table(
    "treasury_transactions",
    metadata,
    Column("tx_hash", Text, primary_key=True),
    Column("movement_id", Text, nullable=False),
    Column("attempt", SmallInteger, nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("sender", Text, nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("to_address", Text, nullable=False),
    Column("value_wei", Amount, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("gas_limit", BigInteger, nullable=False),
    Column("max_fee_per_gas", Amount, nullable=False),
    Column("max_priority_fee_per_gas", Amount, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

refill_requests = Table(
    "refill_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("chain", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("cold_address", Text, nullable=False),
    Column("hot_address", Text, nullable=False),
    Column("status", Text, nullable=False),
    # A staff member's id, or "system:sweep" when the sweep found the hot wallet low.
    Column("requested_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    # The transaction accepted as the refill (the latest one, if an earlier one reverted).
    Column("tx_hash", Text),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

refill_approvals = Table(
    "refill_approvals",
    metadata,
    Column("refill_id", Uuid, primary_key=True),
    Column("staff_id", Uuid, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
)

# A Bitcoin consolidation's signed transaction (migration ``0002_treasury_bitcoin``).
treasury_btc_transactions = Table(
    "treasury_btc_transactions",
    metadata,
    Column("txid", Text, primary_key=True),
    Column("fee_sat", Amount, nullable=False),
    Column("vsize", Integer, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Each deposit coin a Bitcoin consolidation spends, and the movement (address) it is of.
treasury_btc_inputs = Table(
    "treasury_btc_inputs",
    metadata,
    Column("txid", Text, primary_key=True),
    Column("vout", Integer, primary_key=True),
    Column("spent_by", Text, nullable=False),
    Column("movement_id", Text, nullable=False),
)
