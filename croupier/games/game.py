"""The one small interface every game implements, and the payout rule.

A game splits its parameters in two. The *setup* is what the outcome depends on
(plinko rows, the number of mines; nothing for dice, limbo and crash). The *choice*
is the player's bet on that outcome (a dice target, a plinko risk, mines picks, a
crash cash-out). A verifier needs only the setup to recompute an outcome; a bet
needs both to price it.

Randomness reaches a game as the integer numerators of its floats: 32-bit words of
the seeded byte stream (float = word / 2**32) for dice, limbo, plinko and mines, and
the 52-bit ``r`` of the round's salted hash (X = r / 2**52) for crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Protocol, TypeAlias, TypeVar

from croupier.core.money import check_minor_units
from croupier.games.distribution import PayoutDistribution
from croupier.games.params import Params

JsonValue: TypeAlias = str | int | bool | list["JsonValue"] | dict[str, "JsonValue"] | None


class Outcome(Protocol):
    """What a round produced, as the verifier prints it."""

    def as_dict(self) -> dict[str, JsonValue]: ...


SetupT = TypeVar("SetupT")
ChoiceT = TypeVar("ChoiceT")
OutcomeT = TypeVar("OutcomeT", bound=Outcome)


class Game(Protocol[SetupT, ChoiceT, OutcomeT]):
    """Pure game math: validate parameters, map floats to an outcome, price the bet."""

    @property
    def name(self) -> str: ...

    @property
    def setup_keys(self) -> frozenset[str]: ...

    @property
    def choice_keys(self) -> frozenset[str]: ...

    def validate_setup(self, params: Params) -> SetupT:
        """Parse the setup keys of ``params``; raise ``InvalidBet`` if out of range."""
        ...

    def validate_choice(self, setup: SetupT, params: Params) -> ChoiceT:
        """Parse the choice keys of ``params``; raise ``InvalidBet`` if not offered."""
        ...

    def floats_needed(self, setup: SetupT) -> int: ...

    def outcome(self, setup: SetupT, floats: Sequence[int]) -> OutcomeT:
        """The outcome for float numerators ``floats`` (``floats_needed`` of them)."""
        ...

    def multiplier(self, setup: SetupT, choice: ChoiceT, outcome: OutcomeT) -> Fraction:
        """The exact payout multiplier of the bet for this outcome (0 for a loss)."""
        ...

    def payout_distribution(self, setup: SetupT, choice: ChoiceT) -> PayoutDistribution:
        """The exact probability of every multiplier this bet can pay."""
        ...


AnyGame: TypeAlias = Game[Any, Any, Any]


def payout(amount: int, multiplier: Fraction) -> int:
    """``amount * multiplier`` in minor units, rounded down (the house keeps the dust)."""
    check_minor_units(amount)
    assert multiplier >= 0, multiplier
    return amount * multiplier.numerator // multiplier.denominator
