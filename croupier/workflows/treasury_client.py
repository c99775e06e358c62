"""Talking to Refill workflows from outside (the API): raise, approve, submit, read.

A refusal comes back as the typed error the workflow raised (``refusals``), so the API
answers it as a 4xx; Temporal unreachable or slow is ``ServiceUnavailable`` (503), which
a client retries with the same ``Idempotency-Key`` (the refill id is derived from it).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from temporalio.client import (
    Client,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from croupier.core.money import Currency, format_decimal
from croupier.sweeps.errors import (
    RefillAlreadyApprovedBy,
    RefillNotAwaitingApproval,
    RefillNotAwaitingTransaction,
    RefillNotFound,
)
from croupier.sweeps.keys import refill_workflow_id
from croupier.sweeps.refills import RefillStatus
from croupier.workflows.refill import (
    RefillDecision,
    RefillInput,
    RefillTransactionSubmission,
    RefillView,
    RefillWorkflow,
)
from croupier.workflows.refusals import answered, typed_or_unavailable

DEFAULT_TIMEOUT_S = 30.0
T = TypeVar("T")
# A refill accepts approvals while being opened and while awaiting them.
_APPROVABLE = {"requested", RefillStatus.AWAITING_APPROVAL.value}


@dataclass(frozen=True)
class TreasuryClient:
    client: Client
    task_queue: str
    timeout_s: float = DEFAULT_TIMEOUT_S

    async def raise_refill(
        self,
        refill_id: uuid.UUID,
        staff_id: uuid.UUID,
        *,
        chain: str,
        currency: Currency,
        amount: int,
        reason: str,
    ) -> RefillView:
        """Start the refill (or find it) and wait until it is recorded or refused."""
        workflow_id = refill_workflow_id(refill_id)

        async def start() -> RefillView:
            try:
                handle = await self.client.start_workflow(
                    RefillWorkflow.run,
                    RefillInput(
                        refill_id=str(refill_id),
                        chain=chain,
                        currency=currency.value,
                        amount=str(amount),
                        requested_by=str(staff_id),
                        reason=reason,
                    ),
                    id=workflow_id,
                    task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=(
                        f"Refill of {format_decimal(amount, currency)} {currency} from cold, "
                        f"raised by {staff_id}"
                    ),
                )
            except WorkflowAlreadyStartedError:
                return await self._finished(workflow_id)
            return await handle.execute_update(RefillWorkflow.opened)

        return await self._guard(start)

    async def refill(self, refill_id: uuid.UUID) -> RefillView:
        handle = self.client.get_workflow_handle(refill_workflow_id(refill_id))
        return await self._guard(lambda: handle.query(RefillWorkflow.view))

    async def approve_refill(
        self, refill_id: uuid.UUID, staff_id: uuid.UUID, reason: str
    ) -> RefillView:
        """Send one treasury approval (the signal the Temporal CLI or UI would send). The
        same person approving twice is refused here; the workflow ignores it anyway."""
        handle = self.client.get_workflow_handle(refill_workflow_id(refill_id))
        view = await self._guard(lambda: handle.query(RefillWorkflow.view))
        if view.status not in _APPROVABLE:
            raise RefillNotAwaitingApproval(f"refill {refill_id} is {view.status}")
        if str(staff_id) in view.approvals:
            raise RefillAlreadyApprovedBy(
                f"you approved refill {refill_id} already; the second approval must come "
                "from another treasury staff member"
            )
        decision = RefillDecision(staff_id=str(staff_id), reason=reason)
        await self._guard(lambda: handle.signal(RefillWorkflow.approve, decision))
        return await self._guard(lambda: handle.query(RefillWorkflow.view))

    async def submit_transaction(
        self, refill_id: uuid.UUID, staff_id: uuid.UUID, tx_hash: str
    ) -> RefillView:
        """Submit the externally signed transaction; refused unless it is exactly the
        approved refill and the refill awaits it."""
        handle = self.client.get_workflow_handle(refill_workflow_id(refill_id))
        submission = RefillTransactionSubmission(staff_id=str(staff_id), tx_hash=tx_hash)
        try:
            return await self._guard(
                lambda: handle.execute_update(RefillWorkflow.submit_transaction, submission)
            )
        except RefillNotFound:
            # An update cannot reach a workflow that has ended: say why it is too late.
            view = await self.refill(refill_id)
            raise RefillNotAwaitingTransaction(f"refill {refill_id} is {view.status}") from None

    async def _finished(self, workflow_id: str) -> RefillView:
        """A retried request for a refill whose workflow has ended: its outcome."""
        view = await self.client.get_workflow_handle(workflow_id).query(RefillWorkflow.view)
        if view.status == RefillStatus.REFUSED.value:
            refused = ApplicationError(view.refusal or "refused", type=view.refusal_code)
            raise typed_or_unavailable(refused)
        return view

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        return await answered(
            call, timeout_s=self.timeout_s, not_found=RefillNotFound("no such refill")
        )
