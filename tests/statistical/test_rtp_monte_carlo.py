"""Monte Carlo RTP, 1M rounds per configuration through the real HMAC path.

The representative set covers every game and both variance classes; each bet in it
must land inside its 99.9% interval (3.29 sigma / sqrt(N), sigma exact). Low-variance
bets (sigma <= 1.5 per unit staked) must also land within 0.5 points of the exact RTP;
high-variance bets cannot be pinned that closely by 1M rounds, so their outcome
buckets must pass a chi-square test at 99.9% against the exact distribution. The
exact RTP of every offered bet is asserted in tests/unit/games; the sweep at the end
checks all of them against their samples with a family-wide 99.9% interval.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest

from croupier.games import play, play_crash
from croupier.games.hashchain import walk
from croupier.games.mines import TILES
from croupier.games.plinko import MAX_ROWS, MIN_ROWS, Risk
from tests.statistical import montecarlo as mc
from tests.statistical.stats import (
    CHI_SQUARE_ALPHA,
    LOW_VARIANCE_SD,
    LOW_VARIANCE_TOLERANCE,
    MAX_MEAN_SKEWNESS_AT_Z_999,
    MAX_MEAN_SKEWNESS_IN_SWEEP,
    Z_999,
    chi_square,
    estimate,
    family_z,
    mean_is_normal_enough,
)

REPRESENTATIVE = [
    mc.Config.of("dice", direction="over", target="50.50"),  # 2.0002x, even money
    mc.Config.of("dice", direction="under", target="50"),
    mc.Config.of("dice", direction="over", target="2"),  # 97.99% chance
    mc.Config.of("dice", direction="under", target="75"),
    mc.Config.of("dice", direction="over", target="90"),  # 9.9x
    mc.Config.of("dice", direction="under", target="1"),  # 99x
    mc.Config.of("dice", direction="over", target="99.99"),  # 9900.99x
    *(mc.Config.of("limbo", target=t) for t in ("1.01", "1.5", "2", "3", "10", "100", "1000")),
    *(
        mc.Config.of("plinko", rows=rows, risk=risk)
        for rows in range(MIN_ROWS, MAX_ROWS + 1)
        for risk in Risk
    ),
    *(
        mc.mines_config(mines, reveals)
        for mines, reveals in [
            (1, 1),
            (1, 24),
            (3, 1),
            (3, 5),
            (3, 22),
            (5, 5),
            (10, 3),
            (10, 10),
            (24, 1),
        ]
    ),
    *(mc.Config.of("crash", target=t) for t in ("1.01", "1.5", "2", "10", "100", "1000")),
]


def _sigma(config: mc.Config) -> float:
    return config.distribution().standard_deviation


LOW_VARIANCE = [c for c in REPRESENTATIVE if _sigma(c) <= LOW_VARIANCE_SD]
HIGH_VARIANCE = [c for c in REPRESENTATIVE if _sigma(c) > LOW_VARIANCE_SD]


def _label(config: mc.Config) -> str:
    return config.label


def test_the_representative_set_covers_every_game_in_both_variance_classes() -> None:
    games = {"dice", "limbo", "plinko", "mines", "crash"}
    assert len(REPRESENTATIVE) == 56  # as listed in docs/provably-fair.md
    assert {c.game for c in LOW_VARIANCE} == games
    assert {c.game for c in HIGH_VARIANCE} == games
    assert all(
        mean_is_normal_enough(c.distribution(), mc.ROUNDS, MAX_MEAN_SKEWNESS_AT_Z_999)
        for c in REPRESENTATIVE
    )


@pytest.mark.parametrize("config", REPRESENTATIVE, ids=_label)
def test_observed_rtp_lies_inside_the_999_percent_interval(
    config: mc.Config, samples: mc.Samples
) -> None:
    result = estimate(samples.total(config), mc.ROUNDS, config.distribution())
    assert abs(result.z) <= Z_999, result.describe()


@pytest.mark.parametrize("config", LOW_VARIANCE, ids=_label)
def test_low_variance_rtp_is_within_half_a_point_of_exact(
    config: mc.Config, samples: mc.Samples
) -> None:
    result = estimate(samples.total(config), mc.ROUNDS, config.distribution())
    assert abs(result.observed - result.exact) <= LOW_VARIANCE_TOLERANCE, result.describe()


@pytest.mark.parametrize("config", HIGH_VARIANCE, ids=_label)
def test_high_variance_outcomes_follow_the_exact_distribution(
    config: mc.Config, samples: mc.Samples
) -> None:
    buckets = samples.buckets(config)
    assert mc.checked_rounds(buckets) == mc.ROUNDS
    test = chi_square(buckets)
    assert test.p_value >= CHI_SQUARE_ALPHA, test.describe()


def _offered_configurations() -> Iterator[mc.Config]:
    """Every offered bet; limbo and crash targets up to 100x (beyond, 1M rounds see
    too few wins for a normal interval and the exact RTP is the proof)."""
    for target_h in range(0, 10001):
        target = f"{target_h // 100}.{target_h % 100:02d}"
        if 200 <= target_h <= 9999:
            yield mc.Config.of("dice", direction="over", target=target)
        if 1 <= target_h <= 9800:
            yield mc.Config.of("dice", direction="under", target=target)
        if target_h >= 101:
            yield mc.Config.of("limbo", target=target)
            yield mc.Config.of("crash", target=target)
    for rows in range(MIN_ROWS, MAX_ROWS + 1):
        for risk in Risk:
            yield mc.Config.of("plinko", rows=rows, risk=risk)
    for mines in range(1, TILES):
        for reveals in range(1, TILES - mines + 1):
            yield mc.mines_config(mines, reveals)


def test_every_offered_configuration_passes_a_family_wide_999_percent_interval(
    samples: mc.Samples,
) -> None:
    """Bonferroni over every configuration the sample can judge, so the chance that
    any of them fails by luck is at most 0.1% despite their number and correlation."""
    judged, skipped = [], 0
    for config in _offered_configurations():
        distribution = config.distribution()
        if mean_is_normal_enough(distribution, mc.ROUNDS, MAX_MEAN_SKEWNESS_IN_SWEEP):
            judged.append((config, estimate(samples.total(config), mc.ROUNDS, distribution)))
        else:
            skipped += 1
    # docs/provably-fair.md quotes these figures.
    assert (len(judged), skipped) == (39_657, 70)
    z_limit = family_z(len(judged))
    assert round(z_limit, 2) == 5.57
    worst_config, worst = max(judged, key=lambda pair: abs(pair[1].z))
    assert abs(worst.z) <= z_limit, f"{worst_config.label}: {worst.describe()}"


SAMPLE_CHECK_ROUNDS = 2_000


def test_the_samples_price_bets_exactly_as_playing_each_round_would() -> None:
    """The aggregated samples equal summing ``play`` round by round on the same seeds."""
    small = mc.Samples(
        dice=mc.sample_dice(SAMPLE_CHECK_ROUNDS),
        limbo=mc.sample_limbo(SAMPLE_CHECK_ROUNDS),
        plinko=mc.sample_plinko(SAMPLE_CHECK_ROUNDS),
        mines=mc.sample_mines(SAMPLE_CHECK_ROUNDS),
        crash=mc.sample_crash(SAMPLE_CHECK_ROUNDS),
    )
    seeded = [
        mc.Config.of("dice", direction="under", target="33.33"),
        mc.Config.of("limbo", target="1.7"),
        mc.Config.of("plinko", rows=11, risk="high"),
        mc.mines_config(4, 3),
    ]
    for config in seeded:
        played = sum(
            (
                play(
                    config.game,
                    dict(config.params),
                    server_seed=mc.SERVER_SEED,
                    client_seed=f"monte-carlo-{config.game}",
                    nonce=nonce,
                    amount=1,
                ).multiplier
                for nonce in range(SAMPLE_CHECK_ROUNDS)
            ),
            Fraction(0),
        )
        assert small.total(config) == played, config.label
    crash_config = mc.Config.of("crash", target="1.9")
    crash_played = sum(
        (
            play_crash(
                dict(crash_config.params), game_hash=game_hash, salt=mc.CRASH_SALT, amount=1
            ).multiplier
            for game_hash in walk(mc.CRASH_CHAIN_SECRET, SAMPLE_CHECK_ROUNDS)
        ),
        Fraction(0),
    )
    assert small.total(crash_config) == crash_played
