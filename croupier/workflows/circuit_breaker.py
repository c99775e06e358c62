"""Telling parked withdrawal workflows that the circuit breaker was resumed.

A withdrawal workflow that finds auto-approval paused sets ``CroupierFlow = withdrawal``
and ``CroupierStatus = paused_by_circuit_breaker`` and waits for a compliance decision
or for ``BREAKER_RESUMED_SIGNAL``. The resume route calls ``signal_paused_withdrawals``
after the breaker is closed in the database, which stays the source of truth: visibility
is eventually consistent, so parked workflows also re-check ``approvals_paused`` on a
timer and never depend on this signal alone.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from croupier.monitoring.breaker import BREAKER_RESUMED_SIGNAL, PAUSED_STATUS, BreakerResumed
from croupier.workflows import search_attributes as keys

WITHDRAWAL_FLOW = "withdrawal"
# Signals sent at once; a mass withdrawal event can park thousands.
SIGNAL_CONCURRENCY = 50
MAX_SIGNALLED = 100_000

PAUSED_WITHDRAWALS_QUERY = (
    f"{keys.FLOW.name} = '{WITHDRAWAL_FLOW}' AND {keys.STATUS.name} = '{PAUSED_STATUS}' "
    "AND ExecutionStatus = 'Running'"
)


async def signal_paused_withdrawals(client: Client, resumed: BreakerResumed) -> int:
    """Signal every parked withdrawal; returns how many were signalled."""
    gate = asyncio.Semaphore(SIGNAL_CONCURRENCY)

    async def signal(workflow_id: str) -> bool:
        async with gate:
            try:
                await client.get_workflow_handle(workflow_id).signal(
                    BREAKER_RESUMED_SIGNAL, resumed
                )
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    return False  # it finished since it was listed
                raise
            return True

    workflow_ids = [
        execution.id
        async for execution in client.list_workflows(PAUSED_WITHDRAWALS_QUERY, limit=MAX_SIGNALLED)
    ]
    results = await asyncio.gather(*(signal(workflow_id) for workflow_id in workflow_ids))
    return sum(results)
