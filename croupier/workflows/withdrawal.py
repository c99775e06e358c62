"""One withdrawal, from request to payout: id ``withdrawal-<uuid>``.

1. Open: validate (currency, minimum, checksummed address), check the daily limit, and
   hold ``amount + fee`` in the ledger, in one transaction. A refusal ends the workflow
   with nothing held; the API's ``submitted`` update reports it as a 4xx. An accepted
   request forfeits the player's active bonus (``croupier.workflows.bonus_hooks``).
2. Review: the risk policy approves automatically, or names its reasons and the
   workflow waits for compliance: signal ``approve`` or ``reject`` (staff id and reason;
   the API, the Temporal CLI and the UI all send the same signal). After the reminder
   delay it reminds once; at the expiry it gives up (``expired``) and releases the hold.
   The player may ``cancel`` (an update) while it waits.
3. Send: the hot wallet's sender (one per address, it owns the nonce) signs, broadcasts,
   replaces when stuck, and signals ``send_progress`` back: broadcast, then confirmed
   (settle: post the hold, pay out, book fee and gas) or failed (release the hold).

``view`` (a query) is the player's and staff's window onto every state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.withdrawals import (
        Approval,
        BroadcastSeen,
        OpenedWithdrawal,
        OpenWithdrawal,
        Release,
        Review,
        Settlement,
        WithdrawalActivities,
    )
    from croupier.monitoring.breaker import BREAKER_RESUMED_SIGNAL, BreakerResumed
    from croupier.payments.errors import (
        WithdrawalNotAwaitingDecision,
        WithdrawalNotCancellable,
        WithdrawalNotFound,
    )
    from croupier.payments.states import WithdrawalStatus
    from croupier.workflows import bonus_hooks
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.hot_wallet_sender import ProgressKind, SendProgress
    from croupier.workflows.refusals import refusal

FLOW = "withdrawal"
# Withdrawals requested since bonuses exist forfeit the player's active bonus.
BONUS_PATCH = "withdrawal-forfeits-bonus"
DB_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
MAX_REASON_CHARS = 500
Status = WithdrawalStatus
A = TypeVar("A")
# Where a player may cancel and compliance may decide.
_DECIDABLE = (Status.AWAITING_APPROVAL, Status.PAUSED)
R = TypeVar("R")


@dataclass(frozen=True)
class WithdrawalInput:
    withdrawal_id: str
    user_id: str
    currency: str
    amount: str
    to_address: str


@dataclass(frozen=True)
class StaffDecision:
    """A compliance decision, as sent by the API, ``temporal workflow signal`` or the UI."""

    staff_id: str
    reason: str


@dataclass(frozen=True)
class CancelRequest:
    user_id: str


@dataclass(frozen=True)
class WithdrawalView:
    withdrawal_id: str
    user_id: str
    currency: str
    amount: str
    fee: str | None
    to_address: str
    status: str
    review_reasons: tuple[str, ...] = ()
    decided_by: str | None = None
    decision_reason: str | None = None
    tx_hash: str | None = None
    refusal_code: str | None = None
    refusal: str | None = None
    requested_at: datetime | None = None
    updated_at: datetime | None = None


@workflow.defn(name="Withdrawal")
class WithdrawalWorkflow:
    @workflow.init
    def __init__(self, request: WithdrawalInput) -> None:
        self._request = request
        self._view = WithdrawalView(
            withdrawal_id=request.withdrawal_id,
            user_id=request.user_id,
            currency=request.currency,
            amount=request.amount,
            fee=None,
            to_address=request.to_address,
            status=Status.REQUESTED.value,
            requested_at=workflow.now(),
            updated_at=workflow.now(),
        )
        self._decision: tuple[Status, StaffDecision] | None = None
        self._cancel: CancelRequest | None = None
        self._broadcast: str | None = None  # a tx hash not yet recorded in the database
        self._final: SendProgress | None = None
        self._breaker_resumed = False

    @workflow.run
    async def run(self, request: WithdrawalInput) -> WithdrawalView:
        view = await self._withdraw(request)
        # An update (the API's ``submitted``, a ``cancel``) answers before the run ends.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return view

    async def _withdraw(self, request: WithdrawalInput) -> WithdrawalView:
        workflow.upsert_search_attributes(
            [
                keys.FLOW.value_set(FLOW),
                keys.PLAYER_ID.value_set(request.user_id),
                keys.CURRENCY.value_set(request.currency),
            ]
        )
        self._show("validating and holding funds")
        opened = await self._open(request)
        if opened is None:
            return self._view
        self._set(Status.HELD, "funds held; running risk checks", fee=opened.fee)
        if workflow.patched(BONUS_PATCH):
            await bonus_hooks.withdrawal_requested(request.user_id, request.currency)
        review = await self._db(WithdrawalActivities.assess_withdrawal, request.withdrawal_id)
        if review.reasons:
            self._set(
                Status.AWAITING_APPROVAL,
                f"waiting for compliance: {', '.join(review.reasons)}",
                review_reasons=review.reasons,
            )
            ended = await self._await_decision(review)
        elif review.paused:
            self._set(Status.PAUSED, "auto-approval is paused by the withdrawal circuit breaker")
            ended = await self._await_breaker(review)
        else:
            self._set(Status.APPROVED, "approved automatically")
            ended = None
        if ended is not None:
            return ended
        return await self._send(request)

    @workflow.update
    async def submitted(self) -> WithdrawalView:
        """Returns once the funds are held and reviewed (approved, awaiting a decision or
        paused), or raises the refusal: the API's answer to the request."""
        await workflow.wait_condition(
            lambda: self._view.status not in (Status.REQUESTED, Status.HELD)
        )
        if self._view.status == Status.REFUSED:
            raise ApplicationError(
                self._view.refusal or "refused",
                type=self._view.refusal_code or "refused",
                non_retryable=True,
            )
        return self._view

    @workflow.update
    async def cancel(self, request: CancelRequest) -> WithdrawalView:
        """The player withdraws the request while it waits for compliance."""
        self._cancel = request
        await workflow.wait_condition(lambda: Status(self._view.status).is_final)
        return self._view

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if request.user_id != self._request.user_id:
            raise refusal(WithdrawalNotFound(f"no withdrawal {self._request.withdrawal_id}"))
        if self._view.status not in _DECIDABLE or self._decided:
            raise refusal(
                WithdrawalNotCancellable(
                    f"withdrawal {self._request.withdrawal_id} is {self._view.status}; "
                    "only one waiting for compliance can be cancelled"
                )
            )

    @workflow.signal
    def approve(self, decision: StaffDecision) -> None:
        self._decide(Status.APPROVED, decision)

    @workflow.signal
    def reject(self, decision: StaffDecision) -> None:
        self._decide(Status.REJECTED, decision)

    @workflow.signal(name=BREAKER_RESUMED_SIGNAL)
    def breaker_resumed(self, resumed: BreakerResumed) -> None:
        """The circuit breaker was resumed (by ``resumed.resumed_by``): re-check it now."""
        self._breaker_resumed = True

    @workflow.signal
    def send_progress(self, progress: SendProgress) -> None:
        if progress.withdrawal_id != self._request.withdrawal_id or self._final is not None:
            return
        if progress.kind == ProgressKind.BROADCAST:
            self._broadcast = progress.tx_hash
            self._set(Status.BROADCAST, progress.note or "broadcast", tx_hash=progress.tx_hash)
        else:
            self._final = progress

    @workflow.query
    def view(self) -> WithdrawalView:
        return self._view

    # -- steps ---------------------------------------------------------------------------

    async def _open(self, request: WithdrawalInput) -> OpenedWithdrawal | None:
        try:
            opened = await self._db(
                WithdrawalActivities.open_withdrawal,
                OpenWithdrawal(
                    withdrawal_id=request.withdrawal_id,
                    user_id=request.user_id,
                    currency=request.currency,
                    amount=request.amount,
                    to_address=request.to_address,
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
        return opened

    async def _await_decision(self, review: Review) -> WithdrawalView | None:
        """Wait for approve / reject / cancel, reminding once; None when approved."""
        reminder = timedelta(seconds=review.reminder_s)
        if not await self._wait(lambda: self._decided, reminder):
            await self._db(WithdrawalActivities.remind_compliance, self._request.withdrawal_id)
            rest = timedelta(seconds=review.expiry_s) - reminder
            if not await self._wait(lambda: self._decided, rest):
                return await self._release(
                    Status.EXPIRED, f"no compliance decision within {review.expiry_s}s"
                )
        return await self._apply_decision()

    async def _await_breaker(self, review: Review) -> WithdrawalView | None:
        """Parked by the circuit breaker: a compliance decision, or the breaker closing
        (signalled, or found on a periodic re-check), ends the wait. No expiry: a trip
        voids nothing."""
        recheck = timedelta(seconds=review.breaker_recheck_s)
        while not self._decided:
            await self._wait(lambda: self._decided or self._breaker_resumed, recheck)
            self._breaker_resumed = False
            if self._decided:
                break
            if await self._db(WithdrawalActivities.resume_if_unpaused, self._request.withdrawal_id):
                self._set(Status.APPROVED, "the circuit breaker closed; approved automatically")
                return None
        return await self._apply_decision()

    async def _apply_decision(self) -> WithdrawalView | None:
        """Act on the cancel or the staff decision that ended a wait; None when approved."""
        if self._cancel is not None:
            return await self._release(Status.CANCELLED, "cancelled by the player")
        assert self._decision is not None
        outcome, decision = self._decision
        if outcome is Status.REJECTED:
            return await self._release(Status.REJECTED, decision.reason, decision.staff_id)
        await self._db(
            WithdrawalActivities.record_approval,
            Approval(self._request.withdrawal_id, decision.staff_id, decision.reason),
        )
        self._set(
            Status.APPROVED,
            f"approved by {decision.staff_id}",
            decided_by=decision.staff_id,
            decision_reason=decision.reason,
        )
        return None

    async def _send(self, request: WithdrawalInput) -> WithdrawalView:
        queued = await self._db(WithdrawalActivities.enqueue_send, request.withdrawal_id)
        if self._final is None and self._broadcast is None:
            self._set(Status.SENDING, f"queued at {queued.sender_workflow_id}")
        nudge = timedelta(seconds=queued.nudge_after_s)
        while self._final is None:
            if self._broadcast is not None:
                tx_hash, self._broadcast = self._broadcast, None
                await self._db(
                    WithdrawalActivities.record_broadcast,
                    BroadcastSeen(request.withdrawal_id, tx_hash),
                )
                continue
            news = await self._wait(
                lambda: self._final is not None or self._broadcast is not None, nudge
            )
            if not news:  # the sender may have been restarted from scratch: ask again
                await self._db(WithdrawalActivities.enqueue_send, request.withdrawal_id)
        final = self._final
        assert final is not None
        if final.kind == ProgressKind.CONFIRMED:
            assert final.tx_hash is not None
            state = await self._db(
                WithdrawalActivities.settle_withdrawal,
                Settlement(request.withdrawal_id, final.tx_hash, final.fee_paid_wei),
            )
            self._set(Status(state.status), f"paid by {final.tx_hash}", tx_hash=final.tx_hash)
            return self._view
        return await self._release(
            Status.FAILED, final.note or "the send failed", gas_paid_wei=final.fee_paid_wei
        )

    async def _release(
        self,
        status: Status,
        reason: str,
        decided_by: str | None = None,
        *,
        gas_paid_wei: str = "0",
    ) -> WithdrawalView:
        await self._db(
            WithdrawalActivities.release_withdrawal,
            Release(self._request.withdrawal_id, status.value, reason, decided_by, gas_paid_wei),
        )
        self._set(status, reason, decided_by=decided_by, decision_reason=reason)
        return self._view

    # -- helpers -------------------------------------------------------------------------

    @property
    def _decided(self) -> bool:
        return self._decision is not None or self._cancel is not None

    def _decide(self, outcome: Status, decision: StaffDecision) -> None:
        if self._view.status not in _DECIDABLE or self._decided:
            workflow.logger.warning(
                "ignored %s from %s: %s",
                outcome.value,
                decision.staff_id,
                WithdrawalNotAwaitingDecision(f"withdrawal is {self._view.status}"),
            )
            return
        if not decision.staff_id.strip() or not decision.reason.strip():
            workflow.logger.warning("ignored a decision without staff id or reason")
            return
        reason = decision.reason.strip()[:MAX_REASON_CHARS]
        self._decision = (outcome, StaffDecision(decision.staff_id.strip(), reason))

    @staticmethod
    async def _wait(condition: Callable[[], bool], timeout: timedelta) -> bool:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=timeout)
            return True
        return False

    @staticmethod
    async def _db(activity: Callable[[WithdrawalActivities, A], R], argument: A) -> R:
        return await workflow.execute_activity_method(
            activity,
            argument,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=RETRY,
        )

    def _set(self, status: Status, details: str, **changes: Any) -> None:
        self._view = replace(self._view, status=status.value, updated_at=workflow.now(), **changes)
        self._show(details)

    def _show(self, details: str) -> None:
        workflow.upsert_search_attributes([keys.STATUS.value_set(self._view.status)])
        workflow.set_current_details(details)
