"""Mines: a 5x5 board with ``mines`` hidden mines; each safe reveal raises the multiplier.

Tiles are numbered 0..24 row by row. Floats shuffle the tiles: for i = 0..23, pick
index ``floor(float_i * (25 - i))`` from the tiles not yet picked (kept in ascending
order) and remove it; the picks, then the last tile, are the shuffled order, and the
first ``mines`` tiles of that order are the mines. Only those first picks matter, so
a round reads ``mines`` floats (at most 24).

After k safe reveals the multiplier is ``(1 - edge) / P(k safe)`` with
``P(k safe) = C(25 - mines, k) / C(25, k)``, exact, so every cash-out point returns
exactly ``1 - edge`` for a uniform shuffle. The real shuffle draws each index from
``2**32`` words, not exactly evenly; every ordered sequence of picks therefore has a
probability within a factor ``1 +- 325 / 2**32`` (< 1e-7) of the uniform one, and so
has every RTP (docs/provably-fair.md derives the bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import comb
from typing import ClassVar

from croupier.games.distribution import PayoutDistribution
from croupier.games.edge import DEFAULT_HOUSE_EDGE
from croupier.games.errors import InvalidBet
from croupier.games.game import JsonValue
from croupier.games.params import Params, whole_number, whole_numbers

TILES = 25
MIN_MINES = 1
MAX_MINES = TILES - 1
_ALL_TILES = list(range(TILES))


@dataclass(frozen=True, slots=True)
class MinesSetup:
    mines: int


@dataclass(frozen=True, slots=True)
class MinesChoice:
    picks: tuple[int, ...]  # tiles revealed, in order


@dataclass(frozen=True, slots=True)
class MinesOutcome:
    mines: frozenset[int]

    def as_dict(self) -> dict[str, JsonValue]:
        mines: list[JsonValue] = [*sorted(self.mines)]
        return {"mines": mines}


def tile_order(words: Sequence[int]) -> list[int]:
    """The first ``len(words)`` tiles of the shuffled order (at most 24 words)."""
    assert len(words) < TILES, len(words)
    remaining = _ALL_TILES.copy()
    # Pick i chooses among 25 - i tiles: floor(word / 2**32 * (25 - i)).
    return [remaining.pop((word * len(remaining)) >> 32) for word in words]


def safe_probability(mines: int, safe_reveals: int) -> Fraction:
    """P(the first ``safe_reveals`` reveals are all safe) for a uniform shuffle."""
    return Fraction(comb(TILES - mines, safe_reveals), comb(TILES, safe_reveals))


@dataclass(frozen=True, slots=True)
class Mines:
    edge: Fraction = DEFAULT_HOUSE_EDGE

    name: ClassVar[str] = "mines"
    setup_keys: ClassVar[frozenset[str]] = frozenset({"mines"})
    choice_keys: ClassVar[frozenset[str]] = frozenset({"picks"})

    def validate_setup(self, params: Params) -> MinesSetup:
        mines = whole_number(params, "mines", self.name)
        if not MIN_MINES <= mines <= MAX_MINES:
            raise InvalidBet(f"mines: mines must be from {MIN_MINES} to {MAX_MINES}; got {mines}")
        return MinesSetup(mines)

    def validate_choice(self, setup: MinesSetup, params: Params) -> MinesChoice:
        picks = whole_numbers(params, "picks", self.name)
        safe_tiles = TILES - setup.mines
        if not 1 <= len(picks) <= safe_tiles:
            raise InvalidBet(
                f"mines: with {setup.mines} mines reveal 1 to {safe_tiles} tiles; got {len(picks)}"
            )
        if any(tile >= TILES for tile in picks) or len(set(picks)) != len(picks):
            raise InvalidBet(f"mines: picks must be distinct tiles from 0 to {TILES - 1}")
        return MinesChoice(picks)

    def floats_needed(self, setup: MinesSetup) -> int:
        return setup.mines

    def outcome(self, setup: MinesSetup, floats: Sequence[int]) -> MinesOutcome:
        return MinesOutcome(frozenset(tile_order(floats[: setup.mines])))

    def cash_out_multiplier(self, mines: int, safe_reveals: int) -> Fraction:
        """``(1 - edge) / P(safe_reveals safe)``: what cashing out now pays."""
        return (1 - self.edge) / safe_probability(mines, safe_reveals)

    def multiplier(self, setup: MinesSetup, choice: MinesChoice, outcome: MinesOutcome) -> Fraction:
        if outcome.mines.isdisjoint(choice.picks):
            return self.cash_out_multiplier(setup.mines, len(choice.picks))
        return Fraction(0)

    def payout_distribution(self, setup: MinesSetup, choice: MinesChoice) -> PayoutDistribution:
        return PayoutDistribution.win_or_lose(
            self.cash_out_multiplier(setup.mines, len(choice.picks)),
            safe_probability(setup.mines, len(choice.picks)),
        )
