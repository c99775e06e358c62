"""The yardstick of ``bench.bets`` answers its updates as the bench relies on: plain, it
echoes the sequence; started with ``local_activity``, it echoes it through one local
activity per update."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import pytest_asyncio
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.noop import NoopEntityWorkflow, nothing
from tests.workflows.conftest import Recorder

YARDSTICK_QUEUE = "bench-yardsticks"


@pytest_asyncio.fixture(loop_scope="session")
async def yardstick_worker(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[str]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue=YARDSTICK_QUEUE,
            workflows=[NoopEntityWorkflow],
            activities=[nothing],
            activity_executor=executor,
        ):
            yield YARDSTICK_QUEUE


@pytest.mark.parametrize(
    ("local_activity", "scenario"), [(False, "updated"), (True, "updated-by-local-activity")]
)
async def test_the_yardstick_answers_each_update_with_its_sequence(
    time_skipping_env: WorkflowEnvironment,
    yardstick_worker: str,
    record_history: Recorder,
    local_activity: bool,
    scenario: str,
) -> None:
    workflow_id = f"yardstick-{uuid.uuid4()}"
    answers = []
    for sequence in (7, 8, 9):
        start = WithStartWorkflowOperation(
            NoopEntityWorkflow.run,
            local_activity,
            id=workflow_id,
            task_queue=yardstick_worker,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        answers.append(
            await time_skipping_env.client.execute_update_with_start_workflow(
                NoopEntityWorkflow.noop, sequence, start_workflow_operation=start
            )
        )

    assert answers == [7, 8, 9]
    handle = time_skipping_env.client.get_workflow_handle(workflow_id)
    history = await handle.fetch_history()
    assert sum(
        1 for event in history.events if event.HasField("marker_recorded_event_attributes")
    ) == (3 if local_activity else 0)
    await record_history(handle, scenario)
    await handle.terminate("the yardstick test is done")
