"""The crash multiplier as a function of time since the round started: one formula.

``m(t) = floor(100 * e^(growth_per_ms * t)) / 100`` for ``t`` whole milliseconds since
the running phase began. The workflow decides every cash-out with it (from
``workflow.now()``), the API hands its constant to clients so they draw the same curve,
and a verifier can recompute any cash-out from the round's start and the cash-out time.

It is exact, not a float approximation: ``growth_per_ms`` is a decimal, ``growth * t``
is computed exactly, and ``e^x`` comes from the ``decimal`` module, which rounds
correctly. ``e^x`` is irrational for rational ``x != 0``, so ``100 * e^x`` is never an
integer and a precise enough value always has an unambiguous floor; the code raises
the precision until it has one. The result is an integer number of hundredths, the
same on every platform, and payouts are ``amount * hundredths // 100``.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

ONE_X_H = 100  # 1.00x, the multiplier at the start of every round
# Two multipliers a round may be asked about are at most ~1e18 hundredths apart from
# 1.00x; 40 digits leaves 20 to spare, and a (practically impossible) tie near an integer
# raises the precision by 20 digits at a time up to this bound.
_START_DIGITS = 40
_MAX_DIGITS = 400
# A round runs at most hours, so its clock never needs more than this many milliseconds.
MAX_ELAPSED_MS = 24 * 3600 * 1000
# Fastest growth accepted: 2x in about 7 ms is already useless to a human.
MAX_GROWTH_PER_MS = Decimal("0.1")
# Growth constants carry at most this many decimal places (0.00006 has 5).
MAX_GROWTH_PLACES = 12

FORMULA = "multiplier = floor(100 * e^(growth_per_ms * elapsed_ms)) / 100"


@dataclass(frozen=True, slots=True)
class Curve:
    """``m(t) = e^(growth_per_ms * t)``; at the default 0.00006, 2x after ~11.55 s."""

    growth_per_ms: Decimal

    def __post_init__(self) -> None:
        growth = self.growth_per_ms
        assert isinstance(growth, Decimal) and growth.is_finite(), growth
        assert Decimal(0) < growth <= MAX_GROWTH_PER_MS, growth
        exponent = growth.as_tuple().exponent
        assert isinstance(exponent, int) and -exponent <= MAX_GROWTH_PLACES, growth

    def multiplier_h(self, elapsed_ms: int) -> int:
        """``floor(100 * e^(growth * elapsed_ms))``: the multiplier in hundredths."""
        _check_elapsed(elapsed_ms)
        if elapsed_ms == 0:
            return ONE_X_H
        digits = _START_DIGITS
        while digits <= _MAX_DIGITS:
            with decimal.localcontext(_context(digits)) as ctx:
                exponent = ctx.multiply(self.growth_per_ms, Decimal(elapsed_ms))
                value = ctx.multiply(ctx.exp(exponent), 100)
                # The correctly rounded value is within half an ulp of the true one.
                ulp = Decimal(1).scaleb(value.adjusted() - digits + 1)
                low = ctx.subtract(value, ulp).to_integral_value(rounding=ROUND_FLOOR)
                high = ctx.add(value, ulp).to_integral_value(rounding=ROUND_FLOOR)
            if low == high:
                return int(low)
            digits += 20
        raise AssertionError(f"no unambiguous floor for e^({self.growth_per_ms}*{elapsed_ms})")

    def elapsed_ms_to_reach(self, multiplier_h: int) -> int:
        """The first whole millisecond at which the multiplier is ``multiplier_h`` or more."""
        assert isinstance(multiplier_h, int) and multiplier_h >= ONE_X_H, multiplier_h
        if multiplier_h == ONE_X_H:
            return 0
        with decimal.localcontext(_context(_START_DIGITS)) as ctx:
            log = ctx.ln(ctx.divide(Decimal(multiplier_h), 100))
            estimate = int(ctx.divide(log, self.growth_per_ms).to_integral_value(ROUND_CEILING))
        elapsed_ms = min(max(estimate, 0), MAX_ELAPSED_MS)
        # The estimate is off by at most a millisecond; the curve itself has the last word.
        while self.multiplier_h(elapsed_ms) < multiplier_h:
            assert elapsed_ms < MAX_ELAPSED_MS, f"{multiplier_h} is beyond any round's reach"
            elapsed_ms += 1
        while elapsed_ms > 0 and self.multiplier_h(elapsed_ms - 1) >= multiplier_h:
            elapsed_ms -= 1
        return elapsed_ms


def _context(digits: int) -> decimal.Context:
    return decimal.Context(
        prec=digits,
        rounding=decimal.ROUND_HALF_EVEN,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
        traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
    )


def _check_elapsed(elapsed_ms: int) -> None:
    assert isinstance(elapsed_ms, int) and not isinstance(elapsed_ms, bool), elapsed_ms
    assert 0 <= elapsed_ms <= MAX_ELAPSED_MS, elapsed_ms
