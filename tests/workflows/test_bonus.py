"""The Bonus workflow on the time-skipping server, wagered by a real player session:
grant, wagering with game weights up to exactly the requirement, release capped by
the max conversion, the max bet, hedges, expiry and forfeit."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from croupier.activities.betting import BetResult
from croupier.activities.bonus import BonusView
from croupier.bonus.claims import ClaimRequest, claim_bonus
from croupier.bonus.offers import BonusKind, Offer, OfferAmounts
from croupier.bonus.tables import bonus_wagering
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.balances import balance
from croupier.ledger.kinds import AccountKind
from croupier.ledger.schema import transfers
from croupier.workflows.bonus import BonusInput, BonusWorkflow, Forfeit, workflow_id
from croupier.workflows.mines import MinesGameWorkflow, MinesView, RevealTile
from croupier.workflows.session import OpenMines, PlaceBet, PlayerSessionWorkflow
from tests.workflows.betting_helpers import fund, mine_tiles, start_session, update
from tests.workflows.conftest import Recorder

ETH = Currency.ETH
# 0.005 ETH credit, wagered once; at most 0.002 ETH converts to cash.
FREE_BET = Offer(
    code="free-bet",
    kind=BonusKind.FREE_BET,
    title="test free bet",
    welcome=False,
    multiple=1,
    expires_after_s=7 * 86400,
    amounts={"ETH": OfferAmounts("0.005", "0.003", "0.002")},
)
BONUS = 5 * 10**15
MAX_BET = 3 * 10**15
MAX_CONVERSION = 2 * 10**15
WEIGHTS = {"dice": 50, "limbo": 100, "mines": 80, "crash": 50}
OVER = {"target": "50.00", "direction": "over"}
UNDER = {"target": "50.00", "direction": "under"}


def _claim(engine: Engine, user_id: str) -> str:
    bonus = claim_bonus(
        engine,
        ClaimRequest(
            bonus_id=uuid.uuid4(),
            user_id=uuid.UUID(user_id),
            offer=FREE_BET,
            currency=ETH,
            claimed_at=datetime.now(UTC),
            cooldown=timedelta(0),
            game_weights=WEIGHTS,
        ),
    )
    return str(bonus.id)


async def _start_bonus(
    client: Client, task_queue: str, user_id: str, bonus_id: str
) -> WorkflowHandle[Any, Any]:
    handle = await client.start_workflow(
        BonusWorkflow.run,
        BonusInput(bonus_id=bonus_id, user_id=user_id, currency=ETH.value),
        id=workflow_id(bonus_id),
        task_queue=task_queue,
    )
    await _until(lambda view: view is not None and view.status == "active", handle)
    return handle


async def _until(predicate: Any, handle: WorkflowHandle[Any, Any]) -> BonusView:
    for _ in range(200):
        view = await handle.query(BonusWorkflow.progress)
        if predicate(view):
            assert view is not None
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bonus never reached the expected state: {view}")


@dataclass(frozen=True)
class Wagering:
    """A player whose free bet is active, and a session started after its grant (it
    reads the bonus from the database)."""

    user_id: str
    bonus_id: str
    bonus: WorkflowHandle[Any, Any]
    session: WorkflowHandle[Any, Any]


async def _wagering(
    env: WorkflowEnvironment, task_queue: str, settings: Settings, engine: Engine, cash: int
) -> Wagering:
    user_id = str(uuid.uuid4())
    bonus_id = _claim(engine, user_id)
    bonus = await _start_bonus(env.client, task_queue, user_id, bonus_id)
    _, session = await start_session(env.client, task_queue, settings, user_id=user_id)
    if cash:
        await fund(session, cash)
    return Wagering(user_id, bonus_id, bonus, session)


async def _bet(
    session: WorkflowHandle[Any, Any], amount: int, game: str = "dice", **params: Any
) -> BetResult:
    bet_id = str(uuid.uuid4())
    request = PlaceBet(bet_id, game, str(amount), params or OVER)
    result: BetResult = await update(session, PlayerSessionWorkflow.place_bet, request, bet_id)
    return result


def _balance(engine: Engine, user_id: str, kind: AccountKind) -> int:
    return balance(engine, player_account(engine, user_id, kind, ETH).id).posted


def _wagering_row(engine: Engine, bet_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(bonus_wagering).where(bonus_wagering.c.bet_id == uuid.UUID(bet_id))
        ).one()


async def _open_mines(
    client: Client, player: Wagering, settings: Settings, engine: Engine, amount: int
) -> tuple[MinesView, WorkflowHandle[Any, Any], list[int]]:
    """A one-mine game, its workflow and its safe tiles (peeked at, as a test may)."""
    bet_id = str(uuid.uuid4())
    request = OpenMines(bet_id, str(amount), 1)
    game: MinesView = await update(
        player.session, PlayerSessionWorkflow.open_mines, request, bet_id
    )
    seed = game.bet.seed
    mines = mine_tiles(engine, settings, seed.seed_pair_id, seed.client_seed, seed.nonce, 1)
    child = client.get_workflow_handle(f"mines-{bet_id}")
    return game, child, [tile for tile in range(25) if tile not in mines]


async def _reveal_and_cash_out(child: WorkflowHandle[Any, Any], tile: int) -> MinesView:
    await child.execute_update(MinesGameWorkflow.reveal, RevealTile(tile), id=str(uuid.uuid4()))
    ended: MinesView = await child.execute_update(MinesGameWorkflow.cash_out, id=str(uuid.uuid4()))
    return ended


def _contributions(engine: Engine, bonus_id: str) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(bonus_wagering.c.contribution)
            .where(bonus_wagering.c.bonus_id == uuid.UUID(bonus_id))
            .order_by(bonus_wagering.c.placed_at)
        )
        return [row.contribution for row in rows]


async def test_wagering_completes_at_exactly_the_requirement_and_converts_up_to_the_cap(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
    record_history: Recorder,
) -> None:
    promotions_before = balance(engine, system_account(engine, AccountKind.PROMOTIONS, ETH).id)
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 10**18)
    user_id, bonus_id, handle, session = (
        player.user_id,
        player.bonus_id,
        player.bonus,
        player.session,
    )

    for _ in range(4):  # dice counts half: 4 x 1e15
        await _bet(session, 2 * 10**15)
    await _bet(session, 10**15 - 1, "limbo", target="2.00")  # limbo counts fully
    before_last = await handle.query(BonusWorkflow.progress)
    await _bet(session, 2, **UNDER)  # the last minor unit, on the other game
    released: BonusView = await handle.result()

    assert before_last is not None
    assert before_last.status == "active" and int(before_last.wagered) == BONUS - 1
    assert _contributions(engine, bonus_id) == [10**15] * 4 + [10**15 - 1, 1]
    assert (released.status, int(released.wagered)) == ("released", BONUS)
    # Cash paid every stake, so the whole bonus was left; the cap decides the split.
    assert (int(released.released or 0), int(released.returned or 0)) == (
        MAX_CONVERSION,
        BONUS - MAX_CONVERSION,
    )
    assert _balance(engine, user_id, AccountKind.PLAYER_BONUS) == 0
    promotions = balance(engine, system_account(engine, AccountKind.PROMOTIONS, ETH).id)
    # Promotions paid the faucet's cash and, net, the converted part of the bonus.
    assert promotions.posted - promotions_before.posted == 10**18 + MAX_CONVERSION
    await record_history(handle, "released")
    await record_history(session, "bonus-wagered")


async def test_a_running_session_learns_the_bonus_and_refuses_bets_above_its_max(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
) -> None:
    client = time_skipping_env.client
    user_id, session = await start_session(client, time_skipping_worker, settings)
    await fund(session, 10**18)
    await _bet(session, MAX_BET + 1)  # no bonus yet: only the table maximum applies
    handle = await _start_bonus(client, time_skipping_worker, user_id, _claim(engine, user_id))
    await _until_signalled(handle)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _bet(session, MAX_BET + 1)
    accepted = await _bet(session, MAX_BET)

    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "bonus_max_bet_exceeded"
    assert accepted.wagering is not None and int(accepted.wagering.wagered) == MAX_BET // 2


async def test_the_other_side_of_an_even_bet_does_not_count(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
) -> None:
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 10**18)
    session, bonus_id = player.session, player.bonus_id

    await _bet(session, 10**12, **OVER)
    await _bet(session, 10**12, **UNDER)
    await _bet(session, 10**12, **OVER)
    await _bet(session, 10**12, "dice", target="90.00", direction="over")

    # Over 50, under 50, over 50 alternate: only the first counts; over 90 after
    # over 50 is no hedge.
    assert _contributions(engine, bonus_id) == [5 * 10**11, 0, 0, 5 * 10**11]


async def test_bets_spend_cash_first_then_bonus_and_wins_return_pro_rata(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
) -> None:
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 10**15)
    session, user_id = player.session, player.user_id

    # 1e15 from cash, 2e15 from bonus; limbo 1.01x wins almost always.
    result = await _bet(session, 3 * 10**15, "limbo", target="1.01")

    with engine.connect() as conn:
        row = conn.execute(
            select(bonus_wagering).where(bonus_wagering.c.bet_id == uuid.UUID(result.bet_id))
        ).one()
    payout = int(result.payout or 0)
    assert (row.stake, row.stake_bonus, row.payout) == (3 * 10**15, 2 * 10**15, payout)
    assert row.payout_bonus == payout * 2 // 3
    assert _balance(engine, user_id, AccountKind.PLAYER_CASH) == payout - row.payout_bonus
    assert _balance(engine, user_id, AccountKind.PLAYER_BONUS) == (
        BONUS - 2 * 10**15 + row.payout_bonus
    )


async def test_a_forfeited_bonus_returns_what_is_left_to_promotions(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 0)
    user_id, handle = player.user_id, player.bonus
    lost = await _bet(player.session, 10**15, "limbo", target="1000000.00")  # bonus only; lost

    await handle.signal(BonusWorkflow.forfeit, Forfeit("cancelled"))
    forfeited: BonusView = await handle.result()

    assert lost.payout == "0"
    assert (forfeited.status, forfeited.returned) == ("forfeited", str(BONUS - 10**15))
    assert _balance(engine, user_id, AccountKind.PLAYER_BONUS) == 0
    await record_history(handle, "forfeited")


async def test_a_mines_game_stakes_bonus_once_cash_runs_out_and_counts_when_it_ends(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 10**15)
    user_id = player.user_id

    # 1e15 from cash, 2e15 from bonus, taken when the game opens.
    game, child, safe = await _open_mines(
        time_skipping_env.client, player, settings, engine, 3 * 10**15
    )
    staked = _wagering_row(engine, game.bet_id)
    cash_at_open = _balance(engine, user_id, AccountKind.PLAYER_CASH)
    bonus_at_open = _balance(engine, user_id, AccountKind.PLAYER_BONUS)
    ended = await _reveal_and_cash_out(child, safe[0])

    assert (staked.stake_bonus, staked.contribution, staked.settled_at) == (2 * 10**15, 0, None)
    assert (cash_at_open, bonus_at_open) == (0, BONUS - 2 * 10**15)
    settled = _wagering_row(engine, game.bet_id)
    payout = int(ended.bet.payout or 0)
    assert ended.status == "won" and payout > 3 * 10**15
    assert (settled.payout, settled.payout_bonus) == (payout, payout * 2 // 3)
    assert settled.contribution == 3 * 10**15 * WEIGHTS["mines"] // 100
    assert _balance(engine, user_id, AccountKind.PLAYER_CASH) == payout - payout * 2 // 3
    assert _balance(engine, user_id, AccountKind.PLAYER_BONUS) == bonus_at_open + payout * 2 // 3
    # The game told the bonus's workflow, as a session does after a bet.
    view = await _until(lambda v: v.wagered == str(settled.contribution), player.bonus)
    assert view.status == "active"
    await record_history(child, "bonus-cash-out")


async def test_a_mine_under_a_bonus_counts_and_pays_nothing(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
) -> None:
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 0)
    game, child, safe = await _open_mines(
        time_skipping_env.client, player, settings, engine, 10**15
    )
    mine = next(tile for tile in range(25) if tile not in safe)

    lost: MinesView = await child.execute_update(
        MinesGameWorkflow.reveal, RevealTile(mine), id=str(uuid.uuid4())
    )

    row = _wagering_row(engine, game.bet_id)
    assert lost.status == "lost"
    assert (row.stake_bonus, row.payout, row.contribution) == (10**15, 0, 10**15 * 80 // 100)
    assert _balance(engine, player.user_id, AccountKind.PLAYER_BONUS) == BONUS - 10**15
    await _until(lambda v: v.wagered == str(row.contribution), player.bonus)


async def test_a_bonus_that_ends_while_a_game_is_in_play_takes_no_share_of_its_win(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
) -> None:
    player = await _wagering(time_skipping_env, time_skipping_worker, settings, engine, 10**15)
    game, child, safe = await _open_mines(
        time_skipping_env.client, player, settings, engine, 3 * 10**15
    )
    await player.bonus.signal(BonusWorkflow.forfeit, Forfeit("cancelled"))
    forfeited: BonusView = await player.bonus.result()

    ended = await _reveal_and_cash_out(child, safe[0])

    payout = int(ended.bet.payout or 0)
    row = _wagering_row(engine, game.bet_id)
    assert forfeited.returned == str(BONUS - 2 * 10**15)  # the staked part was in play
    assert (row.payout_bonus, row.contribution) == (payout * 2 // 3, 0)
    assert _balance(engine, player.user_id, AccountKind.PLAYER_BONUS) == 0
    assert _balance(engine, player.user_id, AccountKind.PLAYER_CASH) == payout - payout * 2 // 3
    with engine.connect() as conn:
        share = conn.execute(
            select(transfers.c.credit_account_id, transfers.c.amount).where(
                transfers.c.id == f"bet-{game.bet_id}-payout-bonus"
            )
        ).one()
    promotions = system_account(engine, AccountKind.PROMOTIONS, ETH)
    assert (share.credit_account_id, share.amount) == (promotions.id, payout * 2 // 3)


# Last in the module: it moves the time-skipping server's clock a week on, past the
# month the bets partitions were made for.
async def test_an_unwagered_bonus_expires_on_its_timer_and_returns_to_promotions(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    user_id = str(uuid.uuid4())
    handle = await _start_bonus(
        time_skipping_env.client, time_skipping_worker, user_id, _claim(engine, user_id)
    )
    granted = _balance(engine, user_id, AccountKind.PLAYER_BONUS)

    expired: BonusView = await handle.result()  # the server skips the 7 days

    assert granted == BONUS
    assert (expired.status, expired.released, expired.returned) == ("expired", "0", str(BONUS))
    assert _balance(engine, user_id, AccountKind.PLAYER_BONUS) == 0
    await record_history(handle, "expired")


async def _until_signalled(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the bonus workflow has told the session (its signal was delivered)."""
    signalled = EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
    for _ in range(200):
        if any([e async for e in handle.fetch_history_events() if e.event_type == signalled]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bonus workflow never signalled the session")
