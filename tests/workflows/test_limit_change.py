"""Loosening a responsible-gambling limit waits out its 24 hours on a durable timer."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from croupier.compliance.limit_changes import ChangeStatus, LimitChange, request_limit_change
from croupier.compliance.limits import LimitKey, LimitKind, Period, limits_in_force
from croupier.core.money import Currency
from croupier.workflows.limit_change import (
    LimitChangeInput,
    LimitChangeResult,
    LimitChangeWorkflow,
    workflow_id,
)
from tests.integration.compliance.people import make_user
from tests.workflows.conftest import Recorder

DELAY = timedelta(hours=24)
DAILY_LOSS = LimitKey(LimitKind.LOSS, Currency.USDT, Period.DAILY)


async def change(
    env: WorkflowEnvironment, engine: Engine, player: uuid.UUID, value: int | None
) -> LimitChange:
    """Request a change at the test server's time (earlier tests may have skipped it on)."""
    now = await env.get_current_time()
    return request_limit_change(engine, player, DAILY_LOSS, value, now=now, increase_delay=DELAY)


def in_force(engine: Engine, player: uuid.UUID) -> int | None:
    with engine.connect() as conn:
        return limits_in_force(conn, player).get(DAILY_LOSS)


async def start(
    env: WorkflowEnvironment, queue: str, pending: LimitChange
) -> WorkflowHandle[LimitChangeWorkflow, LimitChangeResult]:
    return await env.client.start_workflow(
        LimitChangeWorkflow.run,
        LimitChangeInput(
            change_id=str(pending.id),
            user_id=str(pending.user_id),
            limit_key=pending.key.render(),
            effective_at=pending.effective_at,
        ),
        id=workflow_id(str(pending.id)),
        task_queue=queue,
    )


async def test_a_raised_limit_takes_effect_only_after_24_hours(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = make_user(engine)
    await change(time_skipping_env, engine, player, 100)
    pending = await change(time_skipping_env, engine, player, 500)

    handle = await start(time_skipping_env, time_skipping_worker, pending)
    await time_skipping_env.sleep(DELAY - timedelta(minutes=5))
    before = in_force(engine, player)
    result = await handle.result()

    assert pending.status is ChangeStatus.PENDING
    assert pending.effective_at - pending.requested_at == DELAY
    assert before == 100
    assert result.status == "applied"
    assert in_force(engine, player) == 500
    await record_history(handle, "applied")


async def test_a_limit_lowered_during_the_wait_is_not_raised_afterwards(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = make_user(engine)
    await change(time_skipping_env, engine, player, 100)
    pending = await change(time_skipping_env, engine, player, None)
    handle = await start(time_skipping_env, time_skipping_worker, pending)

    lowered = await change(time_skipping_env, engine, player, 50)
    result = await handle.result()

    assert lowered.status is ChangeStatus.APPLIED
    assert result.status == "superseded"
    assert in_force(engine, player) == 50
    await record_history(handle, "superseded")
