"""Plinko: a ball falls through ``rows`` rows of pins, one float per row.

``direction = floor(float * 2)`` (1 = right, i.e. the float's top bit), and the bucket
is the number of rights, 0..rows, so bucket k has probability ``C(rows, k) / 2**rows``
exactly. The payout tables below are in hundredths and symmetric; each was designed
for the default 1% edge with an RTP of exactly 99%:
``sum(C(rows, k) * table[k]) == 99 * 2**rows``. Their shape: a round top prize per
row count and risk, geometric growth from the centre, then the last hundredths placed
on the inner buckets to hit 99% exactly (docs/provably-fair.md lists them).

For another edge every entry is scaled by ``(1 - edge) / 0.99`` and rounded down, then
the shortfall is handed back in hundredths from the centre outward (never making an
inner bucket pay more than an outer one), so the RTP is ``1 - edge`` to within
``2 / (100 * 2**rows)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from math import comb, floor
from typing import ClassVar

from croupier.games.distribution import PayoutDistribution
from croupier.games.edge import DEFAULT_HOUSE_EDGE
from croupier.games.errors import InvalidBet
from croupier.games.game import JsonValue
from croupier.games.params import Params, one_of, whole_number

MIN_ROWS = 8
MAX_ROWS = 16
TABLE_EDGE = Fraction(1, 100)  # the edge the literal tables were designed for


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# Hundredths, from the outer bucket (0 rights) to the centre; the other half mirrors.
_HALF_TABLES: dict[Risk, dict[int, tuple[int, ...]]] = {
    Risk.LOW: {
        8: (560, 261, 130, 79, 56),
        9: (630, 322, 172, 90, 64),
        10: (720, 390, 210, 120, 74, 53),
        11: (880, 480, 260, 150, 96, 53),
        12: (940, 523, 300, 170, 110, 75, 53),
        13: (1100, 640, 370, 220, 140, 80, 59),
        14: (1200, 714, 431, 260, 161, 100, 70, 55),
        15: (1400, 841, 512, 320, 201, 122, 84, 54),
        16: (1600, 971, 590, 372, 231, 150, 102, 63, 52),
    },
    Risk.MEDIUM: {
        8: (1300, 361, 130, 59, 44),
        9: (1500, 510, 200, 82, 41),
        10: (2200, 722, 270, 110, 50, 43),
        11: (2750, 960, 370, 150, 70, 43),
        12: (3700, 1250, 470, 191, 90, 60, 41),
        13: (5000, 1740, 661, 270, 130, 60, 46),
        14: (6400, 2170, 811, 332, 150, 81, 65, 42),
        15: (8400, 3060, 1190, 502, 231, 112, 61, 40),
        16: (11000, 3950, 1520, 630, 280, 140, 84, 51, 40),
    },
    Risk.HIGH: {
        8: (2900, 511, 110, 34, 20),
        9: (4500, 812, 180, 51, 22),
        10: (7000, 1220, 270, 74, 36, 23),
        11: (11000, 1990, 440, 120, 42, 23),
        12: (17000, 3130, 690, 190, 64, 24, 22),
        13: (25800, 4780, 1050, 280, 91, 33, 28),
        14: (42000, 7520, 1600, 413, 130, 51, 32, 23),
        15: (64000, 11600, 2480, 631, 192, 72, 33, 30),
        16: (100000, 18500, 3980, 1000, 300, 103, 41, 29, 24),
    },
}


def _mirrored(half: tuple[int, ...], rows: int) -> list[int]:
    centre_shared = rows % 2 == 0
    return list(half) + list(reversed(half[:-1] if centre_shared else half))


def _bucket_weight(rows: int, bucket: int) -> int:
    """Ways to reach ``bucket`` and its mirror image (once for the centre)."""
    return comb(rows, bucket) * (1 if 2 * bucket == rows else 2)


def design_table(rows: int, risk: Risk, edge: Fraction) -> tuple[int, ...]:
    """The payout table in hundredths for ``edge`` (the literal table at 1%)."""
    scale = (1 - edge) / (1 - TABLE_EDGE)
    literal = _mirrored(_HALF_TABLES[risk][rows], rows)
    table = [m * scale.numerator // scale.denominator for m in literal]
    # Every bucket weight is even, so the reachable totals are the even ones.
    target = floor((1 - edge) * 100 * 2**rows) // 2 * 2
    shortfall = target - sum(comb(rows, k) * m for k, m in enumerate(table))
    for bucket in range(rows // 2, -1, -1):
        weight = _bucket_weight(rows, bucket)
        steps = shortfall // weight
        if bucket > 0:
            steps = min(steps, table[bucket - 1] - table[bucket])
        table[bucket] += steps
        table[rows - bucket] = table[bucket]
        shortfall -= steps * weight
    assert shortfall == 0, (rows, risk, edge, shortfall)
    assert all(table[k] >= table[k + 1] for k in range(rows // 2)), table
    return tuple(table)


@dataclass(frozen=True, slots=True)
class PlinkoSetup:
    rows: int


@dataclass(frozen=True, slots=True)
class PlinkoOutcome:
    path: tuple[int, ...]  # 1 = right

    @property
    def bucket(self) -> int:
        return sum(self.path)

    def as_dict(self) -> dict[str, JsonValue]:
        directions: list[JsonValue] = list(self.path)
        return {"path": directions, "bucket": self.bucket}


def path(words: Sequence[int]) -> tuple[int, ...]:
    """``floor(float * 2)`` per row: the top bit of each word."""
    return tuple([word >> 31 for word in words])


@dataclass(frozen=True, slots=True)
class Plinko:
    edge: Fraction = DEFAULT_HOUSE_EDGE
    tables: dict[tuple[int, Risk], tuple[int, ...]] = field(init=False, repr=False)

    name: ClassVar[str] = "plinko"
    setup_keys: ClassVar[frozenset[str]] = frozenset({"rows"})
    choice_keys: ClassVar[frozenset[str]] = frozenset({"risk"})

    def __post_init__(self) -> None:
        tables = {
            (rows, risk): design_table(rows, risk, self.edge)
            for rows in range(MIN_ROWS, MAX_ROWS + 1)
            for risk in Risk
        }
        object.__setattr__(self, "tables", tables)

    def validate_setup(self, params: Params) -> PlinkoSetup:
        rows = whole_number(params, "rows", self.name)
        if not MIN_ROWS <= rows <= MAX_ROWS:
            raise InvalidBet(f"plinko: rows must be from {MIN_ROWS} to {MAX_ROWS}; got {rows}")
        return PlinkoSetup(rows)

    def validate_choice(self, setup: PlinkoSetup, params: Params) -> Risk:
        return Risk(one_of(params, "risk", list(Risk), self.name))

    def floats_needed(self, setup: PlinkoSetup) -> int:
        return setup.rows

    def outcome(self, setup: PlinkoSetup, floats: Sequence[int]) -> PlinkoOutcome:
        return PlinkoOutcome(path(floats[: setup.rows]))

    def multiplier(self, setup: PlinkoSetup, choice: Risk, outcome: PlinkoOutcome) -> Fraction:
        return Fraction(self.tables[setup.rows, choice][outcome.bucket], 100)

    def payout_distribution(self, setup: PlinkoSetup, choice: Risk) -> PayoutDistribution:
        table = self.tables[setup.rows, choice]
        total = 2**setup.rows
        return PayoutDistribution.of(
            (Fraction(m, 100), Fraction(comb(setup.rows, k), total)) for k, m in enumerate(table)
        )
