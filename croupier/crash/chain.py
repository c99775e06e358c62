"""Hash chains in the database: generated once, published, then consumed round by round.

``create_chain`` generates a chain (``croupier.games.hashchain``) and stores every game
hash with the chain's terminating hash and salt in one transaction. The terminating
hash and the salt are public from then on (``GET /crash/current`` shows them); the game
hashes stay secret until their round has crashed. Rounds consume the chain from its
published end: round 1 plays the hash one step from the terminating hash.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from croupier.core.errors import InvalidInput
from croupier.crash.errors import ChainNotFound
from croupier.crash.tables import crash_chain_hashes, crash_chains
from croupier.games.hashchain import MAX_CHAIN_LENGTH, generate_chain
from croupier.games.seeds import check_salt
from croupier.ledger.connections import Bind, snapshot, transaction

# Rows per INSERT while storing a chain: a few MB of parameters per statement at most.
INSERT_BATCH_ROWS = 10_000
SALT_BYTES = 32


@dataclass(frozen=True, slots=True)
class Chain:
    """A stored chain: everything here but the game hashes is public."""

    id: int
    terminating_hash: str
    salt: str
    length: int
    created_at: datetime


def generate_salt() -> str:
    """A random salt, for when ops do not take one from outside (a future block hash is
    the usual choice: nobody, the house included, knows it when the chain is fixed)."""
    return secrets.token_hex(SALT_BYTES)


def create_chain(bind: Bind, length: int, *, salt: str, secret: str | None = None) -> Chain:
    """Generate a chain of ``length`` rounds and store it; ``secret`` is for tests only."""
    if isinstance(length, bool) or not isinstance(length, int):
        raise InvalidInput("chain length must be an integer")
    check_salt(salt)
    chain = generate_chain(length, secret)  # validates length and secret
    with transaction(bind) as conn:
        row = conn.execute(
            insert(crash_chains)
            .values(
                terminating_hash=chain.terminating_hash,
                salt=salt,
                length=length,
                created_at=func.now(),
            )
            .returning(*crash_chains.c)
        ).one()
        for start in range(0, length, INSERT_BATCH_ROWS):
            batch = chain.game_hashes[start : start + INSERT_BATCH_ROWS]
            conn.execute(
                insert(crash_chain_hashes),
                [
                    {"chain_id": row.id, "round_number": start + offset + 1, "game_hash": game_hash}
                    for offset, game_hash in enumerate(batch)
                ],
            )
    return _chain(row)


def get_chain(bind: Bind, chain_id: int) -> Chain:
    with snapshot(bind) as conn:
        row = conn.execute(select(crash_chains).where(crash_chains.c.id == chain_id)).one_or_none()
    if row is None:
        raise ChainNotFound(f"crash hash chain {chain_id} does not exist")
    return _chain(row)


def chain_after(conn: Connection, chain_id: int) -> Chain | None:
    """The oldest chain generated after ``chain_id``: the one played when it runs out."""
    row = conn.execute(
        select(crash_chains)
        .where(crash_chains.c.id > chain_id)
        .order_by(crash_chains.c.id)
        .limit(1)
    ).one_or_none()
    return None if row is None else _chain(row)


def _chain(row: Any) -> Chain:
    assert 1 <= row.length <= MAX_CHAIN_LENGTH, row.length
    return Chain(
        id=row.id,
        terminating_hash=row.terminating_hash,
        salt=row.salt,
        length=row.length,
        created_at=row.created_at,
    )
