"""The seed pairs of players: one active pair per (player, currency), rotated on request.

One pair per currency, not per player: each (player, currency) has its own session
workflow, which owns the pair's nonce, so bets in two currencies never race for one
nonce. Rotating reveals the old server seed (written in clear on the pair and on every
bet it played) and starts a new pair in the same transaction.

The next nonce is derived, never stored: nonces of a pair are used 0, 1, 2, ... (a
refused bet writes nothing and leaves its nonce for the next bet), so the next one is
``max(nonce) + 1`` over ``bet_keys``, which the unique (seed pair, nonce) index answers
without reading a single bet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.betting.bets import SeedRef
from croupier.betting.errors import OpenGamesBlockRotation, SeedPairNotFound, SeedPairRevealed
from croupier.betting.sealing import SeedSealer
from croupier.betting.tables import bet_keys, bets, seed_pairs
from croupier.core.clock import Clock
from croupier.core.errors import IdempotencyConflict, InvalidInput
from croupier.core.money import Currency
from croupier.games.seeds import SeedPair, check_client_seed, hash_server_seed
from croupier.ledger.connections import Bind, single_statement, snapshot, transaction

MAX_REVEALED_PAGE = 100


@dataclass(frozen=True, slots=True)
class ActivePair:
    """What a player may see of their current pair, and the nonce the next bet uses."""

    id: uuid.UUID
    user_id: uuid.UUID
    currency: Currency
    server_seed_hash: str
    client_seed: str
    next_nonce: int
    created_at: datetime

    def seed_for_next_bet(self) -> SeedRef:
        return SeedRef(self.id, self.server_seed_hash, self.client_seed, self.next_nonce)


@dataclass(frozen=True, slots=True)
class RevealedPair:
    """A rotated-out pair: everything needed to verify its bets (nonces 0..bets-1)."""

    id: uuid.UUID
    server_seed: str
    server_seed_hash: str
    client_seed: str
    bets: int
    created_at: datetime
    revealed_at: datetime


@dataclass(frozen=True, slots=True)
class Rotation:
    revealed: RevealedPair
    active: ActivePair


def open_pair(
    bind: Bind, sealer: SeedSealer, user_id: uuid.UUID, currency: Currency, clock: Clock
) -> ActivePair:
    """The player's active pair in ``currency``, created (with a fresh seed) if none."""
    with transaction(bind) as conn:
        found = _active(conn, user_id, currency)
        if found is not None:
            return found
        _insert(conn, sealer, user_id, currency, SeedPair.new(), clock.now(), rotation_id=None)
        # Created here, or concurrently by another session start: either way one exists.
        created = _active(conn, user_id, currency)
    assert created is not None, "an active pair exists after opening one"
    return created


def active_pair(bind: Bind, user_id: uuid.UUID, currency: Currency) -> ActivePair | None:
    """The player's active pair in ``currency``, or None before their first bet."""
    with snapshot(bind) as conn:
        return _active(conn, user_id, currency)


def server_seed_for(
    conn: Connection, sealer: SeedSealer, user_id: uuid.UUID, currency: Currency, seed: SeedRef
) -> str:
    """The secret server seed a bet is played with, after checking the bet may use it:
    the pair is the player's, in the bet's currency, unrevealed, with the hash shown."""
    row = conn.execute(select(seed_pairs).where(seed_pairs.c.id == seed.seed_pair_id)).one_or_none()
    return _unsealed(sealer, row, user_id, currency, seed)


def _unsealed(
    sealer: SeedSealer, row: Row[Any] | None, user_id: uuid.UUID, currency: Currency, seed: SeedRef
) -> str:
    if row is None or row.id is None or row.user_id != user_id or row.currency != currency.value:
        raise SeedPairNotFound(f"seed pair {seed.seed_pair_id} is not this player's {currency}")
    if row.revealed_at is not None:
        raise SeedPairRevealed(f"seed pair {row.id} was rotated out; bets use the new pair")
    if (row.server_seed_hash, row.client_seed) != (seed.server_seed_hash, seed.client_seed):
        raise IdempotencyConflict(f"seed pair {row.id} has another hash or client seed")
    server_seed = sealer.unseal(row.id, row.server_seed_sealed)
    assert hash_server_seed(server_seed) == row.server_seed_hash, "sealed seed broke its promise"
    return server_seed


def lock_session(conn: Connection, user_id: uuid.UUID, currency: Currency) -> None:
    """Serialize, until the transaction ends, everything that uses or rotates the
    player's seeds in ``currency``: settling a bet and revealing its pair cannot
    interleave, even with a straggler from a worker presumed dead."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"betting-session:{user_id}:{currency.value}"},
    )


@dataclass(frozen=True, slots=True)
class FreshSeed:
    """What a new bet plays with: its seed, at the pair's first unused nonce, and the
    secret server seed (for the settlement's eyes only; never in a payload)."""

    seed: SeedRef
    server_seed: str = field(repr=False)


def seed_for_new_bet(
    conn: Connection,
    sealer: SeedSealer,
    user_id: uuid.UUID,
    currency: Currency,
    bet_id: uuid.UUID,
    seed: SeedRef,
) -> FreshSeed | None:
    """None if bet ``bet_id`` exists already (the caller reads it back); else the pair's
    next unused nonce (never below the caller's: nonces are only ever used) and its
    server seed, after the checks of :func:`server_seed_for`. Call under
    :func:`lock_session`. One statement: this is on every bet's path."""
    row = conn.execute(_FOR_NEW_BET, {"pair_id": seed.seed_pair_id, "bet_id": bet_id}).one()
    if row.bet_exists:
        return None
    server_seed = _unsealed(sealer, row, user_id, currency, seed)
    nonce = 0 if row.max_nonce is None else int(row.max_nonce) + 1
    assert nonce >= seed.nonce, f"pair {seed.seed_pair_id}: nonce {seed.nonce} was never used"
    fresh = SeedRef(seed.seed_pair_id, seed.server_seed_hash, seed.client_seed, nonce)
    return FreshSeed(seed=fresh, server_seed=server_seed)


_FOR_NEW_BET = text(
    """
    SELECT p.*,
           EXISTS (SELECT 1 FROM bet_keys WHERE id = :bet_id) AS bet_exists,
           (SELECT max(k.nonce) FROM bet_keys k WHERE k.seed_pair_id = p.id) AS max_nonce
    FROM (SELECT CAST(:pair_id AS uuid) AS id) AS wanted
    LEFT JOIN seed_pairs p ON p.id = wanted.id
    """
)


def rotate(
    bind: Bind,
    sealer: SeedSealer,
    *,
    user_id: uuid.UUID,
    currency: Currency,
    pair_id: uuid.UUID,
    rotation_id: uuid.UUID,
    client_seed: str | None,
    clock: Clock,
) -> Rotation:
    """Reveal pair ``pair_id`` and start a new one, with ``client_seed`` or the old one.

    Idempotent by ``rotation_id``: running the same rotation again returns its result.
    Refused while a bet of the pair is still open (a mines game in play): revealing the
    seed would reveal where its mines are.
    """
    if client_seed is not None:
        check_client_seed(client_seed)
    with transaction(bind) as conn:
        lock_session(conn, user_id, currency)
        row = conn.execute(
            select(seed_pairs).where(seed_pairs.c.id == pair_id).with_for_update()
        ).one_or_none()
        if row is None or row.user_id != user_id or row.currency != currency.value:
            raise SeedPairNotFound(f"seed pair {pair_id} is not this player's {currency}")
        if row.revealed_by_rotation == rotation_id:
            return _replayed_rotation(conn, row)
        if row.revealed_at is not None:
            raise SeedPairRevealed(f"seed pair {pair_id} was already rotated out")
        if _has_open_bets(conn, pair_id):
            raise OpenGamesBlockRotation(
                "finish (or cash out) the mines games in play before rotating seeds"
            )
        server_seed = sealer.unseal(row.id, row.server_seed_sealed)
        now = clock.now()
        used = _next_nonce(conn, pair_id)
        conn.execute(
            update(seed_pairs)
            .where(seed_pairs.c.id == pair_id)
            .values(
                server_seed=server_seed,
                bets=used,
                revealed_at=now,
                revealed_by_rotation=rotation_id,
            )
        )
        conn.execute(
            update(bets)
            .where(bets.c.seed_pair_id == pair_id, bets.c.server_seed.is_(None))
            .values(server_seed=server_seed)
        )
        fresh = SeedPair.new(client_seed or row.client_seed)
        _insert(conn, sealer, user_id, currency, fresh, now, rotation_id=rotation_id)
        active = _active(conn, user_id, currency)
    assert active is not None and active.next_nonce == 0
    revealed = RevealedPair(
        row.id, server_seed, row.server_seed_hash, row.client_seed, used, row.created_at, now
    )
    return Rotation(revealed=revealed, active=active)


def revealed_pairs(
    bind: Bind, user_id: uuid.UUID, currency: Currency, *, limit: int = 20
) -> tuple[RevealedPair, ...]:
    """The player's rotated-out pairs in ``currency``, newest first."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_REVEALED_PAGE:
        raise InvalidInput(f"limit must be from 1 to {MAX_REVEALED_PAGE}")
    query = (
        select(seed_pairs)
        .where(
            seed_pairs.c.user_id == user_id,
            seed_pairs.c.currency == currency.value,
            seed_pairs.c.revealed_at.is_not(None),
        )
        .order_by(seed_pairs.c.revealed_at.desc())
        .limit(limit)
    )
    with single_statement(bind) as conn:
        return tuple(_revealed(row) for row in conn.execute(query))


def _active(conn: Connection, user_id: uuid.UUID, currency: Currency) -> ActivePair | None:
    row = conn.execute(
        select(seed_pairs).where(
            seed_pairs.c.user_id == user_id,
            seed_pairs.c.currency == currency.value,
            seed_pairs.c.revealed_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    return ActivePair(
        id=row.id,
        user_id=row.user_id,
        currency=Currency(row.currency),
        server_seed_hash=row.server_seed_hash,
        client_seed=row.client_seed,
        next_nonce=_next_nonce(conn, row.id),
        created_at=row.created_at,
    )


def _insert(
    conn: Connection,
    sealer: SeedSealer,
    user_id: uuid.UUID,
    currency: Currency,
    pair: SeedPair,
    now: datetime,
    *,
    rotation_id: uuid.UUID | None,
) -> None:
    pair_id = uuid.uuid4()
    conn.execute(
        pg_insert(seed_pairs)
        .values(
            id=pair_id,
            user_id=user_id,
            currency=currency.value,
            server_seed_hash=pair.server_seed_hash,
            server_seed_sealed=sealer.seal(pair_id, pair.server_seed),
            client_seed=pair.client_seed,
            created_by_rotation=rotation_id,
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["user_id", "currency"], index_where=text("revealed_at IS NULL")
        )
    )


def _next_nonce(conn: Connection, pair_id: uuid.UUID) -> int:
    highest = conn.execute(
        select(func.max(bet_keys.c.nonce)).where(bet_keys.c.seed_pair_id == pair_id)
    ).scalar_one()
    return 0 if highest is None else int(highest) + 1


def _has_open_bets(conn: Connection, pair_id: uuid.UUID) -> bool:
    query = select(bets.c.id).where(bets.c.seed_pair_id == pair_id, bets.c.status == "open")
    return conn.execute(query.limit(1)).first() is not None


def _replayed_rotation(conn: Connection, old: Row[Any]) -> Rotation:
    new = conn.execute(
        select(seed_pairs).where(seed_pairs.c.created_by_rotation == old.revealed_by_rotation)
    ).one()
    active = ActivePair(
        id=new.id,
        user_id=new.user_id,
        currency=Currency(new.currency),
        server_seed_hash=new.server_seed_hash,
        client_seed=new.client_seed,
        next_nonce=_next_nonce(conn, new.id),
        created_at=new.created_at,
    )
    return Rotation(revealed=_revealed(old), active=active)


def _revealed(row: Row[Any]) -> RevealedPair:
    return RevealedPair(
        id=row.id,
        server_seed=row.server_seed,
        server_seed_hash=row.server_seed_hash,
        client_seed=row.client_seed,
        bets=int(row.bets),
        created_at=row.created_at,
        revealed_at=row.revealed_at,
    )
