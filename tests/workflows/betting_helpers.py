"""Driving session and mines workflows directly on the time-skipping server.

The test server has no update-with-start, so these helpers start the session, then
send updates to it by id, retrying an update the server aborted because the session
was continuing as new (the same update id makes the retry safe).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from croupier.betting.sealing import sealer_from_settings
from croupier.betting.tables import seed_pairs
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.games.mines import tile_order
from croupier.games.rng import float_words
from croupier.workflows.session import (
    DevCredit,
    PlayerSessionWorkflow,
    SessionConfig,
    SessionInput,
    session_workflow_id,
)

ResultT = TypeVar("ResultT")
MAX_UPDATE_ATTEMPTS = 5


async def start_session(
    client: Client,
    task_queue: str,
    settings: Settings,
    *,
    user_id: str | None = None,
    **config: Any,
) -> tuple[str, WorkflowHandle[Any, Any]]:
    """A session of ``user_id`` (a new player by default); ``config`` overrides the
    settings' rules. Returns the player id and the handle."""
    user_id = user_id or str(uuid.uuid4())
    rules = replace(SessionConfig.from_settings(settings, Currency.ETH), **config)
    handle = await client.start_workflow(
        PlayerSessionWorkflow.run,
        SessionInput(user_id=user_id, currency="ETH", config=rules),
        id=session_workflow_id(user_id, "ETH"),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return user_id, handle


async def update(
    handle: WorkflowHandle[Any, Any], method: Callable[..., Any], argument: Any, update_id: str
) -> Any:
    """Send an update by workflow id, again if a continue-as-new aborted it."""
    for attempt in range(1, MAX_UPDATE_ATTEMPTS + 1):
        try:
            arguments = [] if argument is None else [argument]
            return await handle.execute_update(method, args=arguments, id=update_id)
        except RPCError as error:
            if "aborted" not in error.message or attempt == MAX_UPDATE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def fund(handle: WorkflowHandle[Any, Any], amount_wei: int) -> None:
    credit_id = str(uuid.uuid4())
    await update(
        handle, PlayerSessionWorkflow.dev_credit, DevCredit(credit_id, str(amount_wei)), credit_id
    )


def mine_tiles(
    engine: Engine, settings: Settings, seed_pair_id: str, client_seed: str, nonce: int, mines: int
) -> set[int]:
    """Where the mines of a game are: what only the settlement knows (a test may peek)."""
    pair_id = uuid.UUID(seed_pair_id)
    with engine.connect() as conn:
        sealed = conn.execute(
            select(seed_pairs.c.server_seed_sealed).where(seed_pairs.c.id == pair_id)
        ).scalar_one()
    server_seed = sealer_from_settings(settings).unseal(pair_id, sealed)
    return set(tile_order(float_words(server_seed, client_seed, nonce, mines)))
