"""Playing a round: one entry point, exact multipliers, payouts rounded down to minor units."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import pytest

from croupier.core.errors import ConfigurationError, InvalidAmount, InvalidInput
from croupier.games import GAMES, HouseEdges, RoundResult, build_games, play, play_crash, verify
from croupier.games.errors import InvalidBet, UnknownGame
from croupier.games.game import AnyGame, payout
from croupier.games.hashchain import generate_chain

SERVER_SEED = "6d239cd1c7a6ad85efa5a5a57be0a4158a34d392e48feec92a3ed0d564365366"
CLIENT_SEED = "lucky-player-42"
ONE_ETH = 10**18


def _play(
    game: str,
    params: Mapping[str, object],
    *,
    nonce: int,
    amount: int,
    games: Mapping[str, AnyGame] = GAMES,
) -> RoundResult:
    return play(
        game,
        params,
        server_seed=SERVER_SEED,
        client_seed=CLIENT_SEED,
        nonce=nonce,
        amount=amount,
        games=games,
    )


def test_a_winning_dice_bet_pays_the_exact_multiplier_of_the_stake_in_wei() -> None:
    result = _play("dice", {"target": "50.50", "direction": "over"}, nonce=0, amount=ONE_ETH)
    assert result.as_dict() == {
        "game": "dice",
        "roll": "95.67",
        "multiplier": "10001/5000",
        "payout": str(2_000_200_000_000_000_000),
    }


def test_payouts_round_down_to_the_minor_unit() -> None:
    assert payout(3, Fraction(10001, 5000)) == 6  # 6.0006 -> 6
    assert payout(1, Fraction(99, 100)) == 0
    assert payout(10**30 + 1, Fraction(207, 140)) == (10**30 + 1) * 207 // 140


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, "100"])
def test_stakes_must_be_positive_integer_minor_units(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        _play("limbo", {"target": "2"}, nonce=0, amount=amount)  # type: ignore[arg-type]


def test_a_parameter_the_game_does_not_read_is_refused() -> None:
    with pytest.raises(InvalidBet, match="unknown parameter 'targt'"):
        _play("limbo", {"targt": "2"}, nonce=0, amount=100)


def test_an_unknown_game_is_refused_naming_the_offered_ones() -> None:
    with pytest.raises(UnknownGame, match="dice, limbo, plinko, mines, crash"):
        _play("roulette", {}, nonce=0, amount=100)


def test_crash_is_not_played_from_player_seeds() -> None:
    with pytest.raises(UnknownGame, match="hash chain"):
        _play("crash", {"target": "2"}, nonce=0, amount=100)


def test_every_game_error_is_invalid_input_so_callers_answer_4xx() -> None:
    bad_bets: list[tuple[str, dict[str, object], int]] = [
        ("dice", {"target": "101", "direction": "over"}, 0),
        ("dice", {}, -1),
        ("nope", {}, 0),
    ]
    for game, params, nonce in bad_bets:
        with pytest.raises(InvalidInput):
            _play(game, params, nonce=nonce, amount=1)


def test_play_and_verify_agree_on_every_seeded_game() -> None:
    bets = {
        "dice": {"target": "20", "direction": "under"},
        "limbo": {"target": "1.5"},
        "plinko": {"rows": "12", "risk": "medium"},
        "mines": {"mines": "5", "picks": "0,1"},
    }
    for nonce in range(20):
        for game, params in bets.items():
            played = _play(game, params, nonce=nonce, amount=1000)
            verified = verify(
                game, params, nonce=nonce, server_seed=SERVER_SEED, client_seed=CLIENT_SEED
            )
            assert verified["multiplier"] == str(played.multiplier)
            assert {k: verified[k] for k in played.outcome.as_dict()} == played.outcome.as_dict()


def test_a_crash_bet_wins_its_target_only_if_the_round_reaches_it() -> None:
    chain = generate_chain(10, "b25a6fa3241a7ccbf6e62dd95346aa0fca57642929e8af33939e1d98a48b2cf6")
    salt = "0000000000000000000301e2801a9a9598bfb114e574a91a887f2132f33047e6"
    game_hash = chain.game_hash(2)
    assert verify("crash", {}, game_hash=game_hash, salt=salt)["crash"] == "3.78"
    at_crash = play_crash({"target": "3.78"}, game_hash=game_hash, salt=salt, amount=100)
    above = play_crash({"target": "3.79"}, game_hash=game_hash, salt=salt, amount=100)
    assert (at_crash.payout, above.payout) == (378, 0)


def test_house_edges_are_configured_in_one_place_and_reach_every_game() -> None:
    games = build_games(HouseEdges.uniform(Fraction(2, 100)))
    assert all(game.edge == Fraction(2, 100) for game in games.values())  # type: ignore[attr-defined]
    assert all(game.edge == Fraction(1, 100) for game in GAMES.values())  # type: ignore[attr-defined]
    dice = _play("dice", {"target": "50", "direction": "under"}, nonce=0, amount=100, games=games)
    assert dice.multiplier in (0, Fraction(98, 100) * 10001 / 5000)


@pytest.mark.parametrize("edge", [Fraction(-1, 100), Fraction(11, 100), 0.01])
def test_house_edges_outside_0_to_10_percent_are_a_configuration_error(edge: object) -> None:
    with pytest.raises(ConfigurationError):
        HouseEdges(dice=edge)  # type: ignore[arg-type]
