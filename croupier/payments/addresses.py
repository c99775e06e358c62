"""Deposit addresses: each player gets one HD index, once, and one address per chain from it.

The index comes from a database sequence (``player_hd_indexes``), never from a hash of
the player id: indexes are dense, so wallet recovery and address scanners can walk them,
and two players can never share one. The address is derived by the caller (the
activity holds the signer; this module never sees a key) and stored, so the scanner
and the API read it without the seed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.core.errors import ConfigurationError
from croupier.ledger.connections import Bind, single_statement
from croupier.payments.tables import deposit_addresses, player_hd_indexes

# eth_getLogs takes watched addresses as one topic list; the client refuses more.
MAX_ADDRESSES_PER_SCAN = 10_000


@dataclass(frozen=True, slots=True)
class DepositAddress:
    user_id: uuid.UUID
    chain: str
    address: str
    hd_index: int


def find_deposit_address(bind: Bind, user_id: uuid.UUID, chain: str) -> DepositAddress | None:
    with single_statement(bind) as conn:
        row = conn.execute(
            select(deposit_addresses).where(
                deposit_addresses.c.user_id == user_id, deposit_addresses.c.chain == chain
            )
        ).one_or_none()
    if row is None:
        return None
    return DepositAddress(row.user_id, row.chain, row.address, row.hd_index)


def assign_deposit_address(
    engine: Engine, user_id: uuid.UUID, chain: str, derive: Callable[[int], str]
) -> DepositAddress:
    """The player's address on ``chain``, assigned on first call; ``derive(index)`` gives
    the address of an HD index. Safe to call concurrently and repeatedly."""
    existing = find_deposit_address(engine, user_id, chain)
    if existing is not None:
        _check_derivation(existing, derive)
        return existing
    with engine.begin() as conn:
        hd_index = _hd_index(conn, user_id)
        conn.execute(
            pg_insert(deposit_addresses)
            .values(user_id=user_id, chain=chain, address=derive(hd_index), hd_index=hd_index)
            .on_conflict_do_nothing()
        )
    assigned = find_deposit_address(engine, user_id, chain)
    assert assigned is not None, "the address was just inserted (or found)"
    return assigned


def owner_of(conn: Connection, chain: str, address: str) -> uuid.UUID | None:
    """The player a deposit address belongs to, or None if it is not one of ours."""
    user_id: uuid.UUID | None = conn.execute(
        select(deposit_addresses.c.user_id).where(
            deposit_addresses.c.chain == chain, deposit_addresses.c.address == address
        )
    ).scalar_one_or_none()
    return user_id


def watched_addresses(bind: Bind, chain: str) -> list[str]:
    """Every deposit address on ``chain``, in index order."""
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(deposit_addresses.c.address)
            .where(deposit_addresses.c.chain == chain)
            .order_by(deposit_addresses.c.hd_index)
        ).scalars()
        return list(rows)


def first_issued_at(bind: Bind, chain: str) -> datetime | None:
    """When the first deposit address on ``chain`` was issued (None: none yet): no coin
    can have reached one of them earlier."""
    with single_statement(bind) as conn:
        first: datetime | None = conn.execute(
            select(func.min(deposit_addresses.c.created_at)).where(
                deposit_addresses.c.chain == chain
            )
        ).scalar_one()
        return first


def _hd_index(conn: Connection, user_id: uuid.UUID) -> int:
    """The player's index; the first call takes the next value of the sequence."""
    found = conn.execute(
        select(player_hd_indexes.c.hd_index).where(player_hd_indexes.c.user_id == user_id)
    ).scalar_one_or_none()
    if found is None:
        conn.execute(pg_insert(player_hd_indexes).values(user_id=user_id).on_conflict_do_nothing())
        found = conn.execute(
            select(player_hd_indexes.c.hd_index).where(player_hd_indexes.c.user_id == user_id)
        ).scalar_one()
    return int(found)


def _check_derivation(stored: DepositAddress, derive: Callable[[int], str]) -> None:
    """A stored address that the seed no longer derives means the seed was swapped:
    deposits would go to keys we do not hold. Stop loudly."""
    if derive(stored.hd_index) != stored.address:
        raise ConfigurationError(
            f"the HD seed does not derive the stored {stored.chain} address of index "
            f"{stored.hd_index}; the keystore holds a different seed than when it was assigned"
        )
