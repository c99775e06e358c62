"""1M-round outcome samples through the real HMAC path, and the bets they price.

Every sample is drawn from fixed seeds (so the suite is deterministic) through
``croupier.games.batch``: the real HMAC stream, crash's hash chain and salted HMAC,
and numpy twins of each game's outcome mapping, which tests/unit/games/test_batch.py
proves equal to ``play`` round by round. One sample serves every configuration whose
outcome is a function of the same floats:

- dice and limbo: every target is priced on the same 1M rolls / results;
- plinko: an n-row game reads the first n floats of the round, so the 16-row paths
  of 1M rounds give the 8..16-row buckets of those same rounds, and one bucket count
  prices all three risk tables (the table is chosen after the outcome);
- mines: the m-mine game's mines are the first m tiles of the round's shuffled order,
  so 1M full orders give every mine count; the player reveals tiles 0, 1, ..., k-1
  (any fixed picks see the same distribution), and those are all safe exactly when
  the lowest mine tile is at least k;
- crash: every cash-out target is priced on the same 1M crash points.

Each configuration's estimate is therefore exactly what 1M independent rounds of that
configuration would give; estimates of different configurations are correlated,
which the family-wide (Bonferroni) sweep allows for.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from math import comb
from typing import Any, TypeVar

import numpy as np

from croupier.games.batch import (
    MAX_BATCH_ROUNDS,
    Words,
    chain_randomness,
    crash_points,
    dice_rolls,
    float_word_matrix,
    limbo_results,
    mines_tiles,
    plinko_buckets,
)
from croupier.games.crash import R_SCALE, Crash
from croupier.games.dice import ROLL_VALUES, Dice, DiceChoice, Direction, words_rolling_at_least
from croupier.games.distribution import PayoutDistribution
from croupier.games.engine import parse_bet
from croupier.games.limbo import MAX_RESULT_H, Limbo
from croupier.games.mines import MAX_MINES, TILES, Mines, MinesChoice, MinesSetup
from croupier.games.plinko import MAX_ROWS, MIN_ROWS, Plinko, PlinkoSetup, Risk
from croupier.games.registry import GAMES
from croupier.games.rng import WORD_SCALE
from croupier.games.targets import TargetChoice

ROUNDS = 1_000_000
SERVER_SEED = hashlib.sha256(b"croupier monte carlo server seed").hexdigest()
CRASH_CHAIN_SECRET = hashlib.sha256(b"croupier monte carlo crash chain").hexdigest()
CRASH_SALT = hashlib.sha256(b"croupier monte carlo crash salt").hexdigest()

GameT = TypeVar("GameT")


def _registered(name: str, kind: type[GameT]) -> GameT:
    game = GAMES[name]
    assert isinstance(game, kind), game
    return game


DICE = _registered("dice", Dice)
LIMBO = _registered("limbo", Limbo)
PLINKO = _registered("plinko", Plinko)
MINES = _registered("mines", Mines)
CRASH = _registered("crash", Crash)

Buckets = list[tuple[int, Fraction]]  # (observed rounds, exact probability)


def _client_seed(game: str) -> str:
    return f"monte-carlo-{game}"


def _seeded_words(game: str, rounds: int, count: int) -> Iterator[Words]:
    """The first ``count`` float words of nonces 0..rounds-1, a batch at a time."""
    for start in range(0, rounds, MAX_BATCH_ROUNDS):
        nonces = range(start, min(start + MAX_BATCH_ROUNDS, rounds))
        yield float_word_matrix(SERVER_SEED, _client_seed(game), nonces, count)


def _histogram(values: Words, bins: int) -> Words:
    counts: Words = np.bincount(values.astype(np.intp), minlength=bins).astype(np.uint64)
    return counts


@dataclass(frozen=True)
class DiceSample:
    rolls_below: list[int]  # rolls_below[v]: rounds that rolled under v hundredths

    @property
    def rounds(self) -> int:
        return self.rolls_below[-1]

    def wins(self, choice: DiceChoice) -> int:
        if choice.direction is Direction.OVER:
            return self.rounds - self.rolls_below[choice.target_h + 1]
        return self.rolls_below[choice.target_h]

    def total(self, choice: DiceChoice) -> Fraction:
        return self.wins(choice) * DICE.win_multiplier(choice)

    def buckets(self, choice: DiceChoice) -> Buckets:
        """Whole-number roll buckets, split where the bet starts to win."""
        win_edge = choice.target_h + 1 if choice.direction is Direction.OVER else choice.target_h
        edges = sorted({*range(0, ROLL_VALUES, 100), ROLL_VALUES, win_edge})
        return [
            (
                self.rolls_below[high] - self.rolls_below[low],
                Fraction(words_rolling_at_least(low) - words_rolling_at_least(high), WORD_SCALE),
            )
            for low, high in pairwise(edges)
        ]


def sample_dice(rounds: int = ROUNDS) -> DiceSample:
    counts = np.zeros(ROLL_VALUES, dtype=np.uint64)
    for words in _seeded_words("dice", rounds, DICE.floats_needed(None)):
        counts += _histogram(dice_rolls(words[:, 0]), ROLL_VALUES)
    return DiceSample([0, *np.cumsum(counts).tolist()])


# Result buckets for limbo and crash, in hundredths (1.01x, 1.02x, ..., 1,000,000x).
RESULT_EDGES_H = (101, 102, 105, 110, 125, 150, 200, 300, 500, 1000, 2000, 5000, 10**4,
                  2 * 10**4, 5 * 10**4, 10**5, 10**6, 10**7, MAX_RESULT_H)  # fmt: skip


@dataclass(frozen=True)
class ResultSample:
    """Sorted results (hundredths) of a target game: limbo or crash."""

    game: Limbo | Crash
    results: array[int]
    space: int  # how many equally likely randoms: 2**32 words or 2**52 values of r

    @property
    def rounds(self) -> int:
        return len(self.results)

    def _p_reach(self, result_h: int) -> Fraction:
        if result_h <= 100:
            return Fraction(1)
        if isinstance(self.game, Limbo):
            reaching = self.game.words_reaching(result_h)
        else:
            reaching = self.game.values_reaching(result_h)
        return Fraction(reaching, self.space)

    def wins(self, choice: TargetChoice) -> int:
        return self.rounds - bisect_left(self.results, choice.target_h)

    def total(self, choice: TargetChoice) -> Fraction:
        return self.wins(choice) * Fraction(choice.target_h, 100)

    def buckets(self, choice: TargetChoice) -> Buckets:
        edges = sorted({100, *RESULT_EDGES_H, choice.target_h})
        buckets = []
        for low, high in zip(edges, [*edges[1:], None], strict=True):
            at_least_low = self.rounds - bisect_left(self.results, low)
            at_least_high = 0 if high is None else self.rounds - bisect_left(self.results, high)
            p_high = Fraction(0) if high is None else self._p_reach(high)
            buckets.append((at_least_low - at_least_high, self._p_reach(low) - p_high))
        return buckets


def _sorted(results: list[Words]) -> array[int]:
    return array("q", np.sort(np.concatenate(results)).tolist())


def sample_limbo(rounds: int = ROUNDS) -> ResultSample:
    results = [limbo_results(LIMBO, w[:, 0]) for w in _seeded_words("limbo", rounds, 1)]
    return ResultSample(LIMBO, _sorted(results), WORD_SCALE)


def sample_crash(rounds: int = ROUNDS) -> ResultSample:
    """Crash points of the chain's rounds from ``CRASH_CHAIN_SECRET`` downward."""
    results, game_hash = [], CRASH_CHAIN_SECRET
    for start in range(0, rounds, MAX_BATCH_ROUNDS):
        randomness, game_hash = chain_randomness(
            CRASH_SALT, game_hash, min(MAX_BATCH_ROUNDS, rounds - start)
        )
        results.append(crash_points(CRASH, randomness))
    return ResultSample(CRASH, _sorted(results), R_SCALE)


@dataclass(frozen=True)
class PlinkoSample:
    bucket_counts: dict[int, list[int]]  # rows -> rounds per bucket

    def total(self, setup: PlinkoSetup, risk: Risk) -> Fraction:
        table = PLINKO.tables[setup.rows, risk]
        counts = self.bucket_counts[setup.rows]
        return Fraction(sum(c * m for c, m in zip(counts, table, strict=True)), 100)

    def buckets(self, setup: PlinkoSetup) -> Buckets:
        total = 2**setup.rows
        return [
            (count, Fraction(comb(setup.rows, k), total))
            for k, count in enumerate(self.bucket_counts[setup.rows])
        ]


def sample_plinko(rounds: int = ROUNDS) -> PlinkoSample:
    all_rows = range(MIN_ROWS, MAX_ROWS + 1)
    counts = {rows: np.zeros(rows + 1, dtype=np.uint64) for rows in all_rows}
    for words in _seeded_words("plinko", rounds, PLINKO.floats_needed(PlinkoSetup(MAX_ROWS))):
        for rows in all_rows:
            counts[rows] += _histogram(plinko_buckets(words[:, :rows]), rows + 1)
    return PlinkoSample({rows: bucket_counts.tolist() for rows, bucket_counts in counts.items()})


@dataclass(frozen=True)
class MinesSample:
    lowest_mine: dict[int, list[int]]  # mines -> rounds per lowest mine tile

    def wins(self, setup: MinesSetup, choice: MinesChoice) -> int:
        assert choice.picks == tuple(range(len(choice.picks))), "the sample reveals 0..k-1"
        return sum(self.lowest_mine[setup.mines][len(choice.picks) :])

    def total(self, setup: MinesSetup, choice: MinesChoice) -> Fraction:
        return self.wins(setup, choice) * MINES.cash_out_multiplier(setup.mines, len(choice.picks))

    def buckets(self, setup: MinesSetup) -> Buckets:
        """Lowest mine tile j: P = (C(25 - j, m) - C(24 - j, m)) / C(25, m)."""
        m = setup.mines
        return [
            (count, Fraction(comb(TILES - j, m) - comb(TILES - 1 - j, m), comb(TILES, m)))
            for j, count in enumerate(self.lowest_mine[m])
        ]


def sample_mines(rounds: int = ROUNDS) -> MinesSample:
    lowest = {m: np.zeros(TILES, dtype=np.uint64) for m in range(1, TILES)}
    for words in _seeded_words("mines", rounds, MINES.floats_needed(MinesSetup(MAX_MINES))):
        # Column m - 1: the lowest of the first m tiles, the m-mine board's lowest mine.
        lowest_so_far = np.minimum.accumulate(mines_tiles(words), axis=1)
        for m, counts in lowest.items():
            counts += _histogram(lowest_so_far[:, m - 1], TILES)
    return MinesSample({m: counts.tolist() for m, counts in lowest.items()})


@dataclass(frozen=True)
class Config:
    """One offered bet, named by its wire parameters."""

    game: str
    params: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, game: str, **params: object) -> Config:
        return cls(game, tuple((k, str(v)) for k, v in params.items()))

    @property
    def label(self) -> str:
        shown = " ".join(f"{k}={v}" for k, v in self.params if k != "picks")
        picks = dict(self.params).get("picks")
        reveals = f" reveals={len(picks.split(','))}" if picks else ""
        return f"{self.game} {shown}{reveals}"

    def parsed(self) -> tuple[Any, Any]:
        return parse_bet(GAMES[self.game], dict(self.params))

    def distribution(self) -> PayoutDistribution:
        setup, choice = self.parsed()
        return GAMES[self.game].payout_distribution(setup, choice)


def mines_config(mines: int, reveals: int) -> Config:
    return Config.of("mines", mines=mines, picks=",".join(str(t) for t in range(reveals)))


@dataclass(frozen=True)
class Samples:
    dice: DiceSample
    limbo: ResultSample
    plinko: PlinkoSample
    mines: MinesSample
    crash: ResultSample

    def total(self, config: Config) -> Fraction:
        setup, choice = config.parsed()
        sample = getattr(self, config.game)
        if config.game in ("plinko", "mines"):
            return sample.total(setup, choice)  # type: ignore[no-any-return]
        return sample.total(choice)  # type: ignore[no-any-return]

    def buckets(self, config: Config) -> Buckets:
        setup, choice = config.parsed()
        sample = getattr(self, config.game)
        if config.game in ("plinko", "mines"):
            return sample.buckets(setup)  # type: ignore[no-any-return]
        return sample.buckets(choice)  # type: ignore[no-any-return]


def checked_rounds(buckets: Sequence[tuple[int, Fraction]]) -> int:
    return sum(count for count, _ in buckets)
