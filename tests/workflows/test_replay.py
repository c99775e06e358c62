"""Every recorded history replays against today's workflow code.

A change that alters the commands a workflow issues for the same history would break
running workflows in production; this test turns that into a red build instead.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from bench.noop import NoopEntityWorkflow
from croupier.workers import registry
from croupier.workflows.client import DATA_CONVERTER
from tests.workflows.conftest import HISTORIES


def _history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def _workflow_type(path: Path) -> str:
    return path.name.split("-", 1)[0]


# Not registered on production workers, but run by bench.bets: it replays too.
BENCH_WORKFLOWS: list[type] = [NoopEntityWorkflow]


def _registered_types() -> set[str]:
    names = set()
    for workflow_class in registry.workflows() + BENCH_WORKFLOWS:
        definition = getattr(workflow_class, "__temporal_workflow_definition")
        names.add(definition.name)
    return names


def test_every_registered_workflow_has_a_recorded_history() -> None:
    recorded = {_workflow_type(path) for path in _history_files()}
    missing = _registered_types() - recorded
    assert not missing, f"record a history (pytest --record-histories) for: {sorted(missing)}"


@pytest.mark.parametrize("path", _history_files(), ids=lambda path: path.stem)
async def test_recorded_history_replays_deterministically(path: Path) -> None:
    async def one() -> AsyncIterator[WorkflowHistory]:
        yield WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))

    replayer = Replayer(
        workflows=registry.workflows() + BENCH_WORKFLOWS, data_converter=DATA_CONVERTER
    )
    results = await replayer.replay_workflows(one(), raise_on_replay_failure=False)
    failures = {run_id: str(error) for run_id, error in results.replay_failures.items()}
    assert failures == {}
