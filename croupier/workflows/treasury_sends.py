"""Driving treasury movements to their end, from inside a workflow (Sweep, Consolidation).

Two kinds of sender:

- the Hot Wallet Sender, for sweeps and gas top-ups: each movement is queued there, and
  its end arrives by the ``send_progress`` signal (the owning workflow's handler passes
  it to ``HotWalletSends.hear``); a workflow that hears nothing for a while asks the
  database (a later run resuming a movement is not the one the sender tells) and queues
  again (a sender started afresh forgets its queue; a repeat is ignored by a running one);
- the deposit addresses, for consolidations: signed and broadcast by an activity, then
  watched on a timer (replaced when stuck, broadcast again when dropped).

Either way each final movement is booked (``treasury.settle_movement``). Waits are
bounded: a movement still unfinished after ``MAX_WAITS`` waits is left held for the next
run, which resumes it, so no run's history grows without limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.address_sends import (
        AddressSend,
        AddressSendActivities,
        AddressSendOrder,
        AddressWatch,
    )
    from croupier.activities.movements import MovementActivities, MovementOutcome, MovementView
    from croupier.workflows.hot_wallet_sender import ProgressKind, SendProgress

CHAIN_TIMEOUT = timedelta(minutes=2)
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
MAX_WAITS = 1000
A = TypeVar("A")
R = TypeVar("R")


class HotWalletSends:
    """Movements queued at the Hot Wallet Sender, followed until booked."""

    def __init__(self) -> None:
        self._by_send_id: dict[str, str] = {}  # send id -> movement id
        self._outcomes: dict[str, MovementOutcome] = {}

    def hear(self, progress: SendProgress) -> None:
        """The sender's news about one of our sends (the workflow's signal handler)."""
        movement_id = self._by_send_id.get(progress.withdrawal_id)
        if movement_id is None or movement_id in self._outcomes:
            return
        if progress.kind == ProgressKind.BROADCAST:
            return
        self._outcomes[movement_id] = MovementOutcome(
            movement_id,
            progress.tx_hash,
            reverted=progress.kind == ProgressKind.FAILED and progress.tx_hash is not None,
            fee_paid=progress.fee_paid_wei,
        )

    @property
    def in_flight(self) -> int:
        return len(self._by_send_id) - len(self._outcomes)

    async def drive(self, movements: Sequence[MovementView]) -> list[MovementView]:
        """Queue each movement, wait for its end, book it; returns the booked ones."""
        if not movements:
            return []
        nudge = timedelta(seconds=1)
        for movement in movements:
            assert movement.send_id is not None, "only sender movements are driven here"
            self._by_send_id[movement.send_id] = movement.movement_id
            queued = await _activity(MovementActivities.queue_movement, movement.movement_id)
            nudge = timedelta(seconds=queued.nudge_after_s)
        pending = [m.movement_id for m in movements]
        booked: list[MovementView] = []
        for _ in range(MAX_WAITS):
            heard = await _wait(lambda: any(m in self._outcomes for m in pending), nudge)
            if not heard:
                await self._ask_and_requeue(pending)
            for movement_id in [m for m in pending if m in self._outcomes]:
                booked.append(await _settle(self._outcomes[movement_id]))
                pending.remove(movement_id)
            if not pending:
                break
        return booked

    async def _ask_and_requeue(self, pending: list[str]) -> None:
        found = await _activity(MovementActivities.sent_outcomes, tuple(pending))
        for outcome in found:
            self._outcomes.setdefault(outcome.movement_id, outcome)
        for movement_id in pending:
            if movement_id not in self._outcomes:
                await _activity(MovementActivities.queue_movement, movement_id)


async def drive_address_sends(
    movements: Sequence[MovementView], poll_interval: timedelta
) -> list[MovementView]:
    """Send each consolidation from its deposit address, watch them all until final,
    book each; returns the booked ones."""
    sends: list[AddressSend] = []
    for movement in movements:
        order = AddressSendOrder(movement.movement_id, workflow.now())
        sends.append(await _activity(AddressSendActivities.send_from_deposit_address, order))
    booked: list[MovementView] = []
    for _ in range(MAX_WAITS):
        if not sends:
            break
        await workflow.sleep(poll_interval)
        statuses = await workflow.execute_activity_method(
            AddressSendActivities.watch_deposit_address_sends,
            AddressWatch(tuple(sends), workflow.now()),
            start_to_close_timeout=CHAIN_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )
        sends = []
        for status in statuses:
            if status.outcome is None:
                sends.append(status.send)
            else:
                booked.append(await _settle(status.outcome))
    return booked


async def _settle(outcome: MovementOutcome) -> MovementView:
    return await _activity(MovementActivities.settle_movement, outcome)


async def _activity(method: Callable[[Any, A], R], argument: A) -> R:
    return await workflow.execute_activity_method(
        method, argument, start_to_close_timeout=CHAIN_TIMEOUT, retry_policy=RETRY
    )


async def _wait(condition: Callable[[], bool], timeout: timedelta) -> bool:
    try:
        await workflow.wait_condition(condition, timeout=timeout)
    except TimeoutError:
        return False
    return True
