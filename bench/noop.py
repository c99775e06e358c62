"""The yardsticks of ``bench.bets``: entity workflows whose only Update does (almost)
nothing.

``NoopEntityWorkflow`` started plain: an update on it costs exactly what Temporal and
the SDK charge for an update (a workflow task, an accepted and a completed event), so
its rate is the most updates per second this server and worker can take; a bet costs
that plus the settlement.

Started with ``local_activity``: its update runs one local activity that does nothing,
in a thread as the settlement does. Its rate is the most a bet could reach if settling
cost nothing: what the design (an update that runs a local activity) costs before any
database work, so the bench can say how much of the gap to the no-op is the design and
how much the settlement.

Its own module, importing nothing heavy. It runs outside the workflow sandbox
exactly as ``PlayerSession`` does, so the yardsticks pay the same SDK costs per update
as the bets they measure (a sandboxed no-op would be slower than the engine allows, and
flatter the ratio).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

LOCAL_ACTIVITY_TIMEOUT = timedelta(seconds=30)


@activity.defn(name="bench_nothing")
def nothing(sequence: int) -> int:
    """Synchronous, so it is dispatched through the worker's thread pool like ``settle``."""
    return sequence


@workflow.defn(name="BenchNoopEntity", sandboxed=False)
class NoopEntityWorkflow:
    """Started with ``local_activity`` true, each update runs ``nothing`` as a local
    activity; otherwise it does nothing at all."""

    @workflow.init
    def __init__(self, local_activity: bool) -> None:
        self._local_activity = local_activity

    @workflow.run
    async def run(self, local_activity: bool) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update
    async def noop(self, sequence: int) -> int:
        if not self._local_activity:
            return sequence
        return await workflow.execute_local_activity(
            nothing, sequence, start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT
        )
