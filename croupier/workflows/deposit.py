"""One deposit, from sighting to credit: id ``deposit-eth-<txhash>-<logindex>``.

The scanner starts it when a transfer into a player's address appears in a block. It
records the deposit (the player sees it as pending), then polls the chain on durable
timers until the transfer is ``confirmations_required`` blocks deep in the canonical
chain, checked in that very block, and credits the ledger once (the credit is keyed by
the deposit id). If a reorg removes the transaction, it waits for it to be mined again
(credit then) or, after the orphan timeout, marks it orphaned and ends; the scanner
starts a new run if it is mined later still. Dust is recorded and never credited.

Confirmed, it may still be ``held``: the player is self-excluded or cooling off, or it
would cross one of their deposit limits. It then stays out of their cash and the
workflow checks again every ``hold_recheck_s`` (the exclusion ended, the window rolled
on, a higher KYC level) and credits it once admitted, or at once when compliance sends
``release`` (staff id and reason; audited).

Once credited (at once or after a hold), it tells the player's pending deposit-match
bonus, if any (``croupier.workflows.bonus_hooks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.bonus import DepositCredited
    from croupier.activities.deposits import (
        DepositActivities,
        DepositInclusion,
        DepositPlan,
        DepositRelease,
        DepositSighting,
        DepositState,
    )
    from croupier.core.errors import CroupierError, InvalidInput
    from croupier.core.ids import parse_uuid
    from croupier.payments.errors import DepositNotHeld
    from croupier.payments.states import DepositStatus
    from croupier.workflows import bonus_hooks
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.refusals import refusal

FLOW = "deposit"
# Deposits started since bonuses exist tell the player's pending deposit match.
BONUS_PATCH = "deposit-tells-pending-bonus"
MAX_REASON_CHARS = 500
A = TypeVar("A")
DB_TIMEOUT = timedelta(seconds=30)
CHAIN_TIMEOUT = timedelta(seconds=60)
# Database and node outages are waited out, visibly (the activity shows its attempts);
# refusals are non-retryable by type, so these retries only ever cover transient faults.
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@dataclass(frozen=True)
class DepositInput:
    sighting: DepositSighting
    # Carried across continue-as-new: since when the transfer has been out of the chain.
    missing_since: datetime | None = None


@dataclass(frozen=True)
class DepositOutcome:
    deposit_id: str
    status: str


@dataclass(frozen=True)
class ReleaseRequest:
    """Compliance credits a held deposit, as sent by the API or ``temporal workflow signal``."""

    staff_id: str
    reason: str


@workflow.defn(name="Deposit")
class DepositWorkflow:
    def __init__(self) -> None:
        # From the step that may hold the deposit on: a release is awaited. Set before the
        # credit step returns, so a release sent the moment the row turns held is kept.
        self._releasable = False
        self._release: ReleaseRequest | None = None

    @workflow.signal
    def release(self, request: ReleaseRequest) -> None:
        """Credit the deposit now, whatever the player's limits say (the CLI's and UI's
        way; ignored, with a warning, when it does not apply)."""
        refused = self._release_refusal(request)
        if refused is not None:
            workflow.logger.warning("ignored a release: %s", refused)
            return
        self._release = _cleaned(request)

    @workflow.update
    def release_now(self, request: ReleaseRequest) -> None:
        """The API's release: the signal's rule, but a refusal is answered."""
        self._release = _cleaned(request)

    @release_now.validator
    def _validate_release(self, request: ReleaseRequest) -> None:
        refused = self._release_refusal(request)
        if refused is not None:
            raise refusal(refused)

    def _release_refusal(self, request: ReleaseRequest) -> CroupierError | None:
        if not self._releasable or self._release is not None:
            return DepositNotHeld("the deposit is not held (or its release is under way)")
        cleaned = _cleaned(request)
        if not cleaned.staff_id or not cleaned.reason:
            return InvalidInput("a release needs a staff id and a reason")
        return None

    @workflow.run
    async def run(self, request: DepositInput) -> DepositOutcome:
        sighting = request.sighting
        plan: DepositPlan = await workflow.execute_activity_method(
            DepositActivities.record_deposit,
            sighting,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=RETRY,
        )
        workflow.upsert_search_attributes(
            [
                keys.FLOW.value_set(FLOW),
                keys.PLAYER_ID.value_set(plan.user_id),
                keys.CURRENCY.value_set(sighting.currency),
            ]
        )
        status = DepositStatus(plan.status)
        self._show(status, f"recorded: {sighting.amount} {sighting.currency} minor units")
        if status.is_final:
            return DepositOutcome(plan.deposit_id, status.value)
        if status is DepositStatus.HELD:
            return await self._credit(sighting, plan)
        missing_since = request.missing_since
        poll = timedelta(seconds=plan.poll_interval_s)
        orphan_timeout = timedelta(seconds=plan.orphan_timeout_s)
        while True:
            inclusion: DepositInclusion = await workflow.execute_activity_method(
                DepositActivities.check_deposit,
                sighting,
                start_to_close_timeout=CHAIN_TIMEOUT,
                retry_policy=RETRY,
            )
            if inclusion.included and inclusion.confirmations >= plan.confirmations_required:
                return await self._credit(sighting, plan)
            if inclusion.included:
                missing_since = None
                self._show(
                    DepositStatus.CONFIRMING,
                    f"{inclusion.confirmations}/{plan.confirmations_required} confirmations "
                    f"(block {inclusion.block_number})",
                )
            else:
                missing_since = missing_since or workflow.now()
                if workflow.now() - missing_since >= orphan_timeout:
                    return await self._finish(DepositActivities.orphan_deposit, plan)
                self._show(
                    DepositStatus.PENDING,
                    f"not in the canonical chain since {missing_since.isoformat()}; "
                    "waiting for it to be mined again",
                )
            await workflow.sleep(poll)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(DepositInput(sighting, missing_since=missing_since))

    async def _credit(self, sighting: DepositSighting, plan: DepositPlan) -> DepositOutcome:
        """Credit the confirmed deposit; while the player's limits hold it, check again on
        a timer, or credit it when compliance releases it."""
        recheck = timedelta(seconds=plan.hold_recheck_s)
        self._releasable = True
        while True:
            state = await self._step(DepositActivities.credit_deposit, plan.deposit_id)
            if state.status != DepositStatus.HELD.value:
                self._releasable = False
                return await self._credited(sighting, plan, state)
            self._show(DepositStatus.HELD, f"held: {state.hold_reason}")
            if self._release is not None or await self._released_within(recheck):
                release = self._release
                assert release is not None
                released = await self._step(
                    DepositActivities.release_deposit,
                    DepositRelease(plan.deposit_id, release.staff_id, release.reason),
                )
                return await self._credited(sighting, plan, released)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(DepositInput(sighting))

    async def _released_within(self, timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: self._release is not None, timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def _finish(
        self, step: Callable[[DepositActivities, str], DepositState], plan: DepositPlan
    ) -> DepositOutcome:
        return self._outcome(await self._step(step, plan.deposit_id))

    @staticmethod
    async def _step(
        step: Callable[[DepositActivities, A], DepositState], argument: A
    ) -> DepositState:
        return await workflow.execute_activity_method(
            step,
            argument,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _credited(
        self, sighting: DepositSighting, plan: DepositPlan, state: DepositState
    ) -> DepositOutcome:
        """The deposit is in the player's cash (or, rarely, ended otherwise): a pending
        deposit match of the player's may have been waiting for it."""
        outcome = self._outcome(state)
        if state.status == DepositStatus.CREDITED.value and workflow.patched(BONUS_PATCH):
            await bonus_hooks.deposit_credited(
                plan.user_id,
                sighting.currency,
                DepositCredited(plan.deposit_id, sighting.amount, sighting.from_address),
            )
        return outcome

    def _outcome(self, state: DepositState) -> DepositOutcome:
        self._show(DepositStatus(state.status), state.status)
        return DepositOutcome(state.deposit_id, state.status)

    @staticmethod
    def _show(status: DepositStatus, details: str) -> None:
        workflow.upsert_search_attributes([keys.STATUS.value_set(status.value)])
        workflow.set_current_details(details)


def _cleaned(request: ReleaseRequest) -> ReleaseRequest:
    """The release with a parsed staff id ("" if it is not one) and a bounded reason."""
    try:
        staff_id = parse_uuid(request.staff_id, what="staff_id")
    except InvalidInput:
        staff_id = ""
    return ReleaseRequest(
        str(staff_id) if staff_id else "", request.reason.strip()[:MAX_REASON_CHARS]
    )
