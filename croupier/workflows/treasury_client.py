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
from temporalio.workflow import UpdateMethodMultiParam

from croupier.core.errors import CroupierError
from croupier.core.money import Currency, format_decimal
from croupier.sweeps.errors import (
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
A = TypeVar("A")


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
        """Send one treasury approval (what the ``approve`` signal from the Temporal CLI
        or UI does), refused by the workflow if this person approved already or the
        refill no longer awaits approvals."""
        decision = RefillDecision(staff_id=str(staff_id), reason=reason)
        return await self._update(
            refill_id, RefillWorkflow.approve_once, decision, RefillNotAwaitingApproval
        )

    async def submit_transaction(
        self, refill_id: uuid.UUID, staff_id: uuid.UUID, tx_hash: str
    ) -> RefillView:
        """Submit the externally signed transaction; refused unless it is exactly the
        approved refill and the refill awaits it."""
        submission = RefillTransactionSubmission(staff_id=str(staff_id), tx_hash=tx_hash)
        return await self._update(
            refill_id, RefillWorkflow.submit_transaction, submission, RefillNotAwaitingTransaction
        )

    async def _update(
        self,
        refill_id: uuid.UUID,
        update: UpdateMethodMultiParam[[RefillWorkflow, A], RefillView],
        argument: A,
        too_late: Callable[[str], CroupierError],
    ) -> RefillView:
        """Run an update; on a refill whose workflow has ended, say why it is too late
        (an update cannot reach it) rather than that it does not exist."""
        handle = self.client.get_workflow_handle(refill_workflow_id(refill_id))
        try:
            return await self._guard(lambda: handle.execute_update(update, argument))
        except RefillNotFound:
            view = await self.refill(refill_id)
            raise too_late(f"refill {refill_id} is {view.status}") from None

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
