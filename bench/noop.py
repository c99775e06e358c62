"""The yardstick of ``bench.bets``: an entity workflow whose only Update does nothing.

An update on it costs exactly what Temporal and the SDK charge for an update (a
workflow task, an accepted and a completed event), so its rate is the most updates per
second this server and worker can take; a bet costs that plus the settlement.
Its own module: the workflow sandbox re-imports it, and it imports nothing heavy.
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchNoopEntity")
class NoopEntityWorkflow:
    def __init__(self) -> None:
        self._updates = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: False)
        return self._updates

    @workflow.update
    async def noop(self, sequence: int) -> int:
        self._updates += 1
        return sequence
