"""Crash stakes pass the responsible-gambling guard every game's stakes pass, on the real
ledger: a refusal takes nothing, and a bet placed already is never asked again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine

from croupier.activities.gambling_guard import responsible_gambling_guard
from croupier.betting.bets import BetStatus, find_bet, get_bet
from croupier.compliance.errors import LossLimitReached, SelfExcluded
from croupier.compliance.exclusions import exclude
from croupier.compliance.limit_changes import request_limit_change
from croupier.compliance.limits import ExclusionKind, LimitKey, LimitKind, Period
from croupier.core.clock import SystemClock
from croupier.crash.bets import CrashBet, place_bet
from croupier.crash.rounds import Round, open_round
from tests.integration.compliance.people import make_user
from tests.integration.crash.support import ETH, ONE_ETH, cash, fund, new_chain, round_where

STAKE = ONE_ETH // 100
DAILY_LOSS = LimitKey(LimitKind.LOSS, ETH, Period.DAILY)
GUARD = responsible_gambling_guard(SystemClock())


def _round(engine: Engine) -> Round:
    chain = new_chain(engine, length=10)
    return open_round(engine, round_where(engine, chain, lambda _: True), max_multiplier_h=10_000)


def _player(engine: Engine) -> uuid.UUID:
    """A registered player (limits and exclusions belong to users) with 1 ETH."""
    user_id = make_user(engine)
    fund(engine, user_id, ONE_ETH)
    return user_id


def _bet(round_: Round, user_id: uuid.UUID, amount: int = STAKE) -> CrashBet:
    return CrashBet(uuid.uuid4(), user_id, ETH, amount, round_.key, datetime.now(UTC))


def test_a_self_excluded_players_crash_bet_takes_nothing(engine: Engine) -> None:
    round_ = _round(engine)
    player = _player(engine)
    exclude(engine, player, ExclusionKind.SELF_EXCLUSION, 180, now=datetime.now(UTC))
    bet = _bet(round_, player)

    with pytest.raises(SelfExcluded):
        place_bet(engine, bet, GUARD)

    assert cash(engine, player) == ONE_ETH
    assert find_bet(engine, bet.id) is None


def test_a_crash_stake_that_could_cross_the_loss_limit_is_refused(engine: Engine) -> None:
    round_ = _round(engine)
    player = _player(engine)
    now = datetime.now(UTC)
    request_limit_change(
        engine, player, DAILY_LOSS, 2 * STAKE, now=now, increase_delay=timedelta(days=1)
    )

    first = place_bet(engine, _bet(round_, player), GUARD)  # open: counts as lost
    with pytest.raises(LossLimitReached):
        place_bet(engine, _bet(_round(engine), player, STAKE + 1), GUARD)
    place_bet(engine, _bet(_round(engine), player), GUARD)  # exactly at the limit

    assert first is not None
    assert cash(engine, player) == ONE_ETH - 2 * STAKE


def test_a_placed_bet_is_not_asked_again_when_its_stake_is_retried(engine: Engine) -> None:
    round_ = _round(engine)
    player = _player(engine)
    bet = _bet(round_, player)
    place_bet(engine, bet, GUARD)

    def refuse_everything(conn: Connection, stake: CrashBet) -> None:
        raise SelfExcluded("excluded since the first attempt")

    place_bet(engine, bet, refuse_everything)  # a retried activity: a replay

    assert get_bet(engine, bet.id).status is BetStatus.OPEN
    assert cash(engine, player) == ONE_ETH - STAKE
