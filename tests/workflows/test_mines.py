"""A mines game as a child workflow: moves as updates, and the inactivity timeout as a
durable timer, skipped through on the time-skipping server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from croupier.betting.bets import get_bet
from croupier.core.settings import Settings
from croupier.workflows.mines import MinesGameWorkflow, MinesView, RevealTile
from croupier.workflows.session import OpenMines, PlayerSessionWorkflow
from tests.workflows.betting_helpers import fund, mine_tiles, start_session, update
from tests.workflows.conftest import Recorder

STAKE_WEI = 10**15
MINES = 3
TIMEOUT_S = 600
INACTIVE = timedelta(seconds=TIMEOUT_S + 1)


async def _open_game(
    env: WorkflowEnvironment, queue: str, settings: Settings
) -> tuple[MinesView, object]:
    _, session = await start_session(env.client, queue, settings, mines_timeout_s=TIMEOUT_S)
    await fund(session, 10**18)
    bet_id = str(uuid.uuid4())
    opened = await update(
        session, PlayerSessionWorkflow.open_mines, OpenMines(bet_id, str(STAKE_WEI), MINES), bet_id
    )
    return opened, session


def _safe_tiles(engine: Engine, settings: Settings, game: MinesView) -> list[int]:
    seed = game.bet.seed
    mines = mine_tiles(engine, settings, seed.seed_pair_id, seed.client_seed, seed.nonce, MINES)
    return [tile for tile in range(25) if tile not in mines]


async def test_an_abandoned_game_with_a_safe_reveal_cashes_out_at_the_timeout(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
    record_history: Recorder,
) -> None:
    game, session = await _open_game(time_skipping_env, time_skipping_worker, settings)
    child = time_skipping_env.client.get_workflow_handle_for(
        MinesGameWorkflow.run, f"mines-{game.bet_id}"
    )
    safe = _safe_tiles(engine, settings, game)
    after_two = None
    for tile in safe[:2]:
        after_two = await child.execute_update(
            MinesGameWorkflow.reveal, RevealTile(tile), id=str(uuid.uuid4())
        )
    assert after_two is not None and after_two.status == "playing"

    await time_skipping_env.sleep(INACTIVE)  # no move: the durable timer fires
    ended = await child.result()

    assert (ended.status, ended.ended_by, ended.picks) == ("won", "timeout", tuple(safe[:2]))
    assert ended.multiplier == after_two.multiplier
    stored = get_bet(engine, uuid.UUID(game.bet_id))
    assert stored.payout == STAKE_WEI * stored.multiplier.numerator // stored.multiplier.denominator
    assert set(stored.outcome["mines"]) == set(range(25)) - set(safe)
    fairness = await session.query(PlayerSessionWorkflow.fairness)
    assert fairness.open_mines == ()
    await record_history(child, "timeout-cash-out")


async def test_an_untouched_game_is_lost_at_the_timeout(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
) -> None:
    game, _ = await _open_game(time_skipping_env, time_skipping_worker, settings)
    child = time_skipping_env.client.get_workflow_handle_for(
        MinesGameWorkflow.run, f"mines-{game.bet_id}"
    )

    await time_skipping_env.sleep(INACTIVE)  # no move: the durable timer fires
    ended = await child.result()

    assert (ended.status, ended.ended_by, ended.picks) == ("lost", "timeout", ())
    stored = get_bet(engine, uuid.UUID(game.bet_id))
    assert (stored.status, stored.payout, stored.multiplier) == ("settled", 0, 0)
    assert len(stored.outcome["mines"]) == MINES


async def test_a_mine_ends_the_game_lost_and_later_moves_are_refused(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    engine: Engine,
    record_history: Recorder,
) -> None:
    game, _ = await _open_game(time_skipping_env, time_skipping_worker, settings)
    child = time_skipping_env.client.get_workflow_handle_for(
        MinesGameWorkflow.run, f"mines-{game.bet_id}"
    )
    mine = min(set(range(25)) - set(_safe_tiles(engine, settings, game)))

    busted = await child.execute_update(
        MinesGameWorkflow.reveal, RevealTile(mine), id=str(uuid.uuid4())
    )

    assert (busted.status, busted.ended_by, busted.multiplier) == ("lost", "mine", "0")
    assert mine in busted.bet.outcome["mines"]
    try:
        await child.execute_update(MinesGameWorkflow.cash_out, id=str(uuid.uuid4()))
    except WorkflowUpdateFailedError as error:
        assert isinstance(error.cause, ApplicationError)
        assert error.cause.type == "mines_game_over"
    else:
        raise AssertionError("a lost game cannot be cashed out")
    ended = await child.result()
    assert ended.status == "lost"
    await record_history(child, "mine")
