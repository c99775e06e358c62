"""Table definitions of the payments domain; migration ``0001_payments`` creates them."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
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
from sqlalchemy.dialects.postgresql import JSONB

from croupier.ledger.schema import MinorUnits

metadata = MetaData()
# Money columns: NUMERIC(78,0) that reads back as int, as the ledger's do.
Amount = MinorUnits()

# One HD index per player, from a sequence, for every chain: the player's key is
# m/44'/60'/0'/0/<hd_index> on Ethereum (and the same index on Bitcoin's path later).
player_hd_indexes = Table(
    "player_hd_indexes",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("hd_index", Integer, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The address a player deposits to on a chain (ETH and USDT share the Ethereum one).
deposit_addresses = Table(
    "deposit_addresses",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("chain", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("hd_index", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Where a chain's deposit scanner is: the headers it last scanned (its reorg window),
# oldest first. The tip is the last block whose deposits were all handed to workflows.
chain_cursors = Table(
    "chain_cursors",
    metadata,
    Column("chain", Text, primary_key=True),
    Column("window_headers", JSONB, nullable=False),
    Column("tip_number", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

deposits = Table(
    "deposits",
    metadata,
    # The business key (deposit-eth-<tx>-<log>): also the workflow id and the transfer id.
    Column("id", Text, primary_key=True),
    Column("chain", Text, nullable=False),
    Column("tx_hash", Text, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("address", Text, nullable=False),
    Column("from_address", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("status", Text, nullable=False),
    # Where the transfer was last seen canonical; NULL while a reorg has removed it.
    Column("block_number", BigInteger),
    Column("block_hash", Text),
    Column("confirmations", Integer, nullable=False),
    Column("confirmations_required", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("credited_at", DateTime(timezone=True)),
    # Why the player's limits hold it (migration ``0004_payments_held_deposits``): kept
    # once it is credited, so the record shows it was held.
    Column("hold_code", Text),
    Column("hold_reason", Text),
)

withdrawals = Table(
    "withdrawals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    # What reaches the address; the player's hold is amount + fee.
    Column("amount", Amount, nullable=False),
    Column("fee", Amount, nullable=False),
    Column("to_address", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("review_reasons", ARRAY(Text), nullable=False),
    Column("decided_by", Uuid),
    Column("decision_reason", Text),
    Column("approval_reminders", Integer, nullable=False),
    Column("tx_hash", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A send from the hot wallet: its nonce, fixed for life. The id is a withdrawal's, or a
# treasury movement's (croupier.sweeps: sweeps to cold, gas top-ups).
hot_wallet_sends = Table(
    "hot_wallet_sends",
    metadata,
    Column("withdrawal_id", Uuid, primary_key=True),
    Column("chain", Text, nullable=False),
    Column("sender", Text, nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("final_tx_hash", Text),
    Column("fee_paid", Amount),
    Column("currency", Text),
    # The workflow told about the send's progress; NULL: the withdrawal's own.
    Column("reply_to", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every transaction signed for a send (the first, then replacements), newest attempt last.
hot_wallet_transactions = Table(
    "hot_wallet_transactions",
    metadata,
    Column("tx_hash", Text, primary_key=True),
    Column("withdrawal_id", Uuid, nullable=False),
    Column("attempt", SmallInteger, nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("to_address", Text),
    Column("value_wei", Amount, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("gas_limit", BigInteger, nullable=False),
    Column("max_fee_per_gas", Amount, nullable=False),
    Column("max_priority_fee_per_gas", Amount, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Bitcoin: every transaction signed for a send (migration ``0003_payments_bitcoin_sends``),
# with the plan it was signed from (JSON: inputs, payments, change, fee), stored before
# it is broadcast.
btc_hot_wallet_transactions = Table(
    "btc_hot_wallet_transactions",
    metadata,
    Column("txid", Text, primary_key=True),
    Column("withdrawal_id", Uuid, nullable=False),
    Column("attempt", SmallInteger, nullable=False),
    Column("spend_plan", JSONB, nullable=False),
    Column("fee_sat", Amount, nullable=False),
    Column("vsize", Integer, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The coins a Bitcoin send spends: each belongs to one send for good.
btc_hot_wallet_inputs = Table(
    "btc_hot_wallet_inputs",
    metadata,
    Column("txid", Text, primary_key=True),
    Column("vout", Integer, primary_key=True),
    Column("withdrawal_id", Uuid, nullable=False),
)
