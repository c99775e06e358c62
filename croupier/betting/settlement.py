"""Settling a seeded bet: stake, provably-fair outcome, payout and bet row, in ONE
database transaction, idempotent by the bet id.

- Dice, limbo and plinko settle in one call: :meth:`Settler.settle`.
- Mines stakes when the game opens (:meth:`Settler.open`, writing an open bet row),
  asks :meth:`Settler.reveal` after each tile, and settles through the very same
  :meth:`Settler.settle` (its stake transfer is then a replay that writes nothing).

Whoever calls twice gets the first result: a bet already settled is returned as
stored, the stake and payout transfer ids dedupe in the ledger, and the bet id is the
``bets`` key. A refusal (``InsufficientFunds``, a bad bet) rolls back everything, so
the bet's nonce was never used and no outcome was shown: the next bet may take it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from threading import Lock

from sqlalchemy import Connection, Engine

from croupier.betting import seed_pairs
from croupier.betting.bets import (
    BetRecord,
    BetStatus,
    SeedRef,
    Settlement,
    get_bet,
    record_bet,
    settle_bet,
)
from croupier.betting.errors import MinesGameOver
from croupier.betting.movements import (
    BetAccounts,
    StakeSplit,
    StakeSplitter,
    bet_accounts,
    payout_requests,
    stake_requests,
    take_stake,
)
from croupier.betting.sealing import SeedSealer
from croupier.core.clock import Clock
from croupier.core.errors import IdempotencyConflict
from croupier.core.money import Currency
from croupier.games.engine import RoundResult, parse_bet, play, seeded_game
from croupier.games.game import JsonValue
from croupier.games.params import check_known
from croupier.games.rng import float_words
from croupier.ledger.posting import transfer_batch
from croupier.ledger.requests import TransferRequest

# Account ids never change; remembering them saves two statements per bet. Bounded so
# a long-lived worker serving millions of players does not grow without limit.
MAX_CACHED_ACCOUNTS = 100_000


@dataclass(frozen=True, slots=True)
class SeededBet:
    """A bet on a seeded game as the session workflow hands it over: the seed pair by
    reference and the nonce the workflow assigned, never the server seed."""

    id: uuid.UUID
    user_id: uuid.UUID
    game: str
    currency: Currency
    amount: int
    params: Mapping[str, JsonValue]
    seed: SeedRef
    created_at: datetime

    def record(self) -> BetRecord:
        """The open bet row (a game played over several moves)."""
        return BetRecord(
            id=self.id,
            user_id=self.user_id,
            game=self.game,
            currency=self.currency,
            amount=self.amount,
            params=self.params,
            created_at=self.created_at,
            status=BetStatus.OPEN,
            seed=self.seed,
        )

    def settled(self, result: RoundResult, settled_at: datetime) -> BetRecord:
        return replace(
            self.record(),
            status=BetStatus.SETTLED,
            outcome=result.outcome.as_dict(),
            multiplier=result.multiplier,
            payout=result.payout,
            settled_at=settled_at,
        )

    def settlement(self, settled: BetRecord) -> Settlement:
        """How an open row of this bet becomes ``settled`` (with the final params)."""
        assert settled.outcome is not None and settled.multiplier is not None
        assert settled.payout is not None and settled.settled_at is not None
        return Settlement(
            bet_id=self.id,
            outcome=settled.outcome,
            multiplier=settled.multiplier,
            payout=settled.payout,
            settled_at=settled.settled_at,
            params=self.params,
        )


@dataclass(frozen=True, slots=True)
class Reveal:
    """A mines tile revealed: safe (the game goes on at ``multiplier``) or not (then
    ``bet`` is the lost, settled bet)."""

    safe: bool
    multiplier: Fraction
    bet: BetRecord | None = None


@dataclass(frozen=True, slots=True)
class _Claim:
    stored: BetRecord | None
    bet: SeededBet
    server_seed: str | None = field(repr=False)


# Called with the settlement's connection before a NEW bet stakes anything; raises a
# typed error to refuse it (responsible-gambling limits live outside this package).
BetGuard = Callable[[Connection, "SeededBet"], None]


def allow_every_bet(conn: Connection, bet: SeededBet) -> None:
    """The guard of a settler that enforces no player restrictions (tests, tools)."""


class Settler:
    """Settles seeded bets against one database; safe to share between threads."""

    def __init__(
        self, engine: Engine, sealer: SeedSealer, clock: Clock, guard: BetGuard = allow_every_bet
    ) -> None:
        self._engine = engine
        self._sealer = sealer
        self._clock = clock
        self._guard = guard
        self._accounts: dict[tuple[uuid.UUID, Currency], BetAccounts] = {}
        self._accounts_lock = Lock()

    def settle(self, bet: SeededBet, splitter: StakeSplitter | None = None) -> BetRecord:
        """Stake (unless already staked), play, pay and record the bet, all or nothing.

        ``splitter`` is asked about a new bet, or about one staked at open (the split
        it was staked with); a caller passes one only for a player who may have a
        second account to spend (no extra query otherwise).
        """
        accounts = self.accounts(bet.user_id, bet.currency)
        with self._engine.begin() as conn:
            claim = self._claim(conn, bet)
            if claim.stored is not None and claim.stored.status is BetStatus.SETTLED:
                return claim.stored
            assert claim.server_seed is not None
            bet = claim.bet
            if claim.stored is None:
                self._guard(conn, bet)
            settled = bet.settled(round_result(bet, claim.server_seed), self._clock.now())
            split = None
            if splitter is not None:
                split_of = splitter.stake if claim.stored is None else splitter.staked
                split = split_of(conn, settled, accounts)
            transfer_batch(conn, _movements(settled, accounts, split))
            if claim.stored is None:
                return record_bet(conn, settled)
            return settle_bet(conn, bet.settlement(settled))

    def open(self, bet: SeededBet, splitter: StakeSplitter | None = None) -> BetRecord:
        """Stake a game played over several moves and write its open bet row (its stake
        split as ``splitter`` says; settle it with the same splitter)."""
        validate_bet(bet.game, bet.params, complete=False)
        accounts = self.accounts(bet.user_id, bet.currency)
        with self._engine.begin() as conn:
            claim = self._claim(conn, bet)
            if claim.stored is not None:
                return claim.stored
            self._guard(conn, claim.bet)
            record = claim.bet.record()
            split = None if splitter is None else splitter.stake(conn, record, accounts)
            take_stake(conn, record, accounts, split)
            return record_bet(conn, record)

    def reveal(self, bet: SeededBet, splitter: StakeSplitter | None = None) -> Reveal:
        """Whether the last tile of ``bet.params["picks"]`` is safe; a mine settles the
        bet as lost in the same call (through ``splitter``, as :meth:`settle`)."""
        with self._engine.begin() as conn:
            claim = self._claim(conn, bet)
            if claim.stored is None or claim.stored.status is not BetStatus.OPEN:
                raise MinesGameOver(f"mines game {bet.id} is not in play")
            assert claim.server_seed is not None
            result = round_result(claim.bet, claim.server_seed)
        if result.multiplier > 0:
            return Reveal(safe=True, multiplier=result.multiplier)
        return Reveal(safe=False, multiplier=Fraction(0), bet=self.settle(claim.bet, splitter))

    def _claim(self, conn: Connection, bet: SeededBet) -> _Claim:
        """Serialize on the player's session, then: the stored bet (if any), the bet as
        it plays (its stored seed, or the pair's next unused nonce) and the server seed
        (unless the bet is settled already).

        The database, not the caller, has the last word on the nonce: a worker that died
        after committing a bet, but before its workflow recorded that, leaves the nonce
        used; the workflow's next bet then takes the one after (its result says which).
        """
        seed_pairs.lock_session(conn, bet.user_id, bet.currency)
        fresh = seed_pairs.seed_for_new_bet(
            conn, self._sealer, bet.user_id, bet.currency, bet.id, bet.seed
        )
        if fresh is not None:
            return _Claim(None, replace(bet, seed=fresh.seed), fresh.server_seed)
        stored = get_bet(conn, bet.id)
        _check_same_bet(stored, bet)
        assert stored.seed is not None, "a session bet is seeded"
        played = replace(bet, seed=stored.seed, created_at=stored.created_at)
        if stored.status is BetStatus.SETTLED:
            return _Claim(stored, played, None)
        server_seed = seed_pairs.server_seed_for(
            conn, self._sealer, bet.user_id, bet.currency, stored.seed
        )
        return _Claim(stored, played, server_seed)

    def accounts(self, user_id: uuid.UUID, currency: Currency) -> BetAccounts:
        key = (user_id, currency)
        cached = self._accounts.get(key)
        if cached is not None:
            return cached
        found = bet_accounts(self._engine, user_id, currency)
        with self._accounts_lock:
            if len(self._accounts) >= MAX_CACHED_ACCOUNTS:
                self._accounts.clear()
            self._accounts[key] = found
        return found


def _movements(
    settled: BetRecord, accounts: BetAccounts, split: StakeSplit | None
) -> list[TransferRequest]:
    """Stake (a replay for a bet staked at open) and payout of a settled bet."""
    return stake_requests(settled, accounts, split) + payout_requests(settled, accounts, split)


def round_result(bet: SeededBet, server_seed: str) -> RoundResult:
    """The provably-fair result of ``bet``. A mines game that ends with no tile revealed
    (timed out untouched) is lost: its outcome is still the board its seed drew."""
    game = seeded_game(bet.game)
    if bet.params.keys() & game.choice_keys:
        return play(
            bet.game,
            bet.params,
            server_seed=server_seed,
            client_seed=bet.seed.client_seed,
            nonce=bet.seed.nonce,
            amount=bet.amount,
        )
    check_known(bet.params, game.setup_keys, game.name)
    setup = game.validate_setup(bet.params)
    words = float_words(
        server_seed, bet.seed.client_seed, bet.seed.nonce, game.floats_needed(setup)
    )
    return RoundResult(game.name, game.outcome(setup, words), Fraction(0), 0)


def validate_bet(game_name: str, params: Mapping[str, JsonValue], *, complete: bool) -> None:
    """Refuse parameters the game would refuse: all of them (``complete``), or only the
    setup of a game whose choices come later (a mines game opens with its mine count)."""
    game = seeded_game(game_name)
    if complete:
        parse_bet(game, params)
        return
    check_known(params, game.setup_keys, game.name)
    game.validate_setup(params)


def _check_same_bet(stored: BetRecord, bet: SeededBet) -> None:
    """A bet id names one bet: same player, game, currency and stake (and, once settled,
    parameters; a game in play gains its picks on the way)."""
    same = (stored.user_id, stored.game, stored.currency, stored.amount) == (
        bet.user_id,
        bet.game,
        bet.currency,
        bet.amount,
    )
    if stored.status is BetStatus.SETTLED and dict(stored.params) != dict(bet.params):
        same = False
    if not same:
        raise IdempotencyConflict(f"bet {bet.id} already exists with other content")
