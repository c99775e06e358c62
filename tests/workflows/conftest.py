"""Workflow-test helpers: a worker on the time-skipping server and history recording.

Run ``pytest tests/workflows --record-histories`` after changing a workflow on purpose;
the replay test then guards the new histories against accidental non-determinism.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from croupier.core.settings import Settings
from croupier.workers import registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker

HISTORIES = Path(__file__).parent / "histories"
TIME_SKIPPING_QUEUE = "time-skipping"

Recorder = Callable[[WorkflowHandle[object, object], str], Awaitable[None]]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-histories",
        action="store_true",
        help="write the histories of workflow tests to tests/workflows/histories/",
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping_worker(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> AsyncIterator[str]:
    """A worker with every registered workflow and activity on the time-skipping server."""
    deps = registry.WorkerDeps(settings=settings, engine=engine, temporal=time_skipping_env.client)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(time_skipping_env.client, TIME_SKIPPING_QUEUE, deps, executor)
        async with worker:
            yield TIME_SKIPPING_QUEUE


@pytest.fixture
def record_history(request: pytest.FixtureRequest) -> Recorder:
    """Save a finished workflow's history as ``<WorkflowType>-<scenario>.json`` when asked."""

    async def record(handle: WorkflowHandle[object, object], scenario: str) -> None:
        if not request.config.getoption("--record-histories"):
            return
        description = await handle.describe()
        history = await handle.fetch_history()
        path = HISTORIES / f"{description.workflow_type}-{scenario}.json"
        path.write_text(history.to_json() + "\n")

    return record
