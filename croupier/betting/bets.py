"""Bet rows: writing them idempotently, settling open ones, reading them back.

Every function takes a ``Bind`` like the ledger's: given a ``Connection`` it joins the
caller's transaction, so the stake, the payout and the bet row commit together (a
shared-round game can record and settle hundreds of bets next to one
``ledger.transfer_batch``).

Idempotency is Stripe's, keyed by the bet id: writing a bet that exists with the same
content returns the stored one and writes nothing; other content is an
``IdempotencyConflict`` (or ``BetAlreadySettled`` when settling). ``settled_at`` is not
content: a retry settles at another instant but is still the same settlement.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select, text, type_coerce
from sqlalchemy.exc import IntegrityError

from croupier.betting.errors import BetAlreadySettled, BetNotFound, NonceReused
from croupier.betting.tables import bet_keys, bets
from croupier.core.errors import IdempotencyConflict, InvalidInput
from croupier.core.money import Currency, check_minor_units
from croupier.games.game import JsonValue
from croupier.games.seeds import check_client_seed, check_nonce
from croupier.ledger.connections import Bind, single_statement
from croupier.ledger.schema import MinorUnits

# One statement writes at most this many bets: a crash round settles in chunks.
MAX_BETS_PER_CALL = 5000
MAX_ROUND_ID_CHARS = 200
_GAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


class BetStatus(StrEnum):
    OPEN = "open"  # staked, result not known yet (mines in play, crash round running)
    SETTLED = "settled"  # result and payout final


@dataclass(frozen=True, slots=True)
class SeedRef:
    """What a seeded bet is played with: everything but the secret server seed."""

    seed_pair_id: uuid.UUID
    server_seed_hash: str
    client_seed: str
    nonce: int

    def __post_init__(self) -> None:
        if not isinstance(self.seed_pair_id, uuid.UUID):
            raise InvalidInput("seed pair id must be a UUID")
        if not isinstance(self.server_seed_hash, str) or not _HASH_RE.match(self.server_seed_hash):
            raise InvalidInput("server seed hash must be 64 lowercase hex characters")
        check_client_seed(self.client_seed)
        check_nonce(self.nonce)


@dataclass(frozen=True, slots=True)
class BetRecord:
    """One bet as the ``bets`` table holds it.

    ``seed`` is set for seeded games (dice, limbo, plinko, mines), ``round_id`` for
    shared rounds (crash). ``outcome``, ``multiplier``, ``payout`` and ``settled_at``
    are set exactly when ``status`` is SETTLED. ``server_seed`` is read-only here: it
    appears once the seed pair is rotated out.
    """

    id: uuid.UUID
    user_id: uuid.UUID
    game: str
    currency: Currency
    amount: int
    params: Mapping[str, JsonValue]
    created_at: datetime
    status: BetStatus = BetStatus.SETTLED
    outcome: Mapping[str, JsonValue] | None = None
    multiplier: Fraction | None = None
    payout: int | None = None
    settled_at: datetime | None = None
    seed: SeedRef | None = None
    round_id: str | None = None
    server_seed: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, uuid.UUID) or not isinstance(self.user_id, uuid.UUID):
            raise InvalidInput("bet id and user id must be UUIDs")
        if not isinstance(self.game, str) or not _GAME_RE.match(self.game):
            raise InvalidInput(f"game must be a lowercase name, got {self.game!r}")
        object.__setattr__(self, "currency", Currency.parse(self.currency))
        check_minor_units(self.amount)
        object.__setattr__(self, "status", BetStatus(self.status))
        _check_aware(self.created_at, "created_at")
        if (self.seed is None) == (self.round_id is None):
            raise InvalidInput("a bet has either a seed (seeded games) or a round id (crash)")
        if self.round_id is not None and not 1 <= len(self.round_id) <= MAX_ROUND_ID_CHARS:
            raise InvalidInput(f"round id must be 1-{MAX_ROUND_ID_CHARS} characters")
        settled = (self.outcome, self.multiplier, self.payout, self.settled_at)
        if self.status is BetStatus.SETTLED:
            if any(value is None for value in settled):
                raise InvalidInput("a settled bet has an outcome, multiplier, payout and time")
            assert self.multiplier is not None and self.payout is not None
            if self.multiplier < 0:
                raise InvalidInput("a multiplier is never negative")
            check_minor_units(self.payout, allow_zero=True)
            _check_aware(self.settled_at, "settled_at")
        elif any(value is not None for value in settled):
            raise InvalidInput("an open bet has no outcome, multiplier, payout or time yet")

    @property
    def won(self) -> bool:
        return self.status is BetStatus.SETTLED and bool(self.payout)

    def same_content(self, other: BetRecord) -> bool:
        """Equal as a bet, whatever instant it was settled at."""
        return _identity(self) == _identity(other) and _result(self) == _result(other)


@dataclass(frozen=True, slots=True)
class Settlement:
    """The result of an open bet. ``params`` replaces the bet's parameters when given
    (a mines game adds the tiles the player revealed)."""

    bet_id: uuid.UUID
    outcome: Mapping[str, JsonValue]
    multiplier: Fraction
    payout: int
    settled_at: datetime
    params: Mapping[str, JsonValue] | None = None

    def __post_init__(self) -> None:
        if self.multiplier < 0:
            raise InvalidInput("a multiplier is never negative")
        check_minor_units(self.payout, allow_zero=True)
        _check_aware(self.settled_at, "settled_at")


def record_bet(bind: Bind, bet: BetRecord) -> BetRecord:
    """Write one bet (open or settled); see :func:`record_bets`."""
    return record_bets(bind, [bet])[0]


def record_bets(bind: Bind, records: Sequence[BetRecord]) -> tuple[BetRecord, ...]:
    """Write bets, open or settled, in one statement; return them as stored.

    A bet whose id exists is a replay if its content is the same (the stored row is
    returned), else ``IdempotencyConflict``. A (seed pair, nonce) already used by
    another bet is ``NonceReused``; nothing of the call is then written.
    """
    _check_batch([bet.id for bet in records])
    with single_statement(bind) as conn:
        try:
            inserted = {row.id for row in conn.execute(_RECORD, {"rows": _rows_json(records)})}
        except IntegrityError as error:
            if "uq_bet_keys_seed_pair_id_nonce" in str(error.orig):
                raise NonceReused(
                    "a bet in this call reuses a (seed pair, nonce) another bet already used"
                ) from None
            raise
        replayed = [bet for bet in records if bet.id not in inserted]
        stored = _load(conn, [bet.id for bet in replayed]) if replayed else {}
    for bet in replayed:
        if not bet.same_content(stored[bet.id]):
            raise IdempotencyConflict(f"bet {bet.id} was already recorded with other content")
    return tuple(stored.get(bet.id, bet) for bet in records)


def settle_bet(bind: Bind, settlement: Settlement) -> BetRecord:
    """Settle one open bet; see :func:`settle_bets`."""
    return settle_bets(bind, [settlement])[0]


def settle_bets(bind: Bind, settlements: Sequence[Settlement]) -> tuple[BetRecord, ...]:
    """Turn open bets into settled ones in one statement; return them as stored.

    Settling a settled bet again with the same result is a replay; with another result
    it is ``BetAlreadySettled``. An unknown bet id is ``BetNotFound``.
    """
    _check_batch([s.bet_id for s in settlements])
    with single_statement(bind) as conn:
        conn.execute(_SETTLE, {"rows": _settlements_json(settlements)})
        stored = _load(conn, [s.bet_id for s in settlements])
    results = []
    for settlement in settlements:
        bet = stored.get(settlement.bet_id)
        if bet is None:
            raise BetNotFound(f"bet {settlement.bet_id} does not exist")
        if _result(bet) != _settlement_result(settlement, bet):
            raise BetAlreadySettled(f"bet {bet.id} is already settled with another result")
        results.append(bet)
    return tuple(results)


def get_bet(bind: Bind, bet_id: uuid.UUID) -> BetRecord:
    """The bet with this id, or ``BetNotFound``."""
    with single_statement(bind) as conn:
        found = _load(conn, [bet_id])
    if bet_id not in found:
        raise BetNotFound(f"bet {bet_id} does not exist")
    return found[bet_id]


def find_bet(bind: Bind, bet_id: uuid.UUID) -> BetRecord | None:
    """The bet with this id, or None."""
    with single_statement(bind) as conn:
        return _load(conn, [bet_id]).get(bet_id)


def net_loss(conn: Connection, user_id: uuid.UUID, currency: Currency, since: datetime) -> int:
    """Stakes minus payouts of ``user_id`` in ``currency`` since ``since`` (may be negative).

    Open bets count their stake and no payout yet: the money is already at risk. This is
    what a player's loss limit is measured against.
    """
    _check_aware(since, "since")
    # A difference of two sums is plain NUMERIC to SQLAlchemy: read it back as MinorUnits.
    difference = func.coalesce(func.sum(bets.c.amount), 0) - func.coalesce(
        func.sum(bets.c.payout), 0
    )
    query = select(type_coerce(difference, MinorUnits)).where(
        bets.c.user_id == user_id, bets.c.currency == currency.value, bets.c.created_at > since
    )
    return _int(conn.execute(query).scalar_one())


def bet_from_row(row: Row[Any]) -> BetRecord:
    seed = None
    if row.seed_pair_id is not None:
        seed = SeedRef(row.seed_pair_id, row.server_seed_hash, row.client_seed, row.nonce)
    return BetRecord(
        id=row.id,
        user_id=row.user_id,
        game=row.game,
        currency=Currency(row.currency),
        amount=_int(row.amount),
        params=row.params,
        created_at=row.created_at,
        status=BetStatus(row.status),
        outcome=row.outcome,
        multiplier=None if row.multiplier is None else Fraction(row.multiplier),
        payout=None if row.payout is None else _int(row.payout),
        settled_at=row.settled_at,
        seed=seed,
        round_id=row.round_id,
        server_seed=row.server_seed,
    )


# Claim the ids in bet_keys first: a racing duplicate waits on the key row, then skips.
_RECORD = text(
    """
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
            id uuid, user_id uuid, game text, currency text, amount numeric, params jsonb,
            status text, outcome jsonb, multiplier text, payout numeric, seed_pair_id uuid,
            server_seed_hash text, client_seed text, nonce bigint, round_id text,
            created_at timestamptz, settled_at timestamptz)
    ), claimed AS (
        INSERT INTO bet_keys (id, created_at, seed_pair_id, nonce)
        SELECT id, created_at, seed_pair_id, nonce FROM input
        ON CONFLICT (id) DO NOTHING
        RETURNING id
    )
    INSERT INTO bets (
        id, user_id, game, currency, amount, params, status, outcome, multiplier, payout,
        seed_pair_id, server_seed_hash, client_seed, nonce, round_id, created_at, settled_at)
    SELECT i.id, i.user_id, i.game, i.currency, i.amount, i.params, i.status, i.outcome,
           i.multiplier, i.payout, i.seed_pair_id, i.server_seed_hash, i.client_seed, i.nonce,
           i.round_id, i.created_at, i.settled_at
    FROM input i JOIN claimed c ON c.id = i.id
    RETURNING id
    """
)

_SETTLE = text(
    """
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
            id uuid, outcome jsonb, multiplier text, payout numeric, settled_at timestamptz,
            params jsonb)
    )
    UPDATE bets b
    SET status = 'settled', outcome = i.outcome, multiplier = i.multiplier, payout = i.payout,
        settled_at = i.settled_at, params = coalesce(i.params, b.params)
    FROM input i JOIN bet_keys k ON k.id = i.id
    WHERE b.id = k.id AND b.created_at = k.created_at AND b.status = 'open'
    """
)


def _load(conn: Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BetRecord]:
    """Bets by id, through ``bet_keys`` so each lookup touches one partition."""
    query = (
        select(bets)
        .join(
            bet_keys, and_(bet_keys.c.id == bets.c.id, bet_keys.c.created_at == bets.c.created_at)
        )
        .where(bet_keys.c.id.in_(list(ids)))
    )
    return {row.id: bet_from_row(row) for row in conn.execute(query)}


def _rows_json(records: Sequence[BetRecord]) -> str:
    return json.dumps([_row(bet) for bet in records], separators=(",", ":"), allow_nan=False)


def _row(bet: BetRecord) -> dict[str, Any]:
    seed = bet.seed
    return {
        "id": str(bet.id),
        "user_id": str(bet.user_id),
        "game": bet.game,
        "currency": bet.currency.value,
        "amount": str(bet.amount),
        "params": dict(bet.params),
        "status": bet.status.value,
        "outcome": None if bet.outcome is None else dict(bet.outcome),
        "multiplier": None if bet.multiplier is None else str(bet.multiplier),
        "payout": None if bet.payout is None else str(bet.payout),
        "seed_pair_id": None if seed is None else str(seed.seed_pair_id),
        "server_seed_hash": None if seed is None else seed.server_seed_hash,
        "client_seed": None if seed is None else seed.client_seed,
        "nonce": None if seed is None else seed.nonce,
        "round_id": bet.round_id,
        "created_at": bet.created_at.isoformat(),
        "settled_at": None if bet.settled_at is None else bet.settled_at.isoformat(),
    }


def _settlements_json(settlements: Sequence[Settlement]) -> str:
    rows = [
        {
            "id": str(s.bet_id),
            "outcome": dict(s.outcome),
            "multiplier": str(s.multiplier),
            "payout": str(s.payout),
            "settled_at": s.settled_at.isoformat(),
            "params": None if s.params is None else dict(s.params),
        }
        for s in settlements
    ]
    return json.dumps(rows, separators=(",", ":"), allow_nan=False)


def _identity(bet: BetRecord) -> tuple[object, ...]:
    return (
        bet.id,
        bet.user_id,
        bet.game,
        bet.currency,
        bet.amount,
        bet.created_at,
        bet.seed,
        bet.round_id,
    )


def _result(bet: BetRecord) -> tuple[object, ...]:
    """What a settlement decides, in comparable form (JSON round trip normalises it)."""
    return (
        bet.status,
        _canonical(bet.outcome),
        bet.multiplier,
        bet.payout,
        _canonical(bet.params),
    )


def _settlement_result(settlement: Settlement, bet: BetRecord) -> tuple[object, ...]:
    params = bet.params if settlement.params is None else settlement.params
    return (
        BetStatus.SETTLED,
        _canonical(settlement.outcome),
        settlement.multiplier,
        settlement.payout,
        _canonical(params),
    )


def _canonical(value: Mapping[str, JsonValue] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _check_batch(ids: Sequence[uuid.UUID]) -> None:
    if not 1 <= len(ids) <= MAX_BETS_PER_CALL:
        raise InvalidInput(f"write 1 to {MAX_BETS_PER_CALL} bets per call, got {len(ids)}")
    if len(set(ids)) != len(ids):
        raise InvalidInput("a bet id appears more than once in one call")


def _check_aware(value: object, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{name} must be a timezone-aware datetime")


def _int(value: object) -> int:
    assert isinstance(value, int), f"amounts arrive as int (MinorUnits), got {value!r}"
    return value
