"""The pure rules of betting: stakes, bet records, outcomes, refusals across Temporal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from croupier.betting.bets import BetRecord, BetStatus, SeedRef
from croupier.betting.errors import BetAboveMaximum, GameDisabled, NonceReused
from croupier.betting.limits import check_stake
from croupier.betting.settlement import SeededBet, round_result, validate_bet
from croupier.core.errors import InsufficientFunds, InvalidAmount, InvalidInput
from croupier.core.money import Currency
from croupier.games.errors import InvalidBet, UnknownGame
from croupier.games.seeds import SeedPair
from croupier.games.verifier import verify_seeded
from croupier.workflows.refusals import refusal, typed_error

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PAIR = SeedPair.new("client")
SEED = SeedRef(uuid.uuid4(), PAIR.server_seed_hash, PAIR.client_seed, 7)


def _stake(amount: str, game: str = "dice") -> int:
    return check_stake(game, amount, Currency.ETH, max_bet=1000, games_enabled={"dice"})


def test_a_stake_is_a_positive_whole_number_of_minor_units_up_to_the_maximum() -> None:
    assert _stake("1000") == 1000
    for bad in ("0", "-1", "1.5", "1e3", " 1", "01"):
        with pytest.raises(InvalidAmount):
            _stake(bad)
    with pytest.raises(BetAboveMaximum):
        _stake("1001")
    with pytest.raises(GameDisabled):
        _stake("1", game="limbo")


def test_bets_are_validated_as_the_game_would_play_them() -> None:
    validate_bet("dice", {"target": "50.50", "direction": "over"}, complete=True)
    validate_bet("mines", {"mines": 3}, complete=False)
    with pytest.raises(InvalidBet):
        validate_bet("dice", {"target": "50.50"}, complete=True)
    with pytest.raises(InvalidBet):
        validate_bet("mines", {"mines": 25}, complete=False)
    with pytest.raises(UnknownGame):
        validate_bet("crash", {"target": "2"}, complete=True)
    with pytest.raises(UnknownGame):
        validate_bet("roulette", {}, complete=True)


def test_a_settled_record_has_its_whole_result_and_an_open_one_none() -> None:
    base = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "game": "dice",
        "currency": Currency.ETH,
        "amount": 10,
        "params": {},
        "created_at": NOW,
        "seed": SEED,
    }
    BetRecord(**base, status=BetStatus.OPEN)
    with pytest.raises(InvalidInput):
        BetRecord(**base, status=BetStatus.SETTLED)
    with pytest.raises(InvalidInput):
        BetRecord(**base, status=BetStatus.OPEN, payout=0)
    with pytest.raises(InvalidInput):
        BetRecord(**{**base, "seed": None}, status=BetStatus.OPEN)
    with pytest.raises(InvalidInput):
        BetRecord(**{**base, "created_at": NOW.replace(tzinfo=None)}, status=BetStatus.OPEN)


def test_a_round_is_what_the_public_verifier_recomputes() -> None:
    params = {"rows": 16, "risk": "high"}
    bet = SeededBet(uuid.uuid4(), uuid.uuid4(), "plinko", Currency.ETH, 10**6, params, SEED, NOW)

    result = round_result(bet, PAIR.server_seed)
    verified = verify_seeded(
        "plinko", params, server_seed=PAIR.server_seed, client_seed="client", nonce=7
    )

    assert str(result.multiplier) == verified["multiplier"]
    assert result.payout == 10**6 * result.multiplier.numerator // result.multiplier.denominator


def test_a_mines_game_ended_without_a_reveal_is_lost_on_the_board_its_seed_drew() -> None:
    bet = SeededBet(uuid.uuid4(), uuid.uuid4(), "mines", Currency.ETH, 100, {"mines": 3}, SEED, NOW)

    result = round_result(bet, PAIR.server_seed)
    verified = verify_seeded(
        "mines", {"mines": 3}, server_seed=PAIR.server_seed, client_seed="client", nonce=7
    )

    assert (result.multiplier, result.payout) == (Fraction(0), 0)
    assert result.outcome.as_dict()["mines"] == verified["mines"]


def test_a_refusal_crosses_temporal_and_comes_back_as_the_same_typed_error() -> None:
    for error in (InsufficientFunds("no money"), NonceReused("taken"), InvalidBet("bad")):
        failure = refusal(error)
        assert failure.non_retryable
        wrapped = WorkflowUpdateFailedError(failure)
        wrapped.__cause__ = failure
        typed = typed_error(wrapped)
        assert type(typed) is type(error) and str(typed) == str(error)


def test_an_unknown_refusal_code_is_still_a_refusal_not_a_crash() -> None:
    typed = typed_error(ApplicationError("new rule", type="some_future_code"))

    assert typed is not None and "some_future_code" in str(typed)
