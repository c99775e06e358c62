"""Crash bets under a bonus, on the crash round's own time-skipping server: the stake
split when the bet is placed, the bonus's max bet, the win paid back pro rata at the
crash, wagering counted at crash's weight and reported to the Bonus workflow; a player
without a bonus in the same round is paid as before."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from croupier.bonus.tables import bonus_wagering
from croupier.ledger.kinds import AccountKind
from croupier.ledger.schema import transfers
from tests.integration.crash.support import ONE_ETH, cash, new_chain, new_player, round_where
from tests.workflows.conftest import Recorder
from tests.workflows.test_bonus import (
    BONUS,
    MAX_BET,
    WEIGHTS,
    _balance,
    _claim,
    _start_bonus,
    _until,
    _wagering_row,
)
from tests.workflows.test_crash_round import (
    advance_until,
    bet,
    cash_out,
    crashing,
    env,
    finish,
    phase_is,
    queue,
    refusal,
    start,
)

__all__ = ["env", "queue"]  # the crash round's module fixtures, used here


async def test_a_crash_bet_under_a_bonus_counts_at_its_weight_and_is_paid_pro_rata(
    env: WorkflowEnvironment, queue: str, engine: Engine, record_history: Recorder
) -> None:
    key = round_where(engine, new_chain(engine), crashing(500))
    handle = await start(env, queue, key)
    player = new_player(engine, funded=10**15)
    bonus = await _start_bonus(env.client, queue, str(player), _claim(engine, str(player)))
    plain = new_player(engine, funded=ONE_ETH)
    await advance_until(env, handle, phase_is("betting"))

    with pytest.raises(WorkflowUpdateFailedError) as too_big:
        await bet(handle, player, MAX_BET + 1)
    placed = await bet(handle, player, 3 * 10**15)  # 1e15 cash, 2e15 bonus
    plain_bet = await bet(handle, plain, 10**15)
    staked = (cash(engine, player), _balance(engine, str(player), AccountKind.PLAYER_BONUS))
    await advance_until(env, handle, phase_is("running"))
    await env.sleep(timedelta(seconds=5))  # about 1.35x
    cashed = await cash_out(handle, placed, player)
    plain_cashed = await cash_out(handle, plain_bet, plain)
    await finish(env, handle)

    assert refusal(too_big) == "bonus_max_bet_exceeded"
    assert staked == (0, BONUS - 2 * 10**15)
    payout, share = int(cashed.payout), int(cashed.payout) * 2 // 3
    row = _wagering_row(engine, placed.bet_id)
    assert (row.stake, row.stake_bonus, row.payout, row.payout_bonus) == (
        3 * 10**15,
        2 * 10**15,
        payout,
        share,
    )
    contribution = 3 * 10**15 * WEIGHTS["crash"] // 100
    assert row.contribution == contribution and row.settled_at is not None
    assert cash(engine, player) == payout - share
    assert _balance(engine, str(player), AccountKind.PLAYER_BONUS) == BONUS - 2 * 10**15 + share
    # The round told the bonus's workflow once it settled.
    view = await _until(lambda v: v.wagered == str(contribution), bonus)
    assert view.status == "active"
    # The player without a bonus: cash only, the same two transfers as ever.
    assert cash(engine, plain) == ONE_ETH - 10**15 + int(plain_cashed.payout)
    with engine.connect() as conn:
        plain_rows = conn.execute(
            select(bonus_wagering).where(bonus_wagering.c.bet_id == uuid.UUID(plain_bet.bet_id))
        ).all()
        plain_transfers = conn.execute(
            select(transfers.c.id).where(transfers.c.reference_id == f"bet-{plain_bet.bet_id}")
        ).scalars()
        assert set(plain_transfers) == {
            f"bet-{plain_bet.bet_id}-stake",
            f"bet-{plain_bet.bet_id}-payout",
        }
    assert plain_rows == []
    await record_history(handle, "bonus-cash-out")
