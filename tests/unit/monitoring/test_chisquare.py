"""The chi-square p-value matches published quantiles, without scipy."""

from __future__ import annotations

import math

import pytest

from croupier.monitoring.chisquare import (
    chi_square_p_value,
    chi_square_statistic,
    regularized_upper_gamma,
)

# (statistic, degrees of freedom, upper-tail probability) from standard tables.
QUANTILES = [
    (3.841458820694124, 1, 0.05),
    (6.6348966010212145, 1, 0.01),
    (11.070497693516351, 5, 0.05),
    (23.209251158954356, 10, 0.01),
    (0.5, 3, 0.9188914116546758),
]


@pytest.mark.parametrize(("statistic", "dof", "p"), QUANTILES)
def test_p_values_match_published_quantiles(statistic: float, dof: int, p: float) -> None:
    assert chi_square_p_value(statistic, dof) == pytest.approx(p, rel=1e-3)


@pytest.mark.parametrize("statistic", [0.01, 1.0, 4.0, 30.0, 60.0])
def test_one_degree_of_freedom_matches_the_normal_tail_deep_into_it(statistic: float) -> None:
    """X² with 1 df is a squared standard normal: P(X² >= x) = erfc(sqrt(x / 2))."""
    expected = math.erfc(math.sqrt(statistic / 2))
    assert chi_square_p_value(statistic, 1) == pytest.approx(expected, rel=1e-9)


def test_a_perfect_fit_has_p_value_one_and_a_huge_misfit_zero() -> None:
    assert chi_square_p_value(0.0, 4) == 1.0
    assert chi_square_p_value(10_000.0, 4) == 0.0


def test_the_upper_gamma_of_shape_one_is_the_exponential_tail() -> None:
    for x in (0.1, 1.0, 2.0, 10.0):
        assert regularized_upper_gamma(1.0, x) == pytest.approx(math.exp(-x), rel=1e-12)


def test_the_statistic_sums_squared_misfit_over_expectation() -> None:
    assert chi_square_statistic([10, 30], [20.0, 20.0]) == 10.0
