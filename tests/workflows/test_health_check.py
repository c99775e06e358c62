"""HealthCheck on the time-skipping server: the harness every workflow test uses."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from croupier.workflows.health import HealthCheckInput, HealthCheckWorkflow
from tests.workflows.conftest import Recorder


async def test_health_check_round_trips_through_a_worker(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, record_history: Recorder
) -> None:
    handle = await time_skipping_env.client.start_workflow(
        HealthCheckWorkflow.run,
        HealthCheckInput(requested_by="workflow-test"),
        id="health-check-workflow-test",
        task_queue=time_skipping_worker,
    )
    result = await handle.result()

    assert result.worker_reached
    assert result.requested_by == "workflow-test"
    assert result.database.database.startswith("croupier_test_")
    await record_history(handle, "ok")
