"""The house edge of every game, stated in one place.

RTP (return to player) is ``1 - edge``. Each game turns its edge into exact rational
multipliers (or, for limbo and crash, into the result formula), so the stated edge is
what the exact RTP calculation and the Monte Carlo tests prove.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

from croupier.core.errors import ConfigurationError

DEFAULT_HOUSE_EDGE = Fraction(1, 100)
# A casino edge above 10% is a configuration mistake, not a business decision.
MAX_HOUSE_EDGE = Fraction(1, 10)


@dataclass(frozen=True, slots=True)
class HouseEdges:
    """The edge per game as an exact fraction (``Fraction(1, 100)`` is 1%)."""

    dice: Fraction = DEFAULT_HOUSE_EDGE
    limbo: Fraction = DEFAULT_HOUSE_EDGE
    plinko: Fraction = DEFAULT_HOUSE_EDGE
    mines: Fraction = DEFAULT_HOUSE_EDGE
    crash: Fraction = DEFAULT_HOUSE_EDGE

    def __post_init__(self) -> None:
        for field in fields(self):
            edge = getattr(self, field.name)
            if not isinstance(edge, Fraction) or not 0 <= edge <= MAX_HOUSE_EDGE:
                raise ConfigurationError(
                    f"house edge for {field.name} must be a Fraction between 0 and "
                    f"{MAX_HOUSE_EDGE}, got {edge!r}"
                )

    @classmethod
    def uniform(cls, edge: Fraction) -> HouseEdges:
        """The same edge for every game."""
        return cls(dice=edge, limbo=edge, plinko=edge, mines=edge, crash=edge)


DEFAULT_HOUSE_EDGES = HouseEdges()
