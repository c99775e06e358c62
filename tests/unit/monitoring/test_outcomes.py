"""The outcome monitor flags a biased stream and stays quiet on a fair one.

False alarm rate, measured here (fixed seeds, so the figures are reproducible): at
alpha = 0.01 over 1000 fair windows of 400 bets, identical dice bets alarm in about 1%
of windows (the nominal rate) and a mix of dice targets in well under 1% (Pearson's X²
is conservative when bets differ in their odds). Production uses alpha = 1e-6 per game
and run: with 5 games checked every 5 minutes that is one false alarm in about 1.9 years
of independent checks, and overlapping windows make repeats of one alarm, not new ones.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Mapping
from fractions import Fraction

import pytest

from croupier.games.engine import parse_bet, play
from croupier.games.registry import game_named
from croupier.monitoring.outcomes import (
    MonitorPolicy,
    OutcomeSample,
    bucket_of,
    check_game,
    check_games,
)

PRODUCTION = MonitorPolicy(alpha=1e-6, min_samples=500)
SERVER_SEED = "5f" * 32  # fixed: the fair streams are the same on every run

Sampler = Callable[[random.Random], Fraction]


def real_rounds(game: str, params: Mapping[str, object], count: int) -> list[OutcomeSample]:
    """``count`` rounds of the real provably-fair engine."""
    return [
        OutcomeSample(
            game,
            params,
            play(
                game,
                params,
                server_seed=SERVER_SEED,
                client_seed="monitor",
                nonce=nonce,
                amount=100,
            ).multiplier,
        )
        for nonce in range(count)
    ]


def sampler(game: str, params: Mapping[str, object]) -> Sampler:
    """Draws multipliers from the bet's exact distribution (fast, for rate measurements)."""
    chosen = game_named(game)
    distribution = chosen.payout_distribution(*parse_bet(chosen, params))
    cumulative = list(itertools.accumulate(float(p) for _, p in distribution.outcomes))
    multipliers = [m for m, _ in distribution.outcomes]
    last = len(multipliers) - 1
    return lambda rng: multipliers[min(bisect.bisect_left(cumulative, rng.random()), last)]


def false_alarm_rate(
    game: str, bets: list[tuple[dict[str, object], Sampler]], *, seed: int
) -> float:
    rng = random.Random(seed)
    policy = MonitorPolicy(alpha=0.01, min_samples=100)
    windows, alarms = 1000, 0
    for _ in range(windows):
        samples = []
        for _ in range(400):
            params, draw = bets[rng.randrange(len(bets))]
            samples.append(OutcomeSample(game, params, draw(rng)))
        alarms += check_game(game, samples, policy).flagged
    return alarms / windows


def test_fair_streams_of_every_seeded_game_are_quiet() -> None:
    samples = [
        *real_rounds("dice", {"target": "50.5", "direction": "over"}, 3000),
        *real_rounds("dice", {"target": "10", "direction": "under"}, 2000),
        *real_rounds("limbo", {"target": "2"}, 3000),
        *real_rounds("plinko", {"rows": 12, "risk": "high"}, 3000),
        *real_rounds("mines", {"mines": 3, "picks": [0, 1, 2]}, 3000),
    ]

    checks = check_games(samples, PRODUCTION)

    assert [c.game for c in checks] == ["dice", "limbo", "mines", "plinko"]
    for check in checks:
        assert check.p_value is not None, check.describe()
        assert not check.flagged, check.describe()


def test_a_stream_that_wins_too_often_is_flagged() -> None:
    """An exploit that turns one dice loss in ten into a win (RTP 99% -> about 109%)."""
    params = {"target": "50.5", "direction": "over"}
    fair = real_rounds("dice", params, 5000)
    win = max(s.multiplier for s in fair)
    biased = [
        OutcomeSample("dice", params, win) if s.multiplier == 0 and i % 10 == 0 else s
        for i, s in enumerate(fair)
    ]

    assert not check_game("dice", fair, PRODUCTION).flagged
    verdict = check_game("dice", biased, PRODUCTION)
    assert verdict.flagged, verdict.describe()
    assert verdict.p_value is not None and verdict.p_value < 1e-9


def test_plinko_paying_its_edges_too_often_is_flagged() -> None:
    params = {"rows": 16, "risk": "high"}
    fair = real_rounds("plinko", params, 6000)
    plinko = game_named("plinko")
    top, _ = plinko.payout_distribution(*parse_bet(plinko, params)).outcomes[-1]
    # One round in 200 lands on the 1000x edge instead of where it fell.
    biased = [
        OutcomeSample("plinko", params, top) if i % 200 == 0 else sample
        for i, sample in enumerate(fair)
    ]

    verdict = check_game("plinko", biased, PRODUCTION)

    assert verdict.flagged, verdict.describe()


def test_a_multiplier_the_bet_cannot_pay_is_flagged_at_any_sample_size() -> None:
    params = {"target": "2"}
    samples = [*real_rounds("limbo", params, 10), OutcomeSample("limbo", params, Fraction(3))]

    verdict = check_game("limbo", samples, PRODUCTION)

    assert verdict.p_value is None  # far too few bets for the statistical test
    assert verdict.impossible == 1 and verdict.flagged


def test_bets_the_game_refuses_are_counted_not_tested() -> None:
    samples = [*real_rounds("limbo", {"target": "2"}, 600), OutcomeSample("limbo", {}, Fraction(0))]

    verdict = check_game("limbo", samples, PRODUCTION)

    assert verdict.invalid == 1 and verdict.samples == 600 and not verdict.flagged


def test_crash_bets_of_one_round_count_once() -> None:
    params = {"target": "2"}
    one_round = [OutcomeSample("crash", params, Fraction(0), round_key="r1") for _ in range(50)]

    (verdict,) = check_games(one_round, PRODUCTION)

    assert verdict.samples == 1


def test_false_alarm_rate_of_identical_bets_is_the_stated_alpha() -> None:
    params: dict[str, object] = {"target": "50.5", "direction": "over"}
    rate = false_alarm_rate("dice", [(params, sampler("dice", params))], seed=7)

    # 1000 windows at alpha 0.01: the binomial standard error is about 0.003.
    assert 0.002 <= rate <= 0.02, rate


def test_false_alarm_rate_of_mixed_bets_is_at_most_alpha() -> None:
    bets: list[tuple[dict[str, object], Sampler]] = []
    for target, direction in itertools.product(("5", "25", "50.5", "75", "95"), ("over", "under")):
        params: dict[str, object] = {"target": target, "direction": direction}
        bets.append((params, sampler("dice", params)))

    rate = false_alarm_rate("dice", bets, seed=11)

    assert rate <= 0.02, rate


def test_false_alarm_rate_with_rare_big_wins_is_at_most_alpha() -> None:
    """Plinko's edges expect far fewer than 5 hits per window: the Poisson tail tests."""
    bets: list[tuple[dict[str, object], Sampler]] = []
    for rows, risk in itertools.product((8, 12, 16), ("low", "high")):
        params: dict[str, object] = {"rows": rows, "risk": risk}
        bets.append((params, sampler("plinko", params)))

    rate = false_alarm_rate("plinko", bets, seed=13)

    assert rate <= 0.02, rate


@pytest.mark.parametrize(
    ("multiplier", "bucket"),
    [
        (Fraction(0), 0),
        (Fraction(1, 2), 1),
        (Fraction(1), 2),
        (Fraction(99, 50), 2),
        (Fraction(2), 3),
        (Fraction(1000), 6),
    ],
)
def test_buckets_split_losses_small_and_big_wins(multiplier: Fraction, bucket: int) -> None:
    assert bucket_of(multiplier) == bucket
