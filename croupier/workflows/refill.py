"""One refill of the hot wallet from cold: id ``refill-<uuid>``.

Raised by the Sweep when the hot wallet is below its floor, or by treasury staff
(``POST /admin/refills``). Cold keys are never on these machines, so the refill is a
request to people:

1. Open: record the request (refused while another refill of the currency is open).
2. Approvals: signal ``approve`` (staff id and reason) from two distinct treasury staff.
   A second approval by the same person does not count; it is ignored and counted.
3. Transaction: someone signs the transfer offline and broadcasts it; update
   ``submit_transaction`` (staff id and tx hash) is accepted only if the node has it and
   it is exactly the approved transfer. It is then held in the ledger.
4. Confirmations: polled until final at depth; it posts (``hot_wallet <- cold_wallet``
   and the cold wallet's fee). One that reverted books its fee and the refill waits for
   another transaction.

The refill expires ``treasury_refill_expiry_s`` after it was raised unless completed;
a transaction already in a block when the time is up is still followed to the end
(its coins are moving; the books must follow), one not in a block is let go.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.refills import (
        RefillActivities,
        RefillApprovalInput,
        RefillEnd,
        RefillOpening,
        RefillProgress,
        RefillState,
        RefillTransactionInput,
    )
    from croupier.core.errors import CroupierError, InvalidInput
    from croupier.sweeps.errors import (
        RefillAlreadyApprovedBy,
        RefillNotAwaitingApproval,
        RefillNotAwaitingTransaction,
    )
    from croupier.sweeps.refills import (
        MAX_REASON_CHARS,
        REQUIRED_APPROVALS,
        TX_HASH_DESCRIPTIONS,
        RefillStatus,
        is_tx_hash,
    )
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.refusals import refusal, unwrap_activity_error

FLOW = "refill"
DB_TIMEOUT = timedelta(seconds=30)
CHAIN_TIMEOUT = timedelta(minutes=1)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
Status = RefillStatus
A = TypeVar("A")
R = TypeVar("R")


@dataclass(frozen=True)
class RefillInput:
    refill_id: str
    chain: str
    currency: str
    amount: str
    # A staff member's id, or "system:sweep".
    requested_by: str
    reason: str


@dataclass(frozen=True)
class RefillDecision:
    """A treasury approval, as sent by the API, ``temporal workflow signal`` or the UI."""

    staff_id: str
    reason: str


@dataclass(frozen=True)
class RefillTransactionSubmission:
    staff_id: str
    tx_hash: str


@dataclass(frozen=True)
class RefillView:
    refill_id: str
    chain: str
    currency: str
    amount: str
    status: str
    requested_by: str
    reason: str
    approvals: tuple[str, ...] = ()
    # Approvals that did not count: a repeat by someone who approved already.
    ignored_approvals: int = 0
    cold_address: str | None = None
    hot_address: str | None = None
    tx_hash: str | None = None
    confirmations: int = 0
    expires_at: datetime | None = None
    refusal_code: str | None = None
    refusal: str | None = None
    updated_at: datetime | None = None


@workflow.defn(name="Refill")
class RefillWorkflow:
    @workflow.init
    def __init__(self, request: RefillInput) -> None:
        self._request = request
        self._view = RefillView(
            refill_id=request.refill_id,
            chain=request.chain,
            currency=request.currency,
            amount=request.amount,
            status="requested",
            requested_by=request.requested_by,
            reason=request.reason,
            updated_at=workflow.now(),
        )
        self._approvals: list[RefillDecision] = []  # accepted, not yet recorded
        self._submitting = False

    @workflow.run
    async def run(self, request: RefillInput) -> RefillView:
        view = await self._refill(request)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return view

    async def _refill(self, request: RefillInput) -> RefillView:
        workflow.upsert_search_attributes(
            [keys.FLOW.value_set(FLOW), keys.CURRENCY.value_set(request.currency)]
        )
        state = await self._open(request)
        if state is None:
            return self._view
        deadline = state.expires_at
        while self._view.status != Status.COMPLETED:
            if self._view.status == Status.AWAITING_APPROVAL:
                if not await self._collect_approvals(deadline):
                    return await self._end(Status.EXPIRED, "no two approvals in time")
            elif self._view.status == Status.AWAITING_TRANSACTION:
                if not await self._wait_until(lambda: self._accepted, deadline):
                    return await self._end(Status.EXPIRED, "no transaction submitted in time")
            else:
                await self._follow_transaction(deadline, state.poll_interval_s)
                if self._view.status == Status.EXPIRED:
                    return self._view
        return self._view

    # -- handlers ------------------------------------------------------------------------

    @workflow.update
    async def opened(self) -> RefillView:
        """Returns once the request is recorded, or raises why it was refused: the API's
        answer to ``POST /admin/refills``."""
        await workflow.wait_condition(lambda: self._view.status != "requested")
        if self._view.status == Status.REFUSED:
            raise ApplicationError(
                self._view.refusal or "refused",
                type=self._view.refusal_code or "refused",
                non_retryable=True,
            )
        return self._view

    @workflow.signal
    def approve(self, decision: RefillDecision) -> None:
        """One treasury approval, as the CLI or UI sends it. Ignored (and a repeat
        counted) when it is not awaited, lacks a staff id or reason, or comes from
        someone who approved already."""
        refused = self._approval_refusal(decision)
        if refused is None:
            self._approvals.append(_cleaned(decision))
            return
        workflow.logger.warning("ignored an approval: %s", refused)
        if isinstance(refused, RefillAlreadyApprovedBy):
            self._view = replace(self._view, ignored_approvals=self._view.ignored_approvals + 1)

    @workflow.update
    def approve_once(self, decision: RefillDecision) -> RefillView:
        """The API's approval: the ``approve`` signal's rule, but a refused approval is
        answered instead of ignored. The validator sees every approval taken before it,
        so the same person approving twice in quick succession is refused the second
        time, which a query-then-signal from outside could not promise."""
        self._approvals.append(_cleaned(decision))
        return self._view

    @approve_once.validator
    def _validate_approval(self, decision: RefillDecision) -> None:
        refused = self._approval_refusal(decision)
        if refused is not None:
            raise refusal(refused)

    def _approval_refusal(self, decision: RefillDecision) -> CroupierError | None:
        cleaned = _cleaned(decision)
        staff_id = cleaned.staff_id
        if self._view.status not in ("requested", Status.AWAITING_APPROVAL):
            return RefillNotAwaitingApproval(
                f"refill {self._request.refill_id} is {self._view.status}"
            )
        if not cleaned.reason or not _is_uuid(staff_id):
            return InvalidInput("an approval needs a staff id and a reason")
        if staff_id in self._view.approvals or any(a.staff_id == staff_id for a in self._approvals):
            return RefillAlreadyApprovedBy(
                f"{staff_id} approved refill {self._request.refill_id} already; the second "
                "approval must come from another treasury staff member"
            )
        return None

    @workflow.update
    async def submit_transaction(self, submission: RefillTransactionSubmission) -> RefillView:
        """The externally signed refill transaction: accepted if it is exactly the
        approved transfer, then followed to its confirmations."""
        self._submitting = True
        try:
            state = await workflow.execute_activity_method(
                RefillActivities.accept_refill_transaction,
                RefillTransactionInput(
                    self._request.refill_id, submission.staff_id, submission.tx_hash.lower()
                ),
                start_to_close_timeout=CHAIN_TIMEOUT,
                retry_policy=RETRY,
            )
        except ActivityError as error:
            raise unwrap_activity_error(error) from None
        finally:
            self._submitting = False
        self._set(Status.CONFIRMING, f"confirming {state.tx_hash}", tx_hash=state.tx_hash)
        return self._view

    @submit_transaction.validator
    def _validate_submission(self, submission: RefillTransactionSubmission) -> None:
        if self._view.status != Status.AWAITING_TRANSACTION or self._submitting:
            raise refusal(
                RefillNotAwaitingTransaction(
                    f"refill {self._request.refill_id} is {self._view.status}"
                )
            )
        chain = self._request.chain
        if not is_tx_hash(chain, submission.tx_hash) or not _is_uuid(submission.staff_id):
            form = TX_HASH_DESCRIPTIONS.get(chain, "unknown")
            raise refusal(InvalidInput(f"a {chain} transaction hash is {form}, with a staff id"))

    @workflow.query
    def view(self) -> RefillView:
        return self._view

    # -- steps ---------------------------------------------------------------------------

    async def _open(self, request: RefillInput) -> RefillState | None:
        try:
            state = await self._db(
                RefillActivities.open_refill,
                RefillOpening(
                    refill_id=request.refill_id,
                    chain=request.chain,
                    currency=request.currency,
                    amount=request.amount,
                    requested_by=request.requested_by,
                    reason=request.reason,
                    requested_at=workflow.now(),
                ),
            )
        except ActivityError as error:
            cause = error.cause
            if not isinstance(cause, ApplicationError) or not cause.non_retryable:
                raise
            self._set(
                Status.REFUSED,
                f"refused: {cause.message}",
                refusal_code=cause.type,
                refusal=cause.message,
            )
            return None
        self._set(
            Status.AWAITING_APPROVAL,
            f"waiting for {REQUIRED_APPROVALS} treasury approvals",
            cold_address=state.cold_address,
            hot_address=state.hot_address,
            expires_at=state.expires_at,
        )
        return state

    async def _collect_approvals(self, deadline: datetime) -> bool:
        """Record approvals as they come until two distinct staff approved; False if
        the deadline passes first."""
        while self._view.status == Status.AWAITING_APPROVAL:
            if not self._approvals and not await self._wait_until(
                lambda: bool(self._approvals), deadline
            ):
                return False
            # Popped only once recorded: until then it is still what a repeat by the same
            # person is checked against.
            decision = self._approvals[0]
            state = await self._db(
                RefillActivities.record_refill_approval,
                RefillApprovalInput(self._request.refill_id, decision.staff_id, decision.reason),
            )
            self._approvals.pop(0)
            self._set(
                Status(state.status),
                f"approved by {', '.join(state.approvals)}",
                approvals=state.approvals,
            )
        return True

    async def _follow_transaction(self, deadline: datetime, poll_interval_s: float) -> None:
        """Poll the accepted transaction until final; book its end."""
        progress = await self._chain(RefillActivities.refill_progress, self._request.refill_id)
        self._view = replace(self._view, confirmations=progress.confirmations)
        if progress.final:
            assert progress.outcome is not None
            reverted = progress.outcome.reverted
            status = Status.AWAITING_TRANSACTION if reverted else Status.COMPLETED
            await self._end(status, "reverted on chain" if reverted else "confirmed", progress)
            return
        if workflow.now() >= deadline and not progress.mined:
            await self._end(Status.EXPIRED, "the transaction was not mined in time")
            return
        await workflow.sleep(timedelta(seconds=poll_interval_s))

    async def _end(
        self, status: RefillStatus, details: str, progress: RefillProgress | None = None
    ) -> RefillView:
        outcome = None if progress is None else progress.outcome
        state = await self._db(
            RefillActivities.end_refill,
            RefillEnd(self._request.refill_id, status.value, outcome),
        )
        tx_hash = state.tx_hash if status is not Status.AWAITING_TRANSACTION else None
        self._set(Status(state.status), details, tx_hash=tx_hash)
        return self._view

    # -- helpers -------------------------------------------------------------------------

    @property
    def _accepted(self) -> bool:
        return self._view.status == Status.CONFIRMING

    async def _wait_until(self, condition: Callable[[], bool], deadline: datetime) -> bool:
        remaining = deadline - workflow.now()
        if remaining <= timedelta(0):
            return condition()
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=remaining)
            return True
        return condition()

    @staticmethod
    async def _db(activity: Callable[[RefillActivities, A], R], argument: A) -> R:
        return await workflow.execute_activity_method(
            activity, argument, start_to_close_timeout=DB_TIMEOUT, retry_policy=RETRY
        )

    @staticmethod
    async def _chain(activity: Callable[[RefillActivities, A], R], argument: A) -> R:
        return await workflow.execute_activity_method(
            activity, argument, start_to_close_timeout=CHAIN_TIMEOUT, retry_policy=RETRY
        )

    def _set(self, status: RefillStatus, details: str, **changes: Any) -> None:
        self._view = replace(self._view, status=status.value, updated_at=workflow.now(), **changes)
        workflow.upsert_search_attributes([keys.STATUS.value_set(self._view.status)])
        workflow.set_current_details(details)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _cleaned(decision: RefillDecision) -> RefillDecision:
    return RefillDecision(decision.staff_id.strip(), decision.reason.strip()[:MAX_REASON_CHARS])
