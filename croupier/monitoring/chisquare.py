"""Pearson's chi-square goodness-of-fit test, in the standard library only.

The p-value is the regularized upper incomplete gamma function Q(k/2, x/2), computed
by its power series below ``a + 1`` and by its continued fraction (modified Lentz) above,
as in Numerical Recipes section 6.2; both converge to double precision in well under
``MAX_ITERATIONS`` steps for the degrees of freedom and statistics a monitor sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_ITERATIONS = 1000
_EPSILON = 1e-15
_TINY = 1e-300


def chi_square_statistic(observed: Sequence[int], expected: Sequence[float]) -> float:
    """``sum((O - E)**2 / E)`` over buckets; every expected count must be positive."""
    assert len(observed) == len(expected) >= 2, (observed, expected)
    assert all(e > 0 for e in expected), expected
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


def chi_square_p_value(statistic: float, degrees_of_freedom: int) -> float:
    """P(X >= statistic) for X chi-square distributed with ``degrees_of_freedom``."""
    assert degrees_of_freedom >= 1, degrees_of_freedom
    assert statistic >= 0 and math.isfinite(statistic), statistic
    return regularized_upper_gamma(degrees_of_freedom / 2, statistic / 2)


def poisson_upper_tail(observed: int, mean: float) -> float:
    """P(X >= observed) for X Poisson with ``mean``: P(observed, mean), the lower gamma.

    For a count of rare independent events with different small chances, this bounds the
    exact tail from above (a sum of Bernoullis is less dispersed than a Poisson), so a
    test on it errs towards silence.
    """
    assert observed >= 0 and mean > 0, (observed, mean)
    if observed == 0:
        return 1.0
    return regularized_lower_gamma(observed, mean)


def regularized_lower_gamma(a: float, x: float) -> float:
    """P(a, x) = 1 - Q(a, x), accurate for tiny values (no cancellation below a + 1)."""
    assert a > 0 and x >= 0, (a, x)
    if x == 0:
        return 0.0
    if x < a + 1:
        return min(1.0, _lower_series(a, x))
    return max(0.0, 1.0 - _upper_continued_fraction(a, x))


def regularized_upper_gamma(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a), for a > 0 and x >= 0."""
    assert a > 0 and x >= 0, (a, x)
    if x == 0:
        return 1.0
    if x < a + 1:
        return max(0.0, 1.0 - _lower_series(a, x))
    return _upper_continued_fraction(a, x)


def _prefactor(a: float, x: float) -> float:
    """``x**a * exp(-x) / Gamma(a)``, in logs so large arguments do not overflow."""
    return math.exp(a * math.log(x) - x - math.lgamma(a))


def _lower_series(a: float, x: float) -> float:
    """P(a, x) by its series; converges fast for x < a + 1."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(MAX_ITERATIONS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            return total * _prefactor(a, x)
    raise ArithmeticError(f"gamma series did not converge for a={a}, x={x}")


def _upper_continued_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction (modified Lentz); converges fast for x > a + 1."""
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    fraction = d
    for i in range(1, MAX_ITERATIONS + 1):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        step = d * c
        fraction *= step
        if abs(step - 1) < _EPSILON:
            return fraction * _prefactor(a, x)
    raise ArithmeticError(f"gamma continued fraction did not converge for a={a}, x={x}")
