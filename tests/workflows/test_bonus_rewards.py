"""Cashback, rakeback and VIP levels paid by the BonusRewards workflow on the
time-skipping server: real bets settled into a reward period ahead of today, then the
server's clock skipped past its end and the run started as its schedule would.

Amounts are exact: the expected payouts are computed here from the settled bets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import Engine, select
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from croupier.activities.bonus_rewards import RewardsPaid
from croupier.betting import seed_pairs
from croupier.betting.bets import BetRecord
from croupier.betting.sealing import SeedSealer
from croupier.betting.settlement import SeededBet, Settler
from croupier.bonus.periods import Period, period_containing
from croupier.bonus.tables import reward_periods
from croupier.core.clock import ManualClock
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger import (
    AccountKind,
    TransferRequest,
    TransferType,
    balance,
    player_account,
    system_account,
    transfer,
)
from croupier.ledger.schema import transfers
from croupier.workflows.bonus_rewards import BonusRewardsWorkflow, RewardsInput
from tests.workflows.conftest import Recorder

ETH = Currency.ETH
WEI = 10**18
STAKE = 10**15  # 0.001 ETH
EDGE = Fraction(1, 100)  # every game's house edge
SEALER = SeedSealer("rewards-test-sealing-key-0123456789abcdef")
MAX_BETS = 40
LONG_SHOT = {"target": "95.00", "direction": "over"}  # wins 1 roll in 20
SAFE = {"target": "1.10"}  # limbo: wins 9 times in 10, at 1.1x


@dataclass
class Gambler:
    """A funded player settling real bets at a chosen instant."""

    engine: Engine
    user_id: uuid.UUID
    nonce: int = 0
    staked: int = 0
    paid: int = 0

    def play(self, at: datetime, game: str, params: dict[str, str], amount: int) -> BetRecord:
        clock = ManualClock(at)
        pair = seed_pairs.open_pair(self.engine, SEALER, self.user_id, ETH, clock)
        bet = SeededBet(
            id=uuid.uuid4(),
            user_id=self.user_id,
            game=game,
            currency=ETH,
            amount=amount,
            params=params,
            seed=replace(pair.seed_for_next_bet(), nonce=self.nonce),
            created_at=at,
        )
        settled = Settler(self.engine, SEALER, clock).settle(bet)
        assert settled.payout is not None
        self.nonce += 1
        self.staked += settled.amount
        self.paid += settled.payout
        return settled

    @property
    def net_loss(self) -> int:
        return self.staked - self.paid

    def cash(self) -> int:
        account = player_account(self.engine, str(self.user_id), AccountKind.PLAYER_CASH, ETH)
        return balance(self.engine, account.id).posted


def gambler(engine: Engine, cash: int) -> Gambler:
    user_id = uuid.uuid4()
    transfer(
        engine,
        TransferRequest(
            f"rewards-test-funding-{user_id}",
            system_account(engine, AccountKind.PROMOTIONS, ETH).id,
            player_account(engine, str(user_id), AccountKind.PLAYER_CASH, ETH).id,
            cash,
            ETH,
            TransferType.ADJUSTMENT,
        ),
    )
    return Gambler(engine, user_id)


def one_bet_until(
    engine: Engine, at: datetime, bet: tuple[str, dict[str, str]], wanted: Callable[[Gambler], bool]
) -> list[Gambler]:
    """New players, one bet each, until one's bet leaves it as ``wanted``: that player is
    the last of the list. Outcomes are provably fair, hence random; a player kept
    betting could drift the wrong way, a fresh one per bet cannot (40 tries of a 9-in-10
    chance do not all miss)."""
    players = []
    for _ in range(MAX_BETS):
        player = gambler(engine, WEI)
        player.play(at, *bet, STAKE)
        players.append(player)
        if wanted(player):
            return players
    raise AssertionError(f"{MAX_BETS} players and no {bet} bet went as wanted")


def paid(engine: Engine, kind: str, player: Gambler, period: Period) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(transfers.c.amount).where(
                transfers.c.id == f"{kind}-{player.user_id}-ETH-{period.key}"
            )
        ).all()
    return [row.amount for row in rows]


def statement(engine: Engine, player: Gambler, period: Period) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        row = conn.execute(
            select(reward_periods).where(
                reward_periods.c.user_id == player.user_id,
                reward_periods.c.period_start == period.start,
            )
        ).one()
    return row.wagered, row.net_loss, row.vip_level, row.rakeback_percent


async def future_period(env: WorkflowEnvironment, settings: Settings, weeks: int) -> Period:
    """A period some weeks ahead of the test server's clock (bets partitions exist for it)."""
    now = await env.get_current_time()
    return period_containing(now + timedelta(weeks=weeks), settings.bonus_reward_period_s)


async def skip_past(env: WorkflowEnvironment, period: Period) -> None:
    await env.sleep(period.end - await env.get_current_time() + timedelta(minutes=1))


async def start_rewards(
    env: WorkflowEnvironment, queue: str, request: RewardsInput | None = None
) -> WorkflowHandle[BonusRewardsWorkflow, RewardsPaid]:
    return await env.client.start_workflow(
        BonusRewardsWorkflow.run,
        request or RewardsInput(),
        id=f"bonus-rewards-{uuid.uuid4()}",
        task_queue=queue,
    )


async def run_rewards(
    env: WorkflowEnvironment, queue: str, request: RewardsInput | None = None
) -> RewardsPaid:
    return await finished(env, await start_rewards(env, queue, request))


async def finished(
    env: WorkflowEnvironment, handle: WorkflowHandle[BonusRewardsWorkflow, RewardsPaid]
) -> RewardsPaid:
    """The run's result, the clock held still meanwhile: only ``skip_past`` moves it, so
    the periods the tests play in stay where they are."""
    with env.auto_time_skipping_disabled():
        return await handle.result()


def rakeback(volume: int, percent: int) -> int:
    return int(volume * EDGE * percent / 100)


async def test_cashback_pays_the_loser_percent_of_the_loss_once_and_the_winner_nothing(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    settings: Settings,
    record_history: Recorder,
) -> None:
    period = await future_period(time_skipping_env, settings, weeks=2)
    at = period.start + timedelta(hours=1)
    # A long shot loses 19 times in 20; a safe limbo bet wins 9 times in 10.
    losers = one_bet_until(engine, at, ("dice", LONG_SHOT), lambda p: p.net_loss > 0)
    winners = one_bet_until(engine, at, ("limbo", SAFE), lambda p: p.net_loss < 0)
    behind, ahead = losers[-1], winners[-1]
    players = len(losers) + len(winners)  # usually 2; every one of them earns rakeback
    cash_before = (behind.cash(), ahead.cash())
    await skip_past(time_skipping_env, period)

    first_run = await start_rewards(time_skipping_env, time_skipping_worker)
    first = await finished(time_skipping_env, first_run)
    cash_after_first = (behind.cash(), ahead.cash())
    again = await run_rewards(time_skipping_env, time_skipping_worker, RewardsInput(period.start))

    cashback = behind.net_loss * settings.bonus_cashback_percent // 100
    assert cashback > 0
    assert (first.period_start, first.period_end) == (period.start, period.end)
    assert (first.players, first.paid_players) == (players, players)
    assert paid(engine, "cashback", behind, period) == [cashback]
    assert paid(engine, "cashback", ahead, period) == []
    # Level 0 pays 5% of the house edge on the volume, winner or loser.
    assert paid(engine, "rakeback", behind, period) == [rakeback(behind.staked, 5)]
    assert paid(engine, "rakeback", ahead, period) == [rakeback(ahead.staked, 5)]
    assert cash_after_first == (
        cash_before[0] + cashback + rakeback(behind.staked, 5),
        cash_before[1] + rakeback(ahead.staked, 5),
    )
    assert statement(engine, behind, period) == (behind.staked, behind.net_loss, 0, 5)
    assert statement(engine, ahead, period)[1] == ahead.net_loss < 0
    assert (again.players, again.paid_players) == (players, 0)
    assert (again.cashback, again.rakeback) == ({}, {})
    assert (behind.cash(), ahead.cash()) == cash_after_first
    await record_history(first_run, "paid")


async def test_lifetime_volume_raises_the_vip_level_and_its_rakeback_percent(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    settings: Settings,
) -> None:
    first = await future_period(time_skipping_env, settings, weeks=4)
    second = period_containing(first.end, settings.bonus_reward_period_s)
    player = gambler(engine, 20 * WEI)
    for _ in range(6):  # 6 ETH: level 0 (5%); level 1 starts at 10 ETH lifetime
        player.play(first.start + timedelta(hours=1), "dice", LONG_SHOT, WEI)
    await skip_past(time_skipping_env, first)
    await run_rewards(time_skipping_env, time_skipping_worker)
    for _ in range(6):  # 12 ETH lifetime: level 1 (10%)
        player.play(second.start + timedelta(hours=1), "dice", LONG_SHOT, WEI)
    await skip_past(time_skipping_env, second)
    await run_rewards(time_skipping_env, time_skipping_worker)

    assert paid(engine, "rakeback", player, first) == [rakeback(6 * WEI, 5)] == [3 * 10**15]
    assert paid(engine, "rakeback", player, second) == [rakeback(6 * WEI, 10)] == [6 * 10**15]
    assert statement(engine, player, first)[2:] == (0, 5)
    assert statement(engine, player, second)[2:] == (1, 10)


async def test_a_period_that_has_not_ended_is_not_paid(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, settings: Settings
) -> None:
    now = await time_skipping_env.get_current_time()

    with pytest.raises(WorkflowFailureError) as refused:
        await run_rewards(time_skipping_env, time_skipping_worker, RewardsInput(now))

    cause = refused.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.type == "reward_period_open"
