"""The public verifier: recompute any round from what the player was shown.

Seeded games take (server seed, client seed, nonce); crash takes the round's game
hash and the published salt, and optionally the published terminating hash to prove
the game hash belongs to the chain. Parameters are the game's setup (``rows``,
``mines``) plus, optionally, the bet choice, in which case the payout multiplier is
included. The result is one flat JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from croupier.games.crash import Crash, round_randomness
from croupier.games.engine import seeded_game
from croupier.games.errors import InvalidSeed
from croupier.games.game import AnyGame, JsonValue
from croupier.games.hashchain import chain_round, check_game_hash
from croupier.games.params import Params, check_known
from croupier.games.registry import GAMES, game_named
from croupier.games.rng import float_words
from croupier.games.seeds import check_salt, hash_server_seed

MULTIPLIER_DECIMAL_PLACES = 8


def verify_seeded(
    game: str,
    params: Params,
    *,
    server_seed: str,
    client_seed: str,
    nonce: int,
    games: Mapping[str, AnyGame] = GAMES,
) -> dict[str, JsonValue]:
    """Recompute a dice, limbo, plinko or mines round."""
    chosen = seeded_game(game, games)
    check_known(params, chosen.setup_keys | chosen.choice_keys, chosen.name)
    setup = chosen.validate_setup(params)
    floats = float_words(server_seed, client_seed, nonce, chosen.floats_needed(setup))
    header: dict[str, JsonValue] = {
        "game": chosen.name,
        "server_seed_hash": hash_server_seed(server_seed),
        "client_seed": client_seed,
        "nonce": nonce,
    }
    return header | _outcome_and_multiplier(chosen, setup, params, floats)


def verify_crash(
    params: Params,
    *,
    game_hash: str,
    salt: str,
    terminating_hash: str | None = None,
    games: Mapping[str, AnyGame] = GAMES,
) -> dict[str, JsonValue]:
    """Recompute a crash round; with ``terminating_hash``, also find its round number."""
    crash = game_named(Crash.name, games)
    check_known(params, crash.setup_keys | crash.choice_keys, crash.name)
    setup = crash.validate_setup(params)
    header: dict[str, JsonValue] = {
        "game": crash.name,
        "game_hash": check_game_hash(game_hash),
        "salt": check_salt(salt),
    }
    if terminating_hash is not None:
        header["terminating_hash"] = terminating_hash
        header["round"] = chain_round(game_hash, terminating_hash)
    floats = (round_randomness(game_hash, salt),)
    return header | _outcome_and_multiplier(crash, setup, params, floats)


def verify(
    game: str,
    params: Params,
    *,
    server_seed: str | None = None,
    client_seed: str | None = None,
    nonce: int | None = None,
    game_hash: str | None = None,
    salt: str | None = None,
    terminating_hash: str | None = None,
    games: Mapping[str, AnyGame] = GAMES,
) -> dict[str, JsonValue]:
    """Dispatch on the game, insisting on exactly the inputs that game uses."""
    if game == Crash.name:
        _refuse_unused(game, server_seed=server_seed, client_seed=client_seed, nonce=nonce)
        if game_hash is None or salt is None:
            raise InvalidSeed("crash needs --game-hash and --salt")
        return verify_crash(
            params, game_hash=game_hash, salt=salt, terminating_hash=terminating_hash, games=games
        )
    _refuse_unused(game, game_hash=game_hash, salt=salt, terminating_hash=terminating_hash)
    if server_seed is None or client_seed is None or nonce is None:
        game_named(game, games)  # an unknown game is the clearer error
        raise InvalidSeed(f"{game} needs --server-seed, --client-seed and --nonce")
    return verify_seeded(
        game, params, server_seed=server_seed, client_seed=client_seed, nonce=nonce, games=games
    )


def _refuse_unused(game: str, **inputs: object) -> None:
    given = [name.replace("_", "-") for name, value in inputs.items() if value is not None]
    if given:
        raise InvalidSeed(f"--{given[0]} does not apply to {game}")


def _outcome_and_multiplier(
    game: AnyGame, setup: Any, params: Params, floats: tuple[int, ...]
) -> dict[str, JsonValue]:
    outcome = game.outcome(setup, floats)
    fields: dict[str, JsonValue] = dict(outcome.as_dict())
    if params.keys() & game.choice_keys:
        choice = game.validate_choice(setup, params)
        multiplier = game.multiplier(setup, choice, outcome)
        fields["multiplier"] = str(multiplier)
        fields["multiplier_decimal"] = decimal_places(multiplier, MULTIPLIER_DECIMAL_PLACES)
    return fields


def decimal_places(value: Fraction, places: int) -> str:
    """``value`` rounded down to ``places`` decimals, as text: 99/50 -> "1.98000000"."""
    assert value >= 0, value
    scaled = value.numerator * 10**places // value.denominator
    whole, fraction = divmod(scaled, 10**places)
    return f"{whole}.{fraction:0{places}d}"
