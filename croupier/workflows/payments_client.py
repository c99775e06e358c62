"""Talking to the payment workflows from outside (the API): start, update, signal, query.

A refusal comes back as the typed error the workflow raised (see
``croupier.workflows.refusals``), so the API answers it as a 4xx; Temporal being
unreachable or slow is ``ServiceUnavailable`` (503), which a client retries with the
same ``Idempotency-Key``: the withdrawal id is derived from it, so a retry joins the
first withdrawal instead of opening a second.
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

from croupier.activities.addresses import AddressRequest, AssignedAddress
from croupier.core.money import format_decimal
from croupier.payments.errors import (
    DepositNotFound,
    DepositNotHeld,
    WithdrawalNotAwaitingDecision,
    WithdrawalNotCancellable,
    WithdrawalNotFound,
)
from croupier.payments.keys import deposit_address_workflow_id, withdrawal_workflow_id
from croupier.payments.rules import WithdrawalRequest
from croupier.payments.states import WithdrawalStatus
from croupier.workflows.deposit import DepositWorkflow, ReleaseRequest
from croupier.workflows.deposit_address import DepositAddressWorkflow
from croupier.workflows.refusals import answered, typed_or_unavailable
from croupier.workflows.withdrawal import (
    CancelRequest,
    StaffDecision,
    WithdrawalInput,
    WithdrawalView,
    WithdrawalWorkflow,
)

DEFAULT_TIMEOUT_S = 30.0
DEPOSIT_WORKFLOW = "Deposit"
_DECIDABLE = {WithdrawalStatus.AWAITING_APPROVAL.value, WithdrawalStatus.PAUSED.value}

T = TypeVar("T")


@dataclass(frozen=True)
class PaymentsClient:
    client: Client
    task_queue: str
    timeout_s: float = DEFAULT_TIMEOUT_S

    async def deposit_address(self, user_id: uuid.UUID, chain: str) -> AssignedAddress:
        """Assign (once) and return the player's address on ``chain``, via a worker."""

        async def assign() -> AssignedAddress:
            handle = await self.client.start_workflow(
                DepositAddressWorkflow.run,
                AddressRequest(user_id=str(user_id), chain=chain),
                id=deposit_address_workflow_id(user_id, chain),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                static_summary=f"deposit address of player {user_id} on {chain}",
            )
            return await handle.result()

        return await self._guard(assign)

    async def request_withdrawal(
        self, withdrawal_id: uuid.UUID, user_id: uuid.UUID, request: WithdrawalRequest
    ) -> WithdrawalView:
        """Start the withdrawal (or find it) and wait until its funds are held or it is
        refused; a refusal is raised as its typed error."""
        workflow_id = withdrawal_workflow_id(withdrawal_id)

        async def submit() -> WithdrawalView:
            try:
                handle = await self.client.start_workflow(
                    WithdrawalWorkflow.run,
                    WithdrawalInput(
                        withdrawal_id=str(withdrawal_id),
                        user_id=str(user_id),
                        currency=request.currency.value,
                        amount=str(request.amount),
                        to_address=request.address,
                    ),
                    id=workflow_id,
                    task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=(
                        f"withdrawal of {format_decimal(request.amount, request.currency)} "
                        f"{request.currency} to {request.address}"
                    ),
                )
            except WorkflowAlreadyStartedError:
                return await self._finished_withdrawal(workflow_id)
            return await handle.execute_update(WithdrawalWorkflow.submitted)

        return await self._guard(submit)

    async def withdrawal(self, withdrawal_id: uuid.UUID) -> WithdrawalView:
        handle = self.client.get_workflow_handle(withdrawal_workflow_id(withdrawal_id))
        return await self._guard(lambda: handle.query(WithdrawalWorkflow.view))

    async def cancel_withdrawal(
        self, withdrawal_id: uuid.UUID, user_id: uuid.UUID
    ) -> WithdrawalView:
        handle = self.client.get_workflow_handle(withdrawal_workflow_id(withdrawal_id))
        try:
            return await self._guard(
                lambda: handle.execute_update(
                    WithdrawalWorkflow.cancel, CancelRequest(user_id=str(user_id))
                )
            )
        except WithdrawalNotFound:
            # An update cannot reach a workflow that has ended: say why it is too late.
            view = await self.withdrawal(withdrawal_id)
            if view.user_id != str(user_id):
                raise
            raise WithdrawalNotCancellable(
                f"withdrawal {withdrawal_id} is {view.status}; only one waiting for a "
                "decision can be cancelled"
            ) from None

    async def decide_withdrawal(
        self, withdrawal_id: uuid.UUID, *, approve: bool, staff_id: uuid.UUID, reason: str
    ) -> WithdrawalView:
        """Send compliance's decision (the same signal the Temporal CLI or UI would) to a
        withdrawal that waits for one; returns the view as it stands after."""
        handle = self.client.get_workflow_handle(withdrawal_workflow_id(withdrawal_id))
        view = await self._guard(lambda: handle.query(WithdrawalWorkflow.view))
        if view.status not in _DECIDABLE:
            raise WithdrawalNotAwaitingDecision(
                f"withdrawal {withdrawal_id} is {view.status}; it does not await a decision"
            )
        signal = WithdrawalWorkflow.approve if approve else WithdrawalWorkflow.reject
        decision = StaffDecision(staff_id=str(staff_id), reason=reason)
        await self._guard(lambda: handle.signal(signal, decision))
        return await self._guard(lambda: handle.query(WithdrawalWorkflow.view))

    async def release_deposit(self, deposit_id: str, *, staff_id: uuid.UUID, reason: str) -> None:
        """Send compliance's release (what the ``release`` signal from the Temporal CLI or
        UI does) to a deposit its workflow holds; the workflow then credits it and audits
        the release. The workflow's validator answers whether it is held, so a release is
        never silently dropped."""
        handle = self.client.get_workflow_handle(deposit_id)
        described = await answered(
            handle.describe,
            timeout_s=self.timeout_s,
            not_found=DepositNotFound(f"no deposit {deposit_id}"),
        )
        if described.workflow_type != DEPOSIT_WORKFLOW:
            raise DepositNotFound(f"no deposit {deposit_id}")
        request = ReleaseRequest(staff_id=str(staff_id), reason=reason)
        await answered(
            lambda: handle.execute_update(DepositWorkflow.release_now, request),
            timeout_s=self.timeout_s,
            # It finished (a re-check credited it) in between.
            not_found=DepositNotHeld(f"deposit {deposit_id} is not held; nothing to release"),
        )

    async def _finished_withdrawal(self, workflow_id: str) -> WithdrawalView:
        """A retried request for a withdrawal whose workflow has ended: its outcome."""
        view = await self.client.get_workflow_handle(workflow_id).query(WithdrawalWorkflow.view)
        if view.status == WithdrawalStatus.REFUSED.value:
            raise typed_or_unavailable(_refusal(view))
        return view

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        return await answered(
            call, timeout_s=self.timeout_s, not_found=WithdrawalNotFound("no such withdrawal")
        )


def _refusal(view: WithdrawalView) -> ApplicationError:
    return ApplicationError(view.refusal or "refused", type=view.refusal_code or "refused")
