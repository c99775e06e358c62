"""Crash rounds in the database: opened from the chain, bound to their crash point.

A round is opened when its betting window opens. Opening reads the round's game hash
from the stored chain and fixes the crash point from it and the chain's salt
(``croupier.games.crash``): before any bet exists, and the same on every retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.core.ids import business_key
from croupier.crash.chain import chain_after, get_chain
from croupier.crash.errors import ChainExhausted, ChainNotFound, RoundAlreadySettled, RoundNotFound
from croupier.crash.tables import crash_chain_hashes, crash_chains, crash_rounds
from croupier.games.crash import Crash, round_randomness
from croupier.games.registry import GAMES
from croupier.games.targets import MAX_TARGET_H, MIN_TARGET_H
from croupier.ledger.connections import Bind, snapshot, transaction


class RoundStatus(StrEnum):
    OPEN = "open"  # taking bets, running, or crashed and not settled yet
    SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class RoundKey:
    chain_id: int
    round_number: int

    def __post_init__(self) -> None:
        assert self.chain_id >= 1 and self.round_number >= 1, (self.chain_id, self.round_number)

    @property
    def id(self) -> str:
        """``crash-<chain>-<round>``: the round's business key (the bets' ``round_id``)."""
        return business_key("crash", self.chain_id, self.round_number)

    def next(self) -> RoundKey:
        """The following round; ``open_round`` moves on to the next chain when needed."""
        return RoundKey(self.chain_id, self.round_number + 1)


@dataclass(frozen=True, slots=True)
class Round:
    key: RoundKey
    # Secret until the round is settled: never shown before, never logged.
    game_hash: str
    salt: str
    crash_point_h: int
    max_multiplier_h: int
    status: RoundStatus
    opened_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    settled_at: datetime | None
    bet_count: int | None

    @property
    def end_h(self) -> int:
        """Where the multiplier stops: the crash point, or the cap if it comes first."""
        return min(self.crash_point_h, self.max_multiplier_h)

    @property
    def reaches_cap(self) -> bool:
        """Whether bets still open at the cap are paid at it (the crash point is there
        or beyond, exactly as ``play_crash`` decides a target of the cap)."""
        return self.crash_point_h >= self.max_multiplier_h


def check_max_multiplier(max_multiplier_h: int) -> int:
    """A round's cap must be a target ``play_crash`` accepts: 1.01x to 1,000,000x."""
    assert MIN_TARGET_H <= max_multiplier_h <= MAX_TARGET_H, max_multiplier_h
    return max_multiplier_h


def crash_game() -> Crash:
    """The crash game at the casino's edge: the one formula rounds are opened and settled with."""
    game = GAMES[Crash.name]
    assert isinstance(game, Crash), game
    return game


def open_round(bind: Bind, key: RoundKey, *, max_multiplier_h: int) -> Round:
    """Open round ``key`` (the first of the next chain if ``key`` is past the end of its
    own), or return it as first opened: a round's crash point and cap never change.

    Raises ``RoundAlreadySettled`` if the round was played already, ``ChainExhausted``
    when no later chain exists, ``ChainNotFound`` for an unknown chain.
    """
    check_max_multiplier(max_multiplier_h)
    with transaction(bind) as conn:
        chain = get_chain(conn, key.chain_id)
        if key.round_number > chain.length:
            following = chain_after(conn, chain.id)
            if following is None:
                raise ChainExhausted(
                    f"hash chain {chain.id} is used up ({chain.length} rounds) and no later "
                    "chain exists: generate one with `croupier crash chain`"
                )
            chain, key = following, RoundKey(following.id, 1)
        game_hash = conn.execute(
            select(crash_chain_hashes.c.game_hash).where(
                crash_chain_hashes.c.chain_id == key.chain_id,
                crash_chain_hashes.c.round_number == key.round_number,
            )
        ).scalar_one()
        conn.execute(
            pg_insert(crash_rounds)
            .values(
                chain_id=key.chain_id,
                round_number=key.round_number,
                game_hash=game_hash,
                crash_point_h=crash_game().crash_hundredths(
                    round_randomness(game_hash, chain.salt)
                ),
                max_multiplier_h=max_multiplier_h,
                status=RoundStatus.OPEN.value,
                opened_at=func.now(),
            )
            .on_conflict_do_nothing()
        )
        opened = select_round(conn, key)
    if opened.status is RoundStatus.SETTLED:
        raise RoundAlreadySettled(f"crash round {key.id} was played and settled already")
    return opened


def get_round(bind: Bind, key: RoundKey) -> Round:
    with snapshot(bind) as conn:
        return select_round(conn, key)


def next_round_to_play(bind: Bind) -> RoundKey:
    """Where a fresh round workflow starts: the latest round if it never settled (its
    workflow was lost), the one after it otherwise, or round 1 of the oldest chain."""
    with snapshot(bind) as conn:
        latest = conn.execute(
            select(crash_rounds.c.chain_id, crash_rounds.c.round_number, crash_rounds.c.status)
            .order_by(crash_rounds.c.chain_id.desc(), crash_rounds.c.round_number.desc())
            .limit(1)
        ).one_or_none()
        oldest_chain = conn.execute(select(func.min(crash_chains.c.id))).scalar_one()
    if latest is not None:
        key = RoundKey(latest.chain_id, latest.round_number)
        return key if latest.status == RoundStatus.OPEN.value else key.next()
    if oldest_chain is None:
        raise ChainNotFound(
            "no crash hash chain exists yet: generate one with `croupier crash chain`"
        )
    return RoundKey(oldest_chain, 1)


RowLock = Literal["share", "update"]


def select_round(conn: Connection, key: RoundKey, *, lock: RowLock | None = None) -> Round:
    """The round with its chain's salt. Bets lock its row to share (a stake never lands
    in a round being settled), settlement locks it to update."""
    query = (
        select(crash_rounds, crash_chains.c.salt)
        .join(crash_chains, crash_chains.c.id == crash_rounds.c.chain_id)
        .where(
            crash_rounds.c.chain_id == key.chain_id,
            crash_rounds.c.round_number == key.round_number,
        )
    )
    if lock is not None:
        query = query.with_for_update(of=crash_rounds, read=lock == "share")
    row = conn.execute(query).one_or_none()
    if row is None:
        raise RoundNotFound(f"crash round {key.id} was never opened")
    return _round(row)


def mark_settled(
    conn: Connection, key: RoundKey, *, started_at: datetime, ended_at: datetime, bet_count: int
) -> None:
    """Record the round as settled; the caller holds its row lock (``select_round``)."""
    updated = conn.execute(
        update(crash_rounds)
        .where(
            crash_rounds.c.chain_id == key.chain_id,
            crash_rounds.c.round_number == key.round_number,
            crash_rounds.c.status == RoundStatus.OPEN.value,
        )
        .values(
            status=RoundStatus.SETTLED.value,
            started_at=started_at,
            ended_at=ended_at,
            settled_at=func.now(),
            bet_count=bet_count,
        )
    ).rowcount
    assert updated == 1, f"round {key.id} settled by someone else while locked"


def _round(row: Any) -> Round:
    return Round(
        key=RoundKey(row.chain_id, row.round_number),
        game_hash=row.game_hash,
        salt=row.salt,
        crash_point_h=row.crash_point_h,
        max_multiplier_h=row.max_multiplier_h,
        status=RoundStatus(row.status),
        opened_at=row.opened_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        settled_at=row.settled_at,
        bet_count=row.bet_count,
    )
