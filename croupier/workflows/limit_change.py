"""Limit change: a loosened responsible-gambling limit takes effect after its delay.

The API records the request (``croupier.compliance.limit_changes``); a stricter value
is in force at once and needs no workflow. A looser one is pending with an
``effective_at`` at least 24 hours away, and this workflow's durable timer puts it in
force then, unless a later request superseded it meanwhile (the activity then leaves
it alone).

Workflow id: ``limit-change-<change id>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.compliance import ComplianceActivities, LimitChangeRef
    from croupier.core.ids import business_key
    from croupier.workflows import search_attributes as attributes

FLOW = "limit-change"
# Timers are kept at millisecond precision; waking a moment late is harmless, early is not.
_MARGIN = timedelta(seconds=1)


def workflow_id(change_id: str) -> str:
    return business_key("limit-change", change_id)


@dataclass(frozen=True)
class LimitChangeInput:
    change_id: str
    user_id: str
    limit_key: str
    effective_at: datetime


@dataclass(frozen=True)
class LimitChangeResult:
    change_id: str
    # applied | superseded
    status: str


@workflow.defn(name="LimitChange")
class LimitChangeWorkflow:
    @workflow.run
    async def run(self, request: LimitChangeInput) -> LimitChangeResult:
        workflow.upsert_search_attributes(
            [
                attributes.PLAYER_ID.value_set(request.user_id),
                attributes.FLOW.value_set(FLOW),
                attributes.STATUS.value_set("waiting"),
            ]
        )
        workflow.set_current_details(
            f"{request.limit_key} loosens at {request.effective_at.isoformat()}"
        )
        delay = request.effective_at - workflow.now()
        if delay > timedelta(0):
            await workflow.sleep(delay + _MARGIN)
        status = await workflow.execute_activity_method(
            ComplianceActivities.apply_limit_change,
            LimitChangeRef(request.change_id, applied_at=workflow.now()),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
            ),
        )
        workflow.upsert_search_attributes([attributes.STATUS.value_set(status)])
        workflow.set_current_details(f"{request.limit_key}: {status}")
        return LimitChangeResult(change_id=request.change_id, status=status)
