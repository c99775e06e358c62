"""The statistics the Monte Carlo tests use, from first principles (no SciPy here).

- A sample mean of N payouts lies within ``z * sigma / sqrt(N)`` of the exact RTP,
  sigma being the exact standard deviation of one payout, with the normal
  approximation's two-sided probability; 3.29 is the issue's 99.9% value.
- Pearson's chi-square over outcome buckets with exact bucket probabilities, the
  p-value from the closed form of the chi-square survival function for integer
  degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

from croupier.games.distribution import PayoutDistribution

Z_999 = 3.29  # two-sided 99.9% (the figure; NormalDist gives 3.2905)
LOW_VARIANCE_SD = 1.5  # payout sd per unit bet at or below which 0.5 points must hold
LOW_VARIANCE_TOLERANCE = 0.005  # 0.5 percentage points
CHI_SQUARE_ALPHA = 0.001
MIN_EXPECTED_PER_BUCKET = 5.0
# A normal interval for the mean needs the mean's skewness (gamma / sqrt(N)) small: at
# 0.1 a 3.29-sigma two-sided tail stays ~0.1% (Edgeworth); a 5.9-sigma Bonferroni tail
# needs 0.05 to stay within a few times its nominal size.
MAX_MEAN_SKEWNESS_AT_Z_999 = 0.1
MAX_MEAN_SKEWNESS_IN_SWEEP = 0.05


def family_z(tests: int, family_alpha: float = 0.001) -> float:
    """Bonferroni: the z that keeps the chance of any false failure among ``tests``
    two-sided tests at most ``family_alpha``."""
    return NormalDist().inv_cdf(1 - family_alpha / (2 * tests))


def skewness(distribution: PayoutDistribution) -> float:
    mean = distribution.rtp
    third = sum(((m - mean) ** 3 * p for m, p in distribution.outcomes), Fraction(0))
    return float(third) / distribution.standard_deviation**3


def mean_is_normal_enough(
    distribution: PayoutDistribution, rounds: int, max_skewness: float
) -> bool:
    """Whether ``rounds`` payouts are enough for a normal interval on their mean.

    A 9900x dice bet or a 13-reveal mines cash-out wins too rarely in 1M rounds; the
    exact RTP is their proof and the outcome-distribution tests check their mapping.
    """
    return abs(skewness(distribution)) / math.sqrt(rounds) <= max_skewness


@dataclass(frozen=True, slots=True)
class RtpEstimate:
    observed: float
    exact: float
    sigma: float  # of one payout
    rounds: int

    @property
    def standard_error(self) -> float:
        return self.sigma / math.sqrt(self.rounds)

    @property
    def z(self) -> float:
        return (self.observed - self.exact) / self.standard_error

    def describe(self) -> str:
        return (
            f"observed RTP {self.observed:.6f} vs exact {self.exact:.6f} "
            f"(sigma {self.sigma:.3f}, z {self.z:+.2f}, N {self.rounds})"
        )


def estimate(total_multiplier: Fraction, rounds: int, exact: PayoutDistribution) -> RtpEstimate:
    return RtpEstimate(
        observed=float(total_multiplier / rounds),
        exact=float(exact.rtp),
        sigma=exact.standard_deviation,
        rounds=rounds,
    )


def chi_square_survival(statistic: float, degrees: int) -> float:
    """P(chi-square with ``degrees`` degrees of freedom >= ``statistic``), exactly."""
    assert degrees >= 1, degrees
    half = statistic / 2
    if degrees % 2 == 0:
        term = total = math.exp(-half)
        for j in range(1, degrees // 2):
            term *= half / j
            total += term
        return total
    total = math.erfc(math.sqrt(half))
    term = math.exp(-half) * math.sqrt(half) / (math.sqrt(math.pi) / 2)  # j = 1
    for j in range(1, (degrees - 1) // 2 + 1):
        total += term
        term *= half / (j + 0.5)
    return total


@dataclass(frozen=True, slots=True)
class ChiSquare:
    statistic: float
    degrees: int

    @property
    def p_value(self) -> float:
        return chi_square_survival(self.statistic, self.degrees)

    def describe(self) -> str:
        return f"chi-square {self.statistic:.1f} on {self.degrees} df, p = {self.p_value:.2g}"


def chi_square(buckets: Sequence[tuple[int, Fraction]]) -> ChiSquare:
    """Pearson's test of observed counts against exact probabilities.

    Neighbouring buckets are merged until each expects at least 5 rounds, so the
    chi-square approximation holds in the sparse tails (plinko's edges, 1000x results).
    """
    rounds = sum(count for count, _ in buckets)
    assert sum(p for _, p in buckets) == 1, "bucket probabilities must cover every outcome"
    merged: list[tuple[int, float]] = []
    pending_count, pending_expected = 0, 0.0
    for count, probability in buckets:
        pending_count += count
        pending_expected += float(probability) * rounds
        if pending_expected >= MIN_EXPECTED_PER_BUCKET:
            merged.append((pending_count, pending_expected))
            pending_count, pending_expected = 0, 0.0
    if pending_expected > 0:
        last_count, last_expected = merged.pop()
        merged.append((last_count + pending_count, last_expected + pending_expected))
    statistic = sum((count - expected) ** 2 / expected for count, expected in merged)
    return ChiSquare(statistic, len(merged) - 1)
