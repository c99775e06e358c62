"""Plinko: one float per row, right when floor(float * 2) == 1; bucket = number of rights."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from croupier.games.errors import InvalidBet
from croupier.games.plinko import (
    MAX_ROWS,
    MIN_ROWS,
    Plinko,
    PlinkoOutcome,
    PlinkoSetup,
    Risk,
    design_table,
    path,
)

PLINKO = Plinko()
ROWS = range(MIN_ROWS, MAX_ROWS + 1)
HALF = 2**31


@pytest.mark.parametrize("rows", ROWS)
def test_every_row_count_reads_one_float_per_row_and_ignores_the_rest(rows: int) -> None:
    setup = PLINKO.validate_setup({"rows": str(rows)})
    assert PLINKO.floats_needed(setup) == rows
    floats = [HALF] * rows + [0] * 5  # all right, then floats that must be ignored
    outcome = PLINKO.outcome(setup, floats)
    assert outcome.path == (1,) * rows
    assert outcome.bucket == rows


def test_direction_is_the_top_bit_of_the_float() -> None:
    assert path([0, HALF - 1, HALF, 2**32 - 1]) == (0, 0, 1, 1)


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("risk", list(Risk))
def test_every_table_is_symmetric_monotone_and_returns_exactly_99_percent(
    rows: int, risk: Risk
) -> None:
    table = PLINKO.tables[rows, risk]
    assert len(table) == rows + 1
    assert table == table[::-1]
    assert all(table[k] >= table[k + 1] for k in range(rows // 2))
    assert sum(comb(rows, k) * m for k, m in enumerate(table)) == 99 * 2**rows
    rtp = PLINKO.payout_distribution(PlinkoSetup(rows), risk).rtp
    assert rtp == Fraction(99, 100)


def test_high_risk_pays_most_at_the_edge_and_least_in_the_middle() -> None:
    for rows in ROWS:
        edges = [PLINKO.tables[rows, risk][0] for risk in Risk]
        centres = [PLINKO.tables[rows, risk][rows // 2] for risk in Risk]
        assert edges == sorted(edges)
        assert centres == sorted(centres, reverse=True)
    assert PLINKO.tables[16, Risk.HIGH][0] == 100000  # 1000x


@pytest.mark.parametrize(
    "edge", [Fraction(0), Fraction(1, 200), Fraction(2, 100), Fraction(123, 10000), Fraction(1, 10)]
)
def test_tables_for_another_edge_return_1_minus_edge_to_within_a_hundredth_weight(
    edge: Fraction,
) -> None:
    plinko = Plinko(edge)
    for rows in ROWS:
        for risk in Risk:
            rtp = plinko.payout_distribution(PlinkoSetup(rows), risk).rtp
            assert 0 <= (1 - edge) - rtp < Fraction(2, 100 * 2**rows)
            table = plinko.tables[rows, risk]
            assert all(table[k] >= table[k + 1] for k in range(rows // 2))


def test_the_default_edge_leaves_the_designed_tables_unchanged() -> None:
    assert design_table(16, Risk.HIGH, Fraction(1, 100))[:3] == (100000, 18500, 3980)


def test_the_multiplier_is_the_table_entry_of_the_bucket() -> None:
    outcome = PlinkoOutcome((1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1))
    assert outcome.bucket == 12
    assert PLINKO.multiplier(PlinkoSetup(16), Risk.HIGH, outcome) == 3


@pytest.mark.parametrize("params", [{"rows": "7"}, {"rows": "17"}, {"rows": "x"}, {}])
def test_row_counts_outside_8_to_16_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(InvalidBet, match="plinko"):
        PLINKO.validate_setup(params)


def test_an_unknown_risk_is_refused() -> None:
    with pytest.raises(InvalidBet, match="risk"):
        PLINKO.validate_choice(PlinkoSetup(8), {"risk": "extreme"})
