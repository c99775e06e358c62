"""SQLAlchemy table definitions of the ledger, for reads and reconciliation.

The migrations in ``migrations/versions`` create these tables by hand (partitions,
triggers and the posting functions do not fit autogeneration); a test compares the two
so they cannot drift. Postings never go through these tables: they call the SQL
functions of ``0002_ledger_posting`` (see ``croupier.ledger.posting``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, NUMERIC
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class MinorUnits(TypeDecorator[int]):
    """``NUMERIC(78,0)`` read and written as Python ``int``: money never becomes Decimal."""

    impl = NUMERIC(78, 0)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)

    def process_result_value(self, value: object, dialect: Dialect) -> int | None:
        if value is None:
            return None
        assert isinstance(value, Decimal) and value == value.to_integral_value(), value
        return int(value)


def _created_at() -> Column[datetime]:
    return Column("created_at", DateTime(timezone=True), nullable=False)


accounts = Table(
    "accounts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    # A player id for player accounts; "system" (or e.g. a wallet address) for the casino's.
    Column("owner", Text, nullable=False),
    Column("currency", Text, nullable=False),
    # Liability accounts (player funds): debits + pending debits may never exceed credits.
    Column("debits_must_not_exceed_credits", Boolean, nullable=False),
    # Asset accounts (wallets): credits + pending credits may never exceed debits.
    Column("credits_must_not_exceed_debits", Boolean, nullable=False),
    # Number of balance rows; more than one only for hot accounts without limits (house).
    Column("shards", SmallInteger, nullable=False),
    _created_at(),
    Column("closed_at", DateTime(timezone=True)),
    UniqueConstraint("kind", "owner", "currency"),
)

account_balances = Table(
    "account_balances",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("shard", SmallInteger, nullable=False),
    # Copies of the account's limits and closure, so a CHECK constraint and the row lock
    # itself enforce them.
    Column("debits_must_not_exceed_credits", Boolean, nullable=False),
    Column("credits_must_not_exceed_debits", Boolean, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("debits_pending", MinorUnits, nullable=False),
    Column("debits_posted", MinorUnits, nullable=False),
    Column("credits_pending", MinorUnits, nullable=False),
    Column("credits_posted", MinorUnits, nullable=False),
    PrimaryKeyConstraint("account_id", "shard"),
)

# Transfer ids are ASCII business keys, compared byte by byte.
TransferId = Text(collation="C")

# Global uniqueness of transfer ids across the partitions of ``transfers``.
transfer_ids = Table(
    "transfer_ids",
    metadata,
    Column("id", TransferId, primary_key=True),
    _created_at(),
)

# The journal: one row per movement (transfer, hold, post of a hold, void of a hold).
transfers = Table(
    "transfers",
    metadata,
    Column("id", TransferId, nullable=False),
    Column("phase", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("debit_account_id", BigInteger, nullable=False),
    Column("credit_account_id", BigInteger, nullable=False),
    Column("debit_shard", SmallInteger, nullable=False),
    Column("credit_shard", SmallInteger, nullable=False),
    Column("amount", MinorUnits, nullable=False),
    Column("currency", Text, nullable=False),
    Column("type", Text, nullable=False),
    # The workflow or bet the movement belongs to; also picks the house shard.
    Column("reference_id", Text),
    # For posts and voids: the hold they resolve.
    Column("pending_id", TransferId),
    Column("timeout_s", Integer),
    Column("expires_at", DateTime(timezone=True)),
    Column("metadata", JSONB),
    _created_at(),
    PrimaryKeyConstraint("id", "created_at"),
    Index(
        "ix_transfers_pending_expires_at",
        "expires_at",
        postgresql_where="status = 'pending'",
    ),
    postgresql_partition_by="RANGE (created_at)",
)

# Append-only: a debit row and a credit row per posted movement.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger, nullable=False),
    Column("transfer_id", TransferId, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("direction", Text, nullable=False),
    Column("amount", MinorUnits, nullable=False),
    Column("currency", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("reference_id", Text),
    _created_at(),
    PrimaryKeyConstraint("id", "created_at"),
    Index("ix_ledger_entries_account_id_created_at_id", "account_id", "created_at", "id"),
    postgresql_partition_by="RANGE (created_at)",
)

LEDGER_TABLES = frozenset(
    {"accounts", "account_balances", "transfer_ids", "transfers", "ledger_entries"}
)
