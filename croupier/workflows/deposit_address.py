"""Assign a player's deposit address: id ``deposit-address-<user>-<chain>``, short-lived.

Deriving an address needs the HD seed, which only workers hold; the API runs this once
per player and chain (later requests read the stored address directly).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.addresses import AddressActivities, AddressRequest, AssignedAddress
    from croupier.workflows import search_attributes as keys

FLOW = "deposit-address"


@workflow.defn(name="DepositAddress")
class DepositAddressWorkflow:
    @workflow.run
    async def run(self, request: AddressRequest) -> AssignedAddress:
        workflow.upsert_search_attributes(
            [keys.FLOW.value_set(FLOW), keys.PLAYER_ID.value_set(request.user_id)]
        )
        assigned: AssignedAddress = await workflow.execute_activity_method(
            AddressActivities.assign_deposit_address,
            request,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=10),
        )
        workflow.upsert_search_attributes([keys.STATUS.value_set("assigned")])
        return assigned
