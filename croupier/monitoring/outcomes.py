"""Outcome distribution monitor: do a game's recent payouts look like its exact odds?

Every settled bet paid a multiplier. Its game and parameters give the exact
probability of every multiplier it could have paid (``payout_distribution``), so each
bet's chance of landing in each multiplier *bucket* is known exactly, whatever mix of
targets, risks and board sizes players chose. Per game, over a window of recent bets:

- expected count of a bucket = the sum of each bet's exact probability of it;
- observed count = the bets that landed in it;
- Pearson's X² over the buckets (adjacent buckets merged until each expects at least
  ``MIN_EXPECTED_PER_BUCKET``), with ``buckets - 1`` degrees of freedom.

Merging dilutes the rarest buckets (a plinko edge paying 1000x), which are what an
exploit of big wins overfills; so each bucket expecting fewer than the minimum is also
tested on its own, by the Poisson upper tail P(X >= observed). The game's p-value is the
smallest of these p-values times their number (Bonferroni), and the game is flagged when
it is below ``alpha`` (the false-alarm rate per check when outcomes are fair), or when
any bet paid a multiplier its own distribution says is impossible (a definite bug or
tamper, whatever the sample size). When bets in a window differ in their odds, X² is
smaller in expectation than for identical bets and the Poisson tail is an upper bound,
so the real false-alarm rate is at most ``alpha``; tests/unit/monitoring measure it.

Crash bets of one round share one crash point and are not independent: samples carrying
a ``round_key`` are thinned to the first bet of each round.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from croupier.core.errors import InvalidInput
from croupier.games.engine import parse_bet
from croupier.games.registry import game_named
from croupier.monitoring.chisquare import (
    chi_square_p_value,
    chi_square_statistic,
    poisson_upper_tail,
)

# Upper bounds of the multiplier buckets: a loss (exactly 0), (0, 1), [1, 2), [2, 5),
# [5, 10), [10, 100), [100, inf). They separate what an exploit changes: how often a bet
# wins, and how big the wins are.
BUCKET_UPPER_BOUNDS: tuple[Fraction, ...] = tuple(Fraction(bound) for bound in (1, 2, 5, 10, 100))
BUCKET_LABELS = ("0", "(0,1)", "[1,2)", "[2,5)", "[5,10)", "[10,100)", "[100,inf)")
BUCKETS = len(BUCKET_LABELS)
# Cochran's rule: the chi-square approximation holds when every bucket expects >= 5.
MIN_EXPECTED_PER_BUCKET = 5.0
MAX_WINDOW_BETS = 100_000
DISTRIBUTION_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class OutcomeSample:
    """One settled bet, as the monitor needs it."""

    game: str
    params: Mapping[str, object]
    multiplier: Fraction
    # Crash: the shared round the bet was in; bets of one round count once.
    round_key: str | None = None


@dataclass(frozen=True, slots=True)
class MonitorPolicy:
    alpha: float
    min_samples: int

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InvalidInput(f"alpha must be between 0 and 1, got {self.alpha}")
        if not 1 <= self.min_samples <= MAX_WINDOW_BETS:
            raise InvalidInput(f"min_samples must be 1..{MAX_WINDOW_BETS}, got {self.min_samples}")


@dataclass(frozen=True, slots=True)
class RareBucket:
    """A bucket expecting too few bets for X², tested alone for being overfull."""

    label: str
    observed: int
    expected: float

    @property
    def p_value(self) -> float:
        return poisson_upper_tail(self.observed, self.expected)


@dataclass(frozen=True, slots=True)
class GameCheck:
    """The verdict on one game's window. ``p_value`` (Bonferroni-adjusted over the X²
    test and the rare buckets) is None when there are too few samples."""

    game: str
    samples: int
    invalid: int
    impossible: int
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    labels: tuple[str, ...]
    rare: tuple[RareBucket, ...]
    statistic: float | None
    degrees_of_freedom: int | None
    p_value: float | None
    flagged: bool

    def describe(self) -> str:
        if self.impossible:
            return (
                f"{self.game}: {self.impossible} of {self.samples} bets paid a multiplier "
                "their own odds make impossible"
            )
        if self.p_value is None:
            return f"{self.game}: {self.samples} bets, too few to test"
        fit = ""
        if self.statistic is not None:
            fit = f", X²={self.statistic:.1f} with {self.degrees_of_freedom} df"
        return f"{self.game}: {self.samples} bets{fit}, p={self.p_value:.3g}"

    def to_json(self) -> dict[str, object]:
        return {
            "game": self.game,
            "samples": self.samples,
            "invalid": self.invalid,
            "impossible": self.impossible,
            "buckets": [
                {"bucket": label, "observed": o, "expected": round(e, 3)}
                for label, o, e in zip(self.labels, self.observed, self.expected, strict=True)
            ],
            "rare_buckets": [
                {
                    "bucket": b.label,
                    "observed": b.observed,
                    "expected": round(b.expected, 3),
                    "p_value": b.p_value,
                }
                for b in self.rare
            ],
            "statistic": self.statistic,
            "degrees_of_freedom": self.degrees_of_freedom,
            "p_value": self.p_value,
            "flagged": self.flagged,
        }


def bucket_of(multiplier: Fraction) -> int:
    if multiplier == 0:
        return 0
    for index, bound in enumerate(BUCKET_UPPER_BOUNDS):
        if multiplier < bound:
            return index + 1
    return BUCKETS - 1


def check_games(samples: Iterable[OutcomeSample], policy: MonitorPolicy) -> list[GameCheck]:
    """One ``GameCheck`` per game present in ``samples``, sorted by game name."""
    by_game: dict[str, list[OutcomeSample]] = {}
    for sample in _one_per_round(samples):
        by_game.setdefault(sample.game, []).append(sample)
    return [check_game(game, by_game[game], policy) for game in sorted(by_game)]


def check_game(game: str, samples: Sequence[OutcomeSample], policy: MonitorPolicy) -> GameCheck:
    if len(samples) > MAX_WINDOW_BETS:
        raise InvalidInput(f"at most {MAX_WINDOW_BETS} bets per window, got {len(samples)}")
    observed = [0] * BUCKETS
    expected = [0.0] * BUCKETS
    invalid = impossible = 0
    for sample in samples:
        assert sample.game == game, (sample.game, game)
        try:
            chances = _bucket_chances(game, _params_key(sample.params))
        except InvalidInput:
            invalid += 1
            continue
        if sample.multiplier not in chances.multipliers:
            impossible += 1
        observed[bucket_of(sample.multiplier)] += 1
        for bucket, chance in enumerate(chances.by_bucket):
            expected[bucket] += chance
    tested = len(samples) - invalid
    merged_observed, merged_expected, labels = _merge_small(observed, expected)
    rare = tuple(
        RareBucket(BUCKET_LABELS[b], observed[b], expected[b])
        for b in range(BUCKETS)
        if 0 < expected[b] < MIN_EXPECTED_PER_BUCKET
    )
    statistic = p_value = None
    dof = len(merged_expected) - 1
    if tested >= policy.min_samples:
        p_values = [bucket.p_value for bucket in rare]
        if dof >= 1:
            statistic = chi_square_statistic(merged_observed, merged_expected)
            p_values.append(chi_square_p_value(statistic, dof))
        if p_values:
            p_value = min(1.0, len(p_values) * min(p_values))
    return GameCheck(
        game=game,
        samples=tested,
        invalid=invalid,
        impossible=impossible,
        observed=tuple(merged_observed),
        expected=tuple(merged_expected),
        labels=labels,
        rare=rare,
        statistic=statistic,
        degrees_of_freedom=dof if statistic is not None else None,
        p_value=p_value,
        flagged=impossible > 0 or (p_value is not None and p_value < policy.alpha),
    )


@dataclass(frozen=True, slots=True)
class _BucketChances:
    by_bucket: tuple[float, ...]
    multipliers: frozenset[Fraction]


@lru_cache(maxsize=DISTRIBUTION_CACHE_SIZE)
def _bucket_chances(game_name: str, params_key: str) -> _BucketChances:
    """A bet's exact chance of each bucket; cached because players repeat their bets."""
    game = game_named(game_name)
    setup, choice = parse_bet(game, json.loads(params_key))
    distribution = game.payout_distribution(setup, choice)
    by_bucket = [Fraction(0)] * BUCKETS
    for multiplier, probability in distribution.outcomes:
        by_bucket[bucket_of(multiplier)] += probability
    return _BucketChances(
        by_bucket=tuple(float(chance) for chance in by_bucket),
        multipliers=frozenset(m for m, p in distribution.outcomes if p),
    )


def _params_key(params: Mapping[str, object]) -> str:
    try:
        return json.dumps(params, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        raise InvalidInput("bet parameters are not plain JSON") from None


def _merge_small(
    observed: Sequence[int], expected: Sequence[float]
) -> tuple[list[int], list[float], tuple[str, ...]]:
    """Merge adjacent buckets, left to right, until each expects enough; an underfull
    tail joins the last bucket. Buckets nothing can land in (and nothing did) vanish."""
    merged_o: list[int] = []
    merged_e: list[float] = []
    labels: list[str] = []
    run_o, run_e, run_labels = 0, 0.0, []
    for o, e, label in zip(observed, expected, BUCKET_LABELS, strict=True):
        if e == 0 and o == 0:
            continue
        run_o, run_e = run_o + o, run_e + e
        run_labels.append(label)
        if run_e >= MIN_EXPECTED_PER_BUCKET:
            merged_o.append(run_o)
            merged_e.append(run_e)
            labels.append("+".join(run_labels))
            run_o, run_e, run_labels = 0, 0.0, []
    if run_labels:
        if merged_e:
            merged_o[-1] += run_o
            merged_e[-1] += run_e
            labels[-1] = "+".join([labels[-1], *run_labels])
        elif run_e > 0:
            merged_o.append(run_o)
            merged_e.append(run_e)
            labels.append("+".join(run_labels))
    return merged_o, merged_e, tuple(labels)


def _one_per_round(samples: Iterable[OutcomeSample]) -> Iterable[OutcomeSample]:
    seen_rounds: set[tuple[str, str]] = set()
    for sample in samples:
        if sample.round_key is not None:
            key = (sample.game, sample.round_key)
            if key in seen_rounds:
                continue
            seen_rounds.add(key)
        yield sample
