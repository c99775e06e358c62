"""The Hot Wallet Sender: one per chain and hot address, id ``hot-wallet-eth-<address>``
(``hot-wallet-btc-<address>``).

Chain-neutral: what a chain does differently (nonces and fee replacement on Ethereum;
coin selection, change and RBF replacement on Bitcoin) lives in its ``HotWallet``
adapter behind the three activities (``croupier.activities.hot_wallet``). On Bitcoin a
send's "nonce" is its ordinal per hot address, and "the same nonce" of a replacement
is "the same inputs".

Withdrawals queue their sends here by signal (signal-with-start, so the first one
starts it). The sender is the only writer of the hot address's nonces: it takes the
queue in order, has each send signed and broadcast (``payments.send_withdrawal``; fees
above the cap or an empty wallet make it wait, never overpay), and keeps up to
``MAX_IN_FLIGHT`` sends watched (``payments.watch_sends``): a dropped or reorged-out
transaction is broadcast again, one stuck past ``hot_wallet_stuck_after_s`` is replaced
with the same nonce and at least 10% higher fees, and once a transaction is final at
the required depth the withdrawal is told (``send_progress`` signal), which settles or
releases its hold. Every transaction of a send shares its nonce, so at most one pays.
Treasury movements (sweeps to cold, gas top-ups; ``croupier.sweeps``) queue here the
same way, naming the workflow to tell in ``SendRequest.reply_to``.

State (queue, sends in flight, next nonce) is carried across continue-as-new; a sender
started afresh restores the unfinished sends from the database.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.hot_wallet import (
        HotWalletActivities,
        InFlightSend,
        SendAttempt,
        SenderKey,
        SenderSetup,
        SendOrder,
        SendOutcome,
        SendRequest,
        SendStatus,
        WatchOrder,
    )
    from croupier.payments.keys import withdrawal_workflow_id
    from croupier.workflows import search_attributes as keys

FLOW = "hot-wallet-sender"
MAX_IN_FLIGHT = 16
MAX_QUEUE = 1000
MAX_STEPS_PER_RUN = 500
# A few node calls each (bounded by CROUPIER_ETH_RPC_TIMEOUT_S). The activities heartbeat
# between sends, so one on a worker that died is retried elsewhere within seconds.
SEND_TIMEOUT = timedelta(seconds=30)
WATCH_TIMEOUT = timedelta(minutes=2)
HEARTBEAT_TIMEOUT = timedelta(seconds=15)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


class ProgressKind:
    BROADCAST = "broadcast"  # a (new) transaction is out, ``tx_hash`` names it
    CONFIRMED = "confirmed"  # final at depth: the withdrawal is paid by ``tx_hash``
    FAILED = "failed"  # final at depth but reverted: not paid (the gas is spent)


@dataclass(frozen=True)
class SendProgress:
    """What the sender tells a withdrawal about its send (signal ``send_progress``)."""

    withdrawal_id: str
    kind: str
    tx_hash: str | None = None
    nonce: int | None = None
    fee_paid_wei: str = "0"
    note: str = ""


@dataclass(frozen=True)
class SenderState:
    address: str
    next_nonce: int
    poll_interval_s: float
    queue: tuple[SendRequest, ...]
    in_flight: tuple[InFlightSend, ...]


@dataclass(frozen=True)
class HotWalletSenderInput:
    chain: str = "ethereum"
    hot_index: int = 0
    state: SenderState | None = None


@dataclass(frozen=True)
class SenderView:
    address: str | None
    next_nonce: int | None
    queued: tuple[str, ...]
    in_flight: tuple[InFlightSend, ...]
    waiting: str | None


@workflow.defn(name="HotWalletSender")
class HotWalletSenderWorkflow:
    def __init__(self) -> None:
        self._queue: list[SendRequest] = []
        self._in_flight: list[InFlightSend] = []
        self._address: str | None = None
        self._next_nonce: int | None = None
        self._waiting: str | None = None
        self._arrived = False

    @workflow.run
    async def run(self, request: HotWalletSenderInput) -> None:
        state = request.state or await self._prepare(request)
        self._address = state.address
        self._next_nonce = state.next_nonce
        # Requests signalled before this run began were queued by the handler already.
        self._queue = [*state.queue, *self._without(self._queue, state.queue)]
        self._in_flight = [*state.in_flight]
        workflow.upsert_search_attributes([keys.FLOW.value_set(FLOW)])
        poll = timedelta(seconds=state.poll_interval_s)
        for _ in range(MAX_STEPS_PER_RUN):
            await self._send_queued(request.hot_index)
            if self._in_flight:
                await self._watch(request.hot_index)
            self._show()
            self._arrived = False
            if not self._queue and not self._in_flight:
                await workflow.wait_condition(lambda: self._arrived)
            else:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._arrived, timeout=poll)
            if workflow.info().is_continue_as_new_suggested():
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self._next_nonce is not None
        workflow.continue_as_new(
            replace(
                request,
                state=SenderState(
                    address=state.address,
                    next_nonce=self._next_nonce,
                    poll_interval_s=state.poll_interval_s,
                    queue=tuple(self._queue),
                    in_flight=tuple(self._in_flight),
                ),
            )
        )

    @workflow.signal
    def send(self, request: SendRequest) -> None:
        """Queue a withdrawal's send; a repeat of a queued or in-flight one is ignored."""
        known = {r.withdrawal_id for r in self._queue} | {s.withdrawal_id for s in self._in_flight}
        if request.withdrawal_id in known:
            return
        if len(self._queue) >= MAX_QUEUE:
            workflow.logger.warning(
                "send queue full; withdrawal %s will ask again", request.withdrawal_id
            )
            return
        self._queue.append(request)
        self._arrived = True

    @workflow.query
    def view(self) -> SenderView:
        return SenderView(
            address=self._address,
            next_nonce=self._next_nonce,
            queued=tuple(r.withdrawal_id for r in self._queue),
            in_flight=tuple(self._in_flight),
            waiting=self._waiting,
        )

    async def _prepare(self, request: HotWalletSenderInput) -> SenderState:
        setup: SenderSetup = await workflow.execute_activity_method(
            HotWalletActivities.prepare_sender,
            SenderKey(chain=request.chain, hot_index=request.hot_index, now=workflow.now()),
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=RETRY,
        )
        return SenderState(
            address=setup.address,
            next_nonce=setup.next_nonce,
            poll_interval_s=setup.poll_interval_s,
            queue=(),
            in_flight=setup.restored,
        )

    async def _send_queued(self, hot_index: int) -> None:
        """Sign and broadcast queued sends in order, while the pipeline has room."""
        assert self._address is not None and self._next_nonce is not None
        while self._queue and len(self._in_flight) < MAX_IN_FLIGHT:
            head = self._queue[0]
            try:
                attempt: SendAttempt = await workflow.execute_activity_method(
                    HotWalletActivities.send_withdrawal,
                    SendOrder(head, self._address, hot_index, self._next_nonce, workflow.now()),
                    start_to_close_timeout=SEND_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RETRY,
                )
            except ActivityError as error:
                # A refusal before anything was signed (a malformed request): fail it.
                self._queue.pop(0)
                note = str(error.cause) if isinstance(error.cause, ApplicationError) else str(error)
                await self._tell(
                    SendProgress(head.withdrawal_id, ProgressKind.FAILED, note=note), head.reply_to
                )
                continue
            self._waiting = attempt.wait_reason
            if attempt.in_flight is None:
                return
            self._queue.pop(0)
            sent = attempt.in_flight
            self._next_nonce = max(self._next_nonce, sent.nonce + 1)
            self._in_flight = [*self._without_send(sent.withdrawal_id), sent]
            await self._tell(
                SendProgress(
                    sent.withdrawal_id,
                    ProgressKind.BROADCAST,
                    tx_hash=sent.tx_hashes[-1],
                    nonce=sent.nonce,
                ),
                sent.reply_to,
            )

    async def _watch(self, hot_index: int) -> None:
        statuses: tuple[SendStatus, ...] = await workflow.execute_activity_method(
            HotWalletActivities.watch_sends,
            WatchOrder(tuple(self._in_flight), hot_index, workflow.now()),
            start_to_close_timeout=WATCH_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )
        for status in statuses:
            send = status.send
            if status.outcome == SendOutcome.PENDING:
                before = next(s for s in self._in_flight if s.withdrawal_id == send.withdrawal_id)
                self._in_flight = [s if s is not before else send for s in self._in_flight]
                if send.tx_hashes != before.tx_hashes:
                    await self._tell(
                        SendProgress(
                            send.withdrawal_id,
                            ProgressKind.BROADCAST,
                            tx_hash=send.tx_hashes[-1],
                            nonce=send.nonce,
                            note=status.note,
                        ),
                        send.reply_to,
                    )
                continue
            self._in_flight = self._without_send(send.withdrawal_id)
            kind = (
                ProgressKind.CONFIRMED
                if status.outcome == SendOutcome.CONFIRMED
                else ProgressKind.FAILED
            )
            await self._tell(
                SendProgress(
                    send.withdrawal_id,
                    kind,
                    tx_hash=status.tx_hash,
                    nonce=send.nonce,
                    fee_paid_wei=status.fee_paid_wei,
                    note=status.note,
                ),
                send.reply_to,
            )

    async def _tell(self, progress: SendProgress, reply_to: str | None) -> None:
        """Signal the send's workflow: ``reply_to``, else the withdrawal's own."""
        handle = workflow.get_external_workflow_handle(
            reply_to or withdrawal_workflow_id(uuid.UUID(progress.withdrawal_id))
        )
        try:
            await handle.signal("send_progress", progress)
        except Exception as error:
            workflow.logger.warning(
                "could not tell withdrawal %s about its send: %s", progress.withdrawal_id, error
            )

    def _show(self) -> None:
        status = "waiting" if self._waiting else ("sending" if self._in_flight else "idle")
        if workflow.info().typed_search_attributes.get(keys.STATUS) != status:
            workflow.upsert_search_attributes([keys.STATUS.value_set(status)])
        workflow.set_current_details(
            f"{len(self._queue)} queued, {len(self._in_flight)} in flight, next nonce "
            f"{self._next_nonce}" + (f"; waiting: {self._waiting}" if self._waiting else "")
        )

    def _without_send(self, withdrawal_id: str) -> list[InFlightSend]:
        return [s for s in self._in_flight if s.withdrawal_id != withdrawal_id]

    @staticmethod
    def _without(requests: list[SendRequest], known: tuple[SendRequest, ...]) -> list[SendRequest]:
        ids = {r.withdrawal_id for r in known}
        return [r for r in requests if r.withdrawal_id not in ids]
