"""Playing one round: the entry point for the API's game activities.

``play`` takes a player's seeds and a seeded game's parameters; ``play_crash`` takes a
shared crash round's game hash and salt. Both validate everything first, then return
the outcome, the exact multiplier and the payout in minor units (rounded down).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from croupier.core.money import check_minor_units
from croupier.games.crash import Crash, round_randomness
from croupier.games.errors import UnknownGame
from croupier.games.game import AnyGame, JsonValue, Outcome, payout
from croupier.games.params import Params, check_known
from croupier.games.registry import GAMES, SHARED_ROUND_GAMES, game_named
from croupier.games.rng import float_words


@dataclass(frozen=True, slots=True)
class RoundResult:
    game: str
    outcome: Outcome
    multiplier: Fraction
    payout: int  # minor units

    def as_dict(self) -> dict[str, JsonValue]:
        """Wire form: the multiplier as an exact fraction, the payout as a decimal string."""
        return {
            "game": self.game,
            **self.outcome.as_dict(),
            "multiplier": str(self.multiplier),
            "payout": str(self.payout),
        }


def parse_bet(game: AnyGame, params: Params) -> tuple[Any, Any]:
    """``(setup, choice)`` from ``params``, refusing keys the game does not read."""
    check_known(params, game.setup_keys | game.choice_keys, game.name)
    setup = game.validate_setup(params)
    return setup, game.validate_choice(setup, params)


def seeded_game(name: str, games: Mapping[str, AnyGame] = GAMES) -> AnyGame:
    game = game_named(name, games)
    if game.name in SHARED_ROUND_GAMES:
        raise UnknownGame(f"{name} is played in shared rounds from the hash chain, not seeds")
    return game


def play(
    game: str,
    params: Params,
    *,
    server_seed: str,
    client_seed: str,
    nonce: int,
    amount: int,
    games: Mapping[str, AnyGame] = GAMES,
) -> RoundResult:
    """One bet of ``amount`` minor units on a seeded game (dice, limbo, plinko, mines)."""
    check_minor_units(amount)
    chosen = seeded_game(game, games)
    setup, choice = parse_bet(chosen, params)
    floats = float_words(server_seed, client_seed, nonce, chosen.floats_needed(setup))
    return _settle(chosen, setup, choice, floats, amount)


def play_crash(
    params: Params,
    *,
    game_hash: str,
    salt: str,
    amount: int,
    games: Mapping[str, AnyGame] = GAMES,
) -> RoundResult:
    """One crash bet of ``amount`` cashing out at ``params["target"]`` in a shared round."""
    check_minor_units(amount)
    crash = game_named(Crash.name, games)
    setup, choice = parse_bet(crash, params)
    return _settle(crash, setup, choice, (round_randomness(game_hash, salt),), amount)


def _settle(
    game: AnyGame, setup: Any, choice: Any, floats: Sequence[int], amount: int
) -> RoundResult:
    outcome = game.outcome(setup, floats)
    multiplier = game.multiplier(setup, choice, outcome)
    return RoundResult(game.name, outcome, multiplier, payout(amount, multiplier))
