"""A stand-in for a withdrawal parked by the circuit breaker, as the payments workflow
parks one: it sets the search attributes the resume route looks for and waits."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from croupier.monitoring.breaker import BREAKER_RESUMED_SIGNAL, PAUSED_STATUS, BreakerResumed
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.circuit_breaker import WITHDRAWAL_FLOW


@workflow.defn(name="TestParkedWithdrawal")
class ParkedWithdrawal:
    def __init__(self) -> None:
        self._resumed: BreakerResumed | None = None

    @workflow.run
    async def run(self) -> BreakerResumed:
        workflow.upsert_search_attributes(
            [keys.FLOW.value_set(WITHDRAWAL_FLOW), keys.STATUS.value_set(PAUSED_STATUS)]
        )
        await workflow.wait_condition(lambda: self._resumed is not None)
        assert self._resumed is not None
        return self._resumed

    @workflow.signal(name=BREAKER_RESUMED_SIGNAL)
    def resumed(self, resumed: BreakerResumed) -> None:
        self._resumed = resumed
