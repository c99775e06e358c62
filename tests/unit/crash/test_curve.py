"""The multiplier curve: exact, monotone, and its inverse is the first millisecond."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from croupier.crash.curve import MAX_ELAPSED_MS, ONE_X_H, Curve

DEFAULT = Curve(Decimal("0.00006"))


def test_every_round_starts_at_one_x() -> None:
    assert DEFAULT.multiplier_h(0) == ONE_X_H
    assert DEFAULT.elapsed_ms_to_reach(ONE_X_H) == 0


def test_default_growth_doubles_after_about_eleven_and_a_half_seconds() -> None:
    # e^(0.00006 * 11552) = 1.99998..., e^(0.00006 * 11553) = 2.00010...
    assert DEFAULT.multiplier_h(11_552) == 199
    assert DEFAULT.multiplier_h(11_553) == 200
    assert DEFAULT.elapsed_ms_to_reach(200) == 11_553


def test_large_multipliers_are_exact_where_a_float_is_not() -> None:
    # 100 * e^(0.00006 * 575_647) has 18 integer digits: beyond a double's 15-16.
    exact = DEFAULT.multiplier_h(575_647)
    assert exact == 100_004_360_604_003_046
    assert exact != math.floor(100 * math.exp(0.00006 * 575_647))


@given(st.integers(min_value=0, max_value=600_000))
def test_the_curve_is_the_floor_of_the_exponential(elapsed_ms: int) -> None:
    exact = DEFAULT.multiplier_h(elapsed_ms)
    approx = 100 * math.exp(0.00006 * elapsed_ms)
    assert abs(exact - approx) <= 1 + approx * 1e-12


@given(st.integers(min_value=0, max_value=MAX_ELAPSED_MS - 1))
def test_the_multiplier_never_falls(elapsed_ms: int) -> None:
    fast = Curve(Decimal("0.000001"))
    assert fast.multiplier_h(elapsed_ms) <= fast.multiplier_h(elapsed_ms + 1)


@given(
    st.integers(min_value=ONE_X_H, max_value=100_000_000),
    st.sampled_from(["0.00006", "0.001", "0.0000123", "0.05"]),
)
def test_time_to_reach_is_the_first_millisecond_at_or_above(multiplier_h: int, growth: str) -> None:
    curve = Curve(Decimal(growth))
    elapsed_ms = curve.elapsed_ms_to_reach(multiplier_h)
    assert curve.multiplier_h(elapsed_ms) >= multiplier_h
    assert elapsed_ms == 0 or curve.multiplier_h(elapsed_ms - 1) < multiplier_h
