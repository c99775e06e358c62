"""Crash bets and the one-transaction settlement, on the real ledger."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from croupier.betting.bets import BetStatus, get_bet
from croupier.betting.errors import BetNotFound
from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.crash.bets import CrashBet, place_bet
from croupier.crash.errors import BettingClosed
from croupier.crash.rounds import Round, open_round
from croupier.crash.settlement import RoundBet, RoundSettlement, settle_round
from tests.integration.crash.support import ETH, ONE_ETH, cash, new_chain, new_player, round_where

CAP_H = 100_000_000
STAKE = ONE_ETH // 10


def _open(
    engine: Engine,
    wanted: Callable[[int], bool] = lambda crash_h: crash_h >= 300,
    cap_h: int = CAP_H,
) -> Round:
    chain = new_chain(engine)
    return open_round(engine, round_where(engine, chain, wanted), max_multiplier_h=cap_h)


def _bet(round_: Round, user_id: uuid.UUID, amount: int = STAKE) -> CrashBet:
    return CrashBet(
        id=uuid.uuid4(),
        user_id=user_id,
        currency=ETH,
        amount=amount,
        round=round_.key,
        placed_at=datetime.now(UTC),
    )


def _settle(engine: Engine, round_: Round, bets: list[RoundBet]) -> RoundSettlement:
    now = datetime.now(UTC)
    return settle_round(
        engine,
        round_.key,
        bets,
        started_at=now,
        ended_at=now + timedelta(seconds=5),
        settled_at=now,
    )


def test_a_bet_takes_its_stake_when_placed(engine: Engine) -> None:
    round_ = _open(engine)
    player = new_player(engine, funded=ONE_ETH)
    bet = _bet(round_, player)

    place_bet(engine, bet)

    assert cash(engine, player) == ONE_ETH - STAKE
    stored = get_bet(engine, bet.id)
    assert stored.status is BetStatus.OPEN
    assert stored.round_id == round_.key.id


def test_a_bet_the_player_cannot_pay_is_refused_and_leaves_nothing(engine: Engine) -> None:
    round_ = _open(engine)
    player = new_player(engine, funded=STAKE - 1)
    bet = _bet(round_, player)

    with pytest.raises(InsufficientFunds):
        place_bet(engine, bet)

    assert cash(engine, player) == STAKE - 1
    with pytest.raises(BetNotFound):
        get_bet(engine, bet.id)


def test_placing_the_same_bet_twice_takes_one_stake(engine: Engine) -> None:
    round_ = _open(engine)
    player = new_player(engine, funded=ONE_ETH)
    bet = _bet(round_, player)

    place_bet(engine, bet)
    place_bet(engine, bet)

    assert cash(engine, player) == ONE_ETH - STAKE


def test_the_same_bet_cannot_be_placed_again_in_another_round(engine: Engine) -> None:
    first, second = _open(engine), _open(engine)
    player = new_player(engine, funded=ONE_ETH)
    bet = _bet(first, player)
    place_bet(engine, bet)

    with pytest.raises(IdempotencyConflict):
        place_bet(engine, CrashBet(bet.id, player, ETH, STAKE, second.key, bet.placed_at))

    assert cash(engine, player) == ONE_ETH - STAKE


def test_cash_outs_are_paid_and_bets_riding_to_the_crash_lose(engine: Engine) -> None:
    round_ = _open(engine, lambda crash_h: 200 <= crash_h < 1000)
    winner, loser = new_player(engine, funded=ONE_ETH), new_player(engine, funded=ONE_ETH)
    winning, losing = _bet(round_, winner), _bet(round_, loser)
    bets = [
        RoundBet(winning, place_bet(engine, winning), cashed_out_h=150),
        RoundBet(losing, place_bet(engine, losing), cashed_out_h=None),
    ]

    settled = _settle(engine, round_, bets)

    assert cash(engine, winner) == ONE_ETH - STAKE + STAKE * 3 // 2
    assert cash(engine, loser) == ONE_ETH - STAKE
    won, lost = get_bet(engine, winning.id), get_bet(engine, losing.id)
    assert (won.status, won.multiplier, won.payout, won.params) == (
        BetStatus.SETTLED,
        Fraction(3, 2),
        STAKE * 3 // 2,
        {"target": "1.50"},
    )
    assert (lost.status, lost.multiplier, lost.payout) == (BetStatus.SETTLED, Fraction(0), 0)
    assert won.outcome == lost.outcome == {"crash": _format(round_.crash_point_h)}
    assert [(o.cashed_out_h, o.payout) for o in settled.outcomes] == [
        (150, STAKE * 3 // 2),
        (None, 0),
    ]
    assert settled.round.game_hash == round_.game_hash and not settled.replayed


def test_settling_a_round_again_pays_nothing_more(engine: Engine) -> None:
    round_ = _open(engine)
    player = new_player(engine, funded=ONE_ETH)
    bet = _bet(round_, player)
    bets = [RoundBet(bet, place_bet(engine, bet), cashed_out_h=250)]
    _settle(engine, round_, bets)

    again = _settle(engine, round_, bets)

    assert again.replayed
    assert cash(engine, player) == ONE_ETH - STAKE + STAKE * 5 // 2


def test_bets_still_open_at_the_cap_cash_out_at_the_cap(engine: Engine) -> None:
    round_ = _open(engine, lambda crash_h: crash_h >= 400, cap_h=400)
    player = new_player(engine, funded=ONE_ETH)
    bet = _bet(round_, player)

    _settle(engine, round_, [RoundBet(bet, place_bet(engine, bet), cashed_out_h=None)])

    assert cash(engine, player) == ONE_ETH - STAKE + STAKE * 4
    assert get_bet(engine, bet.id).params == {"target": "4.00"}


def test_a_cash_out_at_the_crash_point_is_never_paid(engine: Engine) -> None:
    round_ = _open(engine, lambda crash_h: crash_h >= 200)
    player = new_player(engine, funded=ONE_ETH)
    bet = _bet(round_, player)
    bets = [RoundBet(bet, place_bet(engine, bet), cashed_out_h=round_.crash_point_h)]

    with pytest.raises(AssertionError):
        _settle(engine, round_, bets)

    assert cash(engine, player) == ONE_ETH - STAKE
    assert get_bet(engine, bet.id).status is BetStatus.OPEN


def test_a_stake_never_lands_in_a_settled_round(engine: Engine) -> None:
    round_ = _open(engine)
    _settle(engine, round_, [])
    player = new_player(engine, funded=ONE_ETH)

    with pytest.raises(BettingClosed):
        place_bet(engine, _bet(round_, player))

    assert cash(engine, player) == ONE_ETH


def _format(value_h: int) -> str:
    return f"{value_h // 100}.{value_h % 100:02d}"
