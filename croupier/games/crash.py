"""Crash: one shared multiplier per round; a bet wins if it cashes out before the crash.

The round's game hash comes from the hash chain (``hashchain``) and a salt fixed and
published before the chain starts, so neither the house nor a player can steer a
round: ``h = HMAC-SHA256(key=salt, message=game_hash)`` as hex, ``r`` = its first 13
hex digits (52 bits), ``X = r / 2**52``, and the crash point is
``max(1.00, floor((1 - edge) * 100 / (1 - X)) / 100)`` (``floor(99 / (1 - X)) / 100`` at
the default edge), computed in integers as ``(1 - edge) * 100 * 2**52 // (2**52 - r)``.

A cash-out at target t wins when the crash point is at least t, on
``floor((1 - edge) * 100 * 2**52 / t)`` of the 2**52 values of r, so the exact RTP is
``t/100 * that / 2**52``: at most ``1 - edge`` and below it by less than
``t / (100 * 2**52)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

from croupier.games.distribution import PayoutDistribution
from croupier.games.edge import DEFAULT_HOUSE_EDGE
from croupier.games.game import JsonValue
from croupier.games.hashchain import check_game_hash
from croupier.games.params import Params, format_hundredths
from croupier.games.rng import HmacSha256
from croupier.games.seeds import check_salt
from croupier.games.targets import MIN_TARGET_H, TargetChoice, result_dividend, validate_target

R_BITS = 52
R_SCALE = 1 << R_BITS  # X = r / R_SCALE
MIN_CRASH_H = 100


class SaltedRounds:
    """``r`` for any game hash under one salt, the salt's HMAC key prepared once.

    The salt is fixed for a chain's whole life, so a crash service keeps one of these.
    """

    __slots__ = ("_key",)

    def __init__(self, salt: str) -> None:
        self._key = HmacSha256(check_salt(salt).encode("ascii"))

    def randomness(self, game_hash: str) -> int:
        """The first 13 hex digits of HMAC-SHA256(key=salt, message=game_hash)."""
        digest = self._key.digest(check_game_hash(game_hash).encode("ascii"))
        return int.from_bytes(digest[:7], "big") >> 4  # 7 bytes = 14 hex digits; drop one

    def digests(self, game_hashes_ascii: Iterable[bytes]) -> bytearray:
        """The salted HMACs of many game hashes (as ASCII, already checked), concatenated:
        the batch path reads each ``r`` from them vectorised (``batch.chain_randomness``)."""
        return self._key.digests(game_hashes_ascii)


def round_randomness(game_hash: str, salt: str) -> int:
    """``r`` of one round: the first 13 hex digits of HMAC-SHA256(key=salt, game_hash)."""
    return SaltedRounds(salt).randomness(game_hash)


@dataclass(frozen=True, slots=True)
class CrashOutcome:
    crash_h: int

    def as_dict(self) -> dict[str, JsonValue]:
        return {"crash": format_hundredths(self.crash_h)}


@dataclass(frozen=True, slots=True)
class Crash:
    edge: Fraction = DEFAULT_HOUSE_EDGE
    dividend: int = field(init=False, repr=False)  # floor((1 - edge) * 100 * 2**52)

    name: ClassVar[str] = "crash"
    setup_keys: ClassVar[frozenset[str]] = frozenset()
    choice_keys: ClassVar[frozenset[str]] = frozenset({"target"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "dividend", result_dividend(self.edge, R_SCALE))

    def crash_hundredths(self, r: int) -> int:
        """``max(100, floor((1 - edge) * 100 / (1 - r / 2**52)))``."""
        assert 0 <= r < R_SCALE, r
        return max(MIN_CRASH_H, self.dividend // (R_SCALE - r))

    def values_reaching(self, target_h: int) -> int:
        """How many of the 2**52 values of r crash at ``target_h`` (>= 101) or later."""
        assert target_h >= MIN_TARGET_H, target_h
        # floor(K / d) >= t  <=>  d <= K / t (K the dividend), for d = 2**52 - r in 1..2**52.
        return min(R_SCALE, self.dividend // target_h)

    def validate_setup(self, params: Params) -> None:
        return None

    def validate_choice(self, setup: None, params: Params) -> TargetChoice:
        return validate_target(params, self.name)

    def floats_needed(self, setup: None) -> int:
        return 1

    def outcome(self, setup: None, floats: Sequence[int]) -> CrashOutcome:
        return CrashOutcome(self.crash_hundredths(floats[0]))

    def multiplier(self, setup: None, choice: TargetChoice, outcome: CrashOutcome) -> Fraction:
        return choice.multiplier(outcome.crash_h)

    def payout_distribution(self, setup: None, choice: TargetChoice) -> PayoutDistribution:
        return choice.distribution(Fraction(self.values_reaching(choice.target_h), R_SCALE))
