"""The crash round on the time-skipping server: timers, cash-outs by the workflow's clock,
settlement at the crash, the next round, and a worker lost mid-round.

The module runs its own time-skipping server and worker (default settings: a 10 s
betting window, 2x after 11.55 s) and moves time only with ``env.sleep``: bets are
stored with the workflow's clock, and an unbounded skip (``handle.result()`` while
nothing else is due) would move it years ahead (see ``tests.conftest.start_time_skipping_env``).
Each test plays rounds of its own hash chain, picked by crash point, under its own
workflow id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from croupier.activities.crash import RoundRef
from croupier.betting.bets import BetStatus, get_bet
from croupier.core.settings import Settings
from croupier.crash.curve import Curve
from croupier.crash.rounds import RoundKey, RoundStatus, get_round
from croupier.workers import registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows import search_attributes as keys
from croupier.workflows.crash import (
    CashedOut,
    CashOutRequest,
    CrashRoundInput,
    CrashRoundResult,
    CrashRoundWorkflow,
    PlaceCrashBet,
    PlacedCrashBet,
    RoundView,
    StopRounds,
)
from tests.conftest import start_time_skipping_env
from tests.integration.crash.support import ONE_ETH, cash, new_chain, new_player, round_where
from tests.workflows.conftest import Recorder

STAKE = ONE_ETH // 10
WINDOW = timedelta(seconds=10)  # the default CROUPIER_CRASH_BETTING_WINDOW_S
CURVE = Curve(Decimal("0.00006"))  # the default CROUPIER_CRASH_GROWTH_PER_MS
STEP = timedelta(milliseconds=500)
MAX_STEPS = 400
# Rounds under 20x crash within 50 s of running: a few dozen steps.
MAX_CRASH_H = 2000

Handle = WorkflowHandle[CrashRoundWorkflow, CrashRoundResult]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    own = await start_time_skipping_env()
    yield own
    await own.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def queue(env: WorkflowEnvironment, settings: Settings, engine: Engine) -> AsyncIterator[str]:
    """Every registered workflow and activity, on this module's server."""
    deps = registry.WorkerDeps(settings=settings, engine=engine, temporal=env.client)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(env.client, "crash-rounds", deps, executor):
            yield "crash-rounds"


async def start(env: WorkflowEnvironment, queue: str, key: RoundKey) -> Handle:
    return await env.client.start_workflow(
        CrashRoundWorkflow.run,
        CrashRoundInput(round=RoundRef(key.chain_id, key.round_number)),
        id=f"crash-round-test-{uuid.uuid4()}",
        task_queue=queue,
    )


async def advance_until(
    env: WorkflowEnvironment, handle: Handle, wanted: Callable[[RoundView], bool]
) -> RoundView:
    """Skip time in small steps until the round's view is ``wanted``."""
    for _ in range(MAX_STEPS):
        try:
            view = await handle.query(CrashRoundWorkflow.current)
            if wanted(view):
                return view
        except WorkflowQueryFailedError:
            pass  # the round is still opening
        await env.sleep(STEP)
    raise AssertionError("the round never got there")


def crashing(low_h: int, high_h: int = MAX_CRASH_H) -> Callable[[int], bool]:
    return lambda crash_h: low_h <= crash_h < high_h


def phase_is(*phases: str) -> Callable[[RoundView], bool]:
    return lambda view: view.phase in phases


async def bet(handle: Handle, user_id: uuid.UUID, amount: int = STAKE) -> PlacedCrashBet:
    bet_id = str(uuid.uuid4())
    return await handle.execute_update(
        CrashRoundWorkflow.place_bet,
        PlaceCrashBet(bet_id=bet_id, user_id=str(user_id), currency="ETH", amount=str(amount)),
        id=bet_id,
    )


async def cash_out(handle: Handle, placed: PlacedCrashBet, user_id: uuid.UUID) -> CashedOut:
    return await handle.execute_update(
        CrashRoundWorkflow.cash_out,
        CashOutRequest(bet_id=placed.bet_id, user_id=str(user_id)),
        id=f"cash-out-{placed.bet_id}",
    )


async def finish(env: WorkflowEnvironment, handle: Handle) -> CrashRoundResult:
    """Ask the rounds to stop after this one and skip time until it has settled."""
    await handle.signal(CrashRoundWorkflow.stop, StopRounds(staff_id="test", reason="test over"))
    for _ in range(MAX_STEPS):
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            with env.auto_time_skipping_disabled():
                return await handle.result()
        await env.sleep(STEP)
    raise AssertionError("the round never finished")


def refusal(raised: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str | None:
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause.type


async def test_the_betting_window_closes_on_time(
    env: WorkflowEnvironment,
    queue: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    key = round_where(engine, new_chain(engine), crashing(200))
    handle = await start(env, queue, key)
    view = await advance_until(env, handle, phase_is("betting"))
    started = (await handle.describe()).start_time
    player = new_player(engine, funded=ONE_ETH)

    await env.sleep(WINDOW)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await bet(handle, player)

    assert view.betting_closes_at is not None
    assert abs(view.betting_closes_at - started - WINDOW) < timedelta(seconds=1)
    assert refusal(raised) == "crash_betting_closed"
    assert (await handle.query(CrashRoundWorkflow.current)).phase in ("starting", "running")
    result = await finish(env, handle)
    assert (result.last_round.round_id, result.bet_count) == (key.id, 0)
    assert cash(engine, player) == ONE_ETH
    attributes = (await handle.describe()).typed_search_attributes
    assert (attributes.get(keys.GAME), attributes.get(keys.STATUS)) == ("crash", "settled")
    await record_history(handle, "no-bets")


async def test_a_cash_out_before_the_crash_pays_the_multiplier_of_that_instant(
    env: WorkflowEnvironment,
    queue: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    key = round_where(engine, new_chain(engine), crashing(500))
    handle = await start(env, queue, key)
    await advance_until(env, handle, phase_is("betting"))
    player = new_player(engine, funded=ONE_ETH)
    placed = await bet(handle, player)
    running = await advance_until(env, handle, phase_is("running"))
    await env.sleep(timedelta(seconds=5))  # about 1.35x

    cashed = await cash_out(handle, placed, player)

    multiplier_h = int(Decimal(cashed.multiplier) * 100)
    assert CURVE.multiplier_h(5000) <= multiplier_h <= CURVE.multiplier_h(8000)
    assert int(cashed.payout) == STAKE * multiplier_h // 100
    assert running.crash_point is None  # not shown before the crash
    result = await finish(env, handle)
    settled = get_bet(engine, uuid.UUID(placed.bet_id))
    assert (settled.status, settled.multiplier, settled.payout) == (
        BetStatus.SETTLED,
        Fraction(multiplier_h, 100),
        int(cashed.payout),
    )
    assert settled.round_id == key.id == result.last_round.round_id
    assert cash(engine, player) == ONE_ETH - STAKE + int(cashed.payout)
    await record_history(handle, "cash-out")


async def test_all_open_bets_lose_at_the_crash(
    env: WorkflowEnvironment, queue: str, engine: Engine
) -> None:
    key = round_where(engine, new_chain(engine), crashing(150, 1000))
    handle = await start(env, queue, key)
    await advance_until(env, handle, phase_is("betting"))
    players = [new_player(engine, funded=ONE_ETH) for _ in range(3)]
    placed = await asyncio.gather(*(bet(handle, player) for player in players))

    result = await finish(env, handle)

    assert result.bet_count == 3
    for player, one in zip(players, placed, strict=True):
        lost = get_bet(engine, uuid.UUID(one.bet_id))
        assert (lost.status, lost.payout) == (BetStatus.SETTLED, 0)
        assert cash(engine, player) == ONE_ETH - STAKE
    assert get_round(engine, key).status is RoundStatus.SETTLED


async def test_the_next_round_starts_once_one_settles(
    env: WorkflowEnvironment,
    queue: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    key = round_where(engine, new_chain(engine), crashing(100, 300))
    handle = await start(env, queue, key)

    following = await advance_until(
        env,
        handle,
        lambda view: view.round_number == key.round_number + 1 and view.phase == "betting",
    )

    played = get_round(engine, key)
    assert following.round_id == key.next().id
    assert following.previous is not None
    assert following.previous.round_id == key.id
    assert following.previous.game_hash == played.game_hash  # revealed after the crash
    assert following.previous.crash_point == f"{played.crash_point_h / 100:.2f}"
    assert played.status is RoundStatus.SETTLED
    result = await finish(env, handle)
    assert result.last_round.round_id == key.next().id
    await record_history(handle, "next-round")


async def test_a_bet_the_player_cannot_pay_is_refused_before_it_counts(
    env: WorkflowEnvironment, queue: str, engine: Engine
) -> None:
    key = round_where(engine, new_chain(engine), crashing(150))
    handle = await start(env, queue, key)
    await advance_until(env, handle, phase_is("betting"))
    player = new_player(engine, funded=STAKE - 1)

    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await bet(handle, player)

    assert refusal(raised) == "insufficient_funds"
    assert (await handle.query(CrashRoundWorkflow.current)).bet_count == 0
    assert (await finish(env, handle)).bet_count == 0
    assert cash(engine, player) == STAKE - 1


async def test_a_player_bets_once_per_round_and_a_repeated_request_is_the_same_bet(
    env: WorkflowEnvironment, queue: str, engine: Engine
) -> None:
    key = round_where(engine, new_chain(engine), crashing(150))
    handle = await start(env, queue, key)
    await advance_until(env, handle, phase_is("betting"))
    player = new_player(engine, funded=ONE_ETH)
    request = PlaceCrashBet(str(uuid.uuid4()), str(player), "ETH", str(STAKE))

    first = await handle.execute_update(CrashRoundWorkflow.place_bet, request, id=request.bet_id)
    repeated = await handle.execute_update(CrashRoundWorkflow.place_bet, request, id=request.bet_id)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await bet(handle, player)

    assert repeated == first
    assert refusal(raised) == "crash_already_bet_this_round"
    assert (await finish(env, handle)).bet_count == 1
    assert cash(engine, player) == ONE_ETH - STAKE


@asynccontextmanager
async def uncached_worker(
    env: WorkflowEnvironment, queue: str, settings: Settings, engine: Engine
) -> AsyncIterator[None]:
    """A worker that keeps no workflow in memory: what another process would be."""
    deps = registry.WorkerDeps(settings=settings, engine=engine, temporal=env.client)
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = Worker(
            env.client,
            task_queue=queue,
            workflows=registry.workflows(),
            activities=registry.activities(deps),
            activity_executor=executor,
            max_concurrent_activities=4,
            max_cached_workflows=0,
        )
        async with worker:
            yield


async def test_a_worker_lost_mid_round_loses_no_bet_and_a_late_cash_out_is_refused(
    env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    key = round_where(engine, new_chain(engine), crashing(150, 300))
    lost_queue = f"crash-lost-worker-{uuid.uuid4().hex[:8]}"
    player, rider = new_player(engine, funded=ONE_ETH), new_player(engine, funded=ONE_ETH)
    async with uncached_worker(env, lost_queue, settings, engine):
        handle = await start(env, lost_queue, key)
        await advance_until(env, handle, phase_is("betting"))
        placed = await bet(handle, player)
        await bet(handle, rider)
        running = await advance_until(env, handle, phase_is("running"))
    # No worker while the round crashes: the crash timer fires with nobody to see it.
    assert running.started_at is not None
    crash_h = get_round(engine, key).crash_point_h
    await env.sleep(timedelta(milliseconds=CURVE.elapsed_ms_to_reach(crash_h)))
    late = asyncio.create_task(cash_out(handle, placed, player))

    async with uncached_worker(env, lost_queue, settings, engine):
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await late
        result = await finish(env, handle)

    assert refusal(raised) == "crash_cash_out_too_late"
    assert result.bet_count == 2
    for user in (player, rider):
        assert cash(engine, user) == ONE_ETH - STAKE  # staked once, lost once
    assert get_bet(engine, uuid.UUID(placed.bet_id)).payout == 0
