"""The yardstick of ``bench.bets``: an entity workflow whose only Update does nothing.

An update on it costs exactly what Temporal and the SDK charge for an update (a
workflow task, an accepted and a completed event), so its rate is the most updates per
second this server and worker can take; a bet costs that plus the settlement.
Its own module, importing nothing heavy. It runs outside the workflow sandbox exactly
as ``PlayerSession`` does, so the yardstick pays the same SDK costs per update as the
bets it measures (a sandboxed no-op would be slower than the engine allows, and
flatter the ratio).
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchNoopEntity", sandboxed=False)
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
