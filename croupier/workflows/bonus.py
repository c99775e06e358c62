"""Bonus: one workflow per claimed bonus, id ``bonus-<bonus id>``.

The API writes the claim (``croupier.bonus.claims``) and starts this workflow. It:

1. grants the bonus: a free bet at once; a deposit match at once if a qualifying
   deposit was credited since the claim (its signal found no workflow yet), else when
   the deposit workflow signals one (``deposit_credited``), or never if the claim's
   deposit window runs out first;
2. tells the player's session (``bonus_started``), whose validator then refuses bets
   above the max bet and whose settlements spend cash first, then bonus, and count
   toward wagering;
3. waits on a durable timer until the bonus expires, while the session reports
   progress after each counted bet (``wagered``), until the requirement is met or
   the player forfeits it (``forfeit``: cancelled, or a withdrawal was requested);
4. ends it (release up to the max conversion, or return it to promotions) and tells
   the session (``bonus_ended``).

The database decides every race: a bet that completes wagering flips the bonus to
``wagered`` in its settlement transaction, and ending a wagered bonus always releases
it, whatever ended it. The ``progress`` query answers the player's bonus page.
History stays short: a bonus wagered with many bets continues as new when Temporal
suggests it, carrying its state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.bonus import (
        ActivateInput,
        BonusActivities,
        BonusView,
        DepositCredited,
        FinishInput,
        SessionBonus,
        WageringProgress,
        bonus_workflow_id,
    )
    from croupier.bonus.errors import WelcomeBonusTaken
    from croupier.bonus.lifecycle import Ending
    from croupier.workflows import search_attributes as attributes
    from croupier.workflows.session import session_workflow_id

FLOW = "bonus"
RequestT = TypeVar("RequestT")
STEP_TIMEOUT = timedelta(seconds=30)
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
# Timers are kept at millisecond precision; waking a moment late is harmless, early is not.
_MARGIN = timedelta(seconds=1)


def workflow_id(bonus_id: str) -> str:
    return bonus_workflow_id(bonus_id)


@dataclass(frozen=True)
class BonusInput:
    bonus_id: str
    user_id: str
    currency: str
    # Carried over by continue-as-new: the bonus as last seen, and forfeit requested.
    view: BonusView | None = None
    forfeit_reason: str | None = None


@dataclass(frozen=True)
class Forfeit:
    reason: str  # "cancelled" | "withdrawal"


@workflow.defn(name="Bonus")
class BonusWorkflow:
    @workflow.init
    def __init__(self, request: BonusInput) -> None:
        self._request = request
        self._view = request.view
        self._forfeit = request.forfeit_reason
        self._deposit: DepositCredited | None = None

    @workflow.run
    async def run(self, request: BonusInput) -> BonusView:
        workflow.upsert_search_attributes(
            [
                attributes.PLAYER_ID.value_set(request.user_id),
                attributes.CURRENCY.value_set(request.currency),
                attributes.FLOW.value_set(FLOW),
            ]
        )
        view = self._view or await self._step(BonusActivities.activate, self._activation())
        self._show(view)
        view = await self._until_granted(view)
        if view.status == "active" and request.view is None:
            await self._tell_session("bonus_started", self._session_bonus(view))
        ending = await self._until_done(view)
        if ending is None:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                replace(request, view=self._view, forfeit_reason=self._forfeit)
            )
        finished = await self._step(
            BonusActivities.finish,
            FinishInput(request.bonus_id, ending.value, workflow.now()),
        )
        self._show(finished)
        if view.status != "pending":
            await self._tell_session("bonus_ended", finished.bonus_id)
        return finished

    @workflow.query
    def progress(self) -> BonusView | None:
        """The bonus as last seen, with wagering as the session last reported it."""
        return self._view

    @workflow.signal
    def wagered(self, progress: WageringProgress) -> None:
        view = self._view
        if view is None or int(progress.wagered) <= int(view.wagered):
            return
        status = "wagered" if progress.complete else view.status
        self._view = replace(view, wagered=progress.wagered, status=status)
        self._describe()

    @workflow.signal
    def deposit_credited(self, deposit: DepositCredited) -> None:
        self._deposit = deposit

    @workflow.signal
    def forfeit(self, request: Forfeit) -> None:
        self._forfeit = self._forfeit or request.reason

    async def _until_granted(self, view: BonusView) -> BonusView:
        """A pending deposit match waits for a qualifying deposit, a forfeit, or the
        end of its deposit window."""
        while view.status == "pending" and self._forfeit is None:
            remaining = view.expires_at - workflow.now()
            if remaining <= timedelta(0):
                return view
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._deposit is not None or self._forfeit is not None,
                    timeout=remaining + _MARGIN,
                )
            deposit, self._deposit = self._deposit, None
            if deposit is not None:
                view = await self._activate_with(deposit)
                self._show(view)
        return view

    async def _activate_with(self, deposit: DepositCredited) -> BonusView:
        try:
            return await self._step(BonusActivities.activate, self._activation(deposit))
        except ApplicationError as error:
            if error.type != WelcomeBonusTaken.code:
                raise
            self._forfeit = "welcome_bonus_taken"
            assert self._view is not None
            return self._view

    async def _until_done(self, view: BonusView) -> Ending | None:
        """Why the bonus ends, or None to continue as new first."""
        if view.status == "pending":
            return Ending.EXPIRED if self._forfeit is None else Ending.FORFEITED
        while True:
            if self._forfeit is not None:
                return Ending.FORFEITED
            current = self._view
            assert current is not None
            if current.status == "wagered":
                return Ending.COMPLETED
            remaining = current.expires_at - workflow.now()
            if remaining <= timedelta(0):
                return Ending.EXPIRED
            if workflow.info().is_continue_as_new_suggested():
                return None
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: (
                        self._forfeit is not None
                        or (self._view is not None and self._view.status == "wagered")
                        or workflow.info().is_continue_as_new_suggested()
                    ),
                    timeout=remaining + _MARGIN,
                )

    def _activation(self, deposit: DepositCredited | None = None) -> ActivateInput:
        return ActivateInput(self._request.bonus_id, workflow.now(), deposit)

    def _session_bonus(self, view: BonusView) -> SessionBonus:
        return SessionBonus(view.bonus_id, workflow.info().workflow_id, view.max_bet)

    async def _tell_session(self, signal: str, argument: object) -> None:
        """Best effort: a session that is not running reads the bonus when it starts."""
        session = workflow.get_external_workflow_handle(
            session_workflow_id(self._request.user_id, self._request.currency)
        )
        with contextlib.suppress(FailureError):
            await session.signal(signal, argument)

    def _show(self, view: BonusView) -> None:
        self._view = view
        workflow.upsert_search_attributes([attributes.STATUS.value_set(view.status)])
        self._describe()

    def _describe(self) -> None:
        view = self._view
        assert view is not None
        workflow.set_current_details(
            f"{view.offer} {view.status}: {view.amount} {view.currency} minor units, "
            f"wagered {view.wagered} of {view.required}, expires {view.expires_at.isoformat()}"
        )

    async def _step(
        self, activity: Callable[[BonusActivities, RequestT], BonusView], request: RequestT
    ) -> BonusView:
        try:
            return await workflow.execute_activity_method(
                activity,
                request,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
        except ActivityError as error:
            if isinstance(error.cause, ApplicationError):
                raise error.cause from None
            raise
