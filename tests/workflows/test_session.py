"""The player session on the time-skipping server: bets as validated updates, nonces
that are never reused, continue-as-new, the idle end and a restart from the database."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from croupier.activities.betting import BetResult
from croupier.core.settings import Settings
from croupier.games.seeds import hash_server_seed
from croupier.workflows.session import PlaceBet, PlayerSessionWorkflow, RotateSeeds
from tests.workflows.betting_helpers import fund, start_session, update
from tests.workflows.conftest import HISTORIES, Recorder

STAKE = "1000"
DICE = {"target": "50.00", "direction": "over"}


async def _bet(
    handle: WorkflowHandle[Any, Any], amount: str = STAKE, game: str = "dice", **params: Any
) -> BetResult:
    bet_id = str(uuid.uuid4())
    request = PlaceBet(bet_id, game, amount, params or DICE)
    result: BetResult = await update(handle, PlayerSessionWorkflow.place_bet, request, bet_id)
    return result


async def _refusal(handle: WorkflowHandle[Any, Any], **bet: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _bet(handle, **bet)
    assert isinstance(refused.value.cause, ApplicationError)
    return str(refused.value.cause.type)


def _first_run(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]
) -> WorkflowHandle[Any, Any]:
    return env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)


async def _events(handle: WorkflowHandle[Any, Any], event_type: int) -> int:
    return len([e async for e in handle.fetch_history_events() if e.event_type == event_type])


async def test_bets_carry_on_across_continue_as_new_with_every_update_answered(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    record_history: Recorder,
) -> None:
    _, handle = await start_session(
        time_skipping_env.client, time_skipping_worker, settings, continue_as_new_bets=10
    )
    await fund(handle, 10**9)

    results: list[BetResult] = []
    for _ in range(7):  # waves of concurrent bets that straddle each continue-as-new
        results += await asyncio.gather(*(_bet(handle) for _ in range(5)))

    assert sorted(result.seed.nonce for result in results) == list(range(35))
    assert len({result.seed.seed_pair_id for result in results}) == 1
    first_run = _first_run(time_skipping_env, handle)
    assert await _events(first_run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW) == 1
    latest = time_skipping_env.client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != first_run.run_id
    fairness = await latest.query(PlayerSessionWorkflow.fairness)
    assert fairness.seeds.nonce == 35
    await record_history(first_run, "continue-as-new")


async def test_the_validator_refuses_bad_bets_before_they_enter_history(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, settings: Settings
) -> None:
    _, handle = await start_session(
        time_skipping_env.client,
        time_skipping_worker,
        settings,
        max_bet="5000",
        games_enabled=("dice", "mines"),
    )
    await fund(handle, 10**6)
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    accepted_before = await _events(handle, accepted)

    assert await _refusal(handle, amount="0") == "invalid_amount"
    assert await _refusal(handle, amount="-5") == "invalid_amount"
    assert await _refusal(handle, amount="5001") == "bet_above_maximum"
    assert await _refusal(handle, game="limbo", target="2") == "game_disabled"
    assert await _refusal(handle, game="roulette", number="7") == "unknown_game"
    assert await _refusal(handle, game="crash", target="2") == "unknown_game"
    assert await _refusal(handle, game="mines", mines="3") == "invalid_bet"
    assert await _refusal(handle, target="50.00") == "invalid_bet"
    assert await _refusal(handle, target="50.00", direction="sideways") == "invalid_bet"

    assert await _events(handle, accepted) == accepted_before
    assert (await _bet(handle, amount="5000")).seed.nonce == 0


async def test_a_refused_bet_leaves_its_nonce_to_the_next_bet(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, settings: Settings
) -> None:
    _, handle = await start_session(time_skipping_env.client, time_skipping_worker, settings)
    await fund(handle, 1500)
    first = await _bet(handle, amount="1000")

    assert await _refusal(handle, amount=str(1500 - 1000 + int(first.payout or 0) + 1)) == (
        "insufficient_funds"
    )
    after = await _bet(handle, amount="1")

    assert (first.seed.nonce, after.seed.nonce) == (0, 1)


async def test_a_bet_retried_after_continue_as_new_returns_the_stored_bet(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, settings: Settings
) -> None:
    _, handle = await start_session(
        time_skipping_env.client, time_skipping_worker, settings, continue_as_new_bets=10
    )
    await fund(handle, 10**6)
    bet_id = str(uuid.uuid4())
    request = PlaceBet(bet_id, "limbo", STAKE, {"target": "2.00"})
    first = await update(handle, PlayerSessionWorkflow.place_bet, request, bet_id)
    same_run = await update(handle, PlayerSessionWorkflow.place_bet, request, bet_id)
    for _ in range(10):
        await _bet(handle)
    latest = time_skipping_env.client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != _first_run(time_skipping_env, handle).run_id

    # Temporal dedupes update ids within a run only; the settlement finds the bet.
    next_run = await update(latest, PlayerSessionWorkflow.place_bet, request, bet_id)

    assert first == same_run == next_run
    assert (await _bet(latest)).seed.nonce == 11


async def test_an_idle_session_ends_and_a_new_one_resumes_from_the_database(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    settings: Settings,
    record_history: Recorder,
) -> None:
    idle_s = 600
    client = time_skipping_env.client
    user_id, handle = await start_session(
        client, time_skipping_worker, settings, idle_timeout_s=idle_s
    )
    await fund(handle, 10**6)
    for _ in range(3):
        await _bet(handle)
    rotation_id = str(uuid.uuid4())
    rotated = await update(
        handle, PlayerSessionWorkflow.rotate_seeds, RotateSeeds(rotation_id, "mine-1"), rotation_id
    )
    last = await _bet(handle)

    await time_skipping_env.sleep(timedelta(seconds=idle_s + 1))
    summary = await handle.result()

    assert rotated.revealed.bets == 3
    assert last.seed.seed_pair_id == rotated.active.seed_pair_id
    assert (summary.bets_settled, summary.seeds) == (4, last.seed.advanced())
    await record_history(handle, "idle-end")
    _, restarted = await start_session(client, time_skipping_worker, settings, user_id=user_id)
    fairness = await update(
        restarted, PlayerSessionWorkflow.current_fairness, None, str(uuid.uuid4())
    )
    assert fairness.seeds == last.seed.advanced()


def test_recorded_histories_never_hold_a_server_seed_before_its_reveal() -> None:
    """Every 64-hex string in a payload whose sha256 is a hash a player was shown must
    be a seed revealed by a rotation; an active pair's seed never reaches a workflow."""
    for path in sorted(HISTORIES.glob("*.json")):
        if not path.name.startswith(("PlayerSession-", "MinesGame-")):
            continue
        texts = list(_payload_texts(json.loads(path.read_text())))
        shown = {
            h for text in texts for h in re.findall(r'"server_seed_hash":\s*"([0-9a-f]{64})"', text)
        }
        revealed = {
            s for text in texts for s in re.findall(r'"server_seed":\s*"([0-9a-f]{64})"', text)
        }
        candidates = {c for text in texts for c in re.findall(r"[0-9a-f]{64}", text)}
        leaked = {c for c in candidates if hash_server_seed(c) in shown} - revealed
        assert shown and not leaked, path.name


def _payload_texts(node: Any) -> Iterator[str]:
    """The decoded data of every payload in a history (JSON payloads are base64)."""
    if isinstance(node, dict):
        if "data" in node and "metadata" in node and isinstance(node["data"], str):
            yield base64.b64decode(node["data"]).decode("utf-8", "replace")
        for value in node.values():
            yield from _payload_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _payload_texts(item)
