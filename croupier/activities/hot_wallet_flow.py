"""The send and watch steps every chain's hot wallet shares.

Sending: claim the send's place (its nonce, or its ordinal on Bitcoin), sign its first
transaction once and store it, broadcast; run again, the stored bytes go out again.
Watching: a transaction of the send mined (at most one can be), or the latest dropped
(broadcast again), or all stuck too long (replaced). What differs per chain (how to
sign, price, broadcast, replace, and what a mined transaction cost) is a subclass's.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Protocol

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.hot_wallet import (
    InFlightSend,
    SendAttempt,
    SenderKey,
    SendOrder,
    SendOutcome,
    SendStatus,
    WatchOrder,
)
from croupier.chains.base import TxState, TxStatus
from croupier.chains.errors import BroadcastRejected, FeeTooLow
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.payments import sends

# The most sends a sender restores from the database when it starts afresh.
MAX_RESTORED_SENDS = 64


class StoredTransaction(Protocol):
    """A transaction signed for a send, as stored before its broadcast."""

    @property
    def tx_hash(self) -> str: ...

    @property
    def raw(self) -> bytes: ...


@dataclass(frozen=True)
class Broadcast:
    """How a broadcast went: ``note`` says what happened (None: out, nothing to say);
    ``must_wait``: the send is not out and waits with ``note`` as the reason."""

    note: str | None
    must_wait: bool = False


class HotWalletFlow(ABC):
    """A ``HotWallet``'s ``send`` and ``watch``, over the chain-specific steps below."""

    chain: ClassVar[str]

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    def send(self, order: SendOrder) -> SendAttempt:
        """Claim the send's nonce (ordinal), sign once, store, broadcast. Run again, it
        finds the stored transaction and broadcasts the same bytes: never a second one."""
        request = order.request
        withdrawal_id = uuid.UUID(request.withdrawal_id)
        send = sends.claim_nonce(
            self._engine,
            withdrawal_id,
            chain=self.chain,
            sender=order.sender,
            at_least=order.next_nonce,
            currency=request.currency,
            reply_to=request.reply_to,
        )
        activity.heartbeat(send.nonce)
        signed = self._signed(withdrawal_id)
        if not signed:
            wait_reason = self._sign_first(order, send)
            if wait_reason is not None:
                return SendAttempt(in_flight=None, wait_reason=wait_reason)
            signed = self._signed(withdrawal_id)
            send = sends.find_send(self._engine, withdrawal_id) or send
        in_flight = InFlightSend(
            withdrawal_id=request.withdrawal_id,
            currency=request.currency,
            nonce=send.nonce,
            tx_hashes=tuple(tx.tx_hash for tx in signed),
            last_sent_at=order.now,
            reply_to=request.reply_to,
        )
        if send.status != sends.IN_FLIGHT:
            return SendAttempt(in_flight=in_flight)  # final already: the watch reports it
        sent = self._broadcast(signed[-1].raw, in_flight)
        if sent.must_wait and sent.note is not None:
            return SendAttempt(in_flight=None, wait_reason=sent.note)
        return SendAttempt(in_flight=in_flight)

    def watch(self, send: InFlightSend, order: WatchOrder) -> SendStatus:
        """Final at depth, or pending: a dropped transaction is broadcast again, a stuck
        one replaced (same nonce, or same inputs) at a higher fee."""
        statuses = [self._status(tx_hash) for tx_hash in send.tx_hashes]
        mined = [status for status in statuses if status.block_number is not None]
        assert len(mined) <= 1, f"two transactions of send {send.withdrawal_id} are mined"
        if mined:
            return self._mined(send, mined[0])
        note = "waiting to be mined"
        if statuses[-1].state is TxState.UNKNOWN:
            latest = self._signed(uuid.UUID(send.withdrawal_id))[-1]
            note = self._broadcast(latest.raw, send).note or "dropped by the node; sent again"
        stuck_for = order.now - send.last_sent_at
        if stuck_for >= timedelta(seconds=self._settings.hot_wallet_stuck_after_s):
            send, note = self._replace(send, order)
        return SendStatus(send, SendOutcome.PENDING, None, 0, "0", note)

    def _restored(self, key: SenderKey, sender: str) -> tuple[InFlightSend, ...]:
        """The sends a previous sender of ``sender`` left in flight with something signed,
        lowest nonce first."""
        restored = []
        for send in sends.unfinished_sends(
            self._engine, chain=key.chain, sender=sender, limit=MAX_RESTORED_SENDS
        ):
            assert send.currency is not None, f"send {send.withdrawal_id} names no currency"
            signed = tuple(tx.tx_hash for tx in self._signed(send.withdrawal_id))
            if signed:
                restored.append(
                    InFlightSend(
                        withdrawal_id=str(send.withdrawal_id),
                        currency=send.currency,
                        nonce=send.nonce,
                        tx_hashes=signed,
                        last_sent_at=key.now,
                        reply_to=send.reply_to,
                    )
                )
        return tuple(restored)

    def _broadcast(self, raw: bytes, send: InFlightSend) -> Broadcast:
        """Send the bytes (again). Underpriced counts as out: the watch replaces it once
        stuck. A node that refuses for another reason makes the send wait."""
        try:
            self._send_raw(raw)
        except FeeTooLow as error:
            return Broadcast(f"underpriced for now ({error.reason}); replaced if it stays stuck")
        except BroadcastRejected as error:
            return self._refused(error, send)
        return Broadcast(None)

    def _refused(self, error: BroadcastRejected, send: InFlightSend) -> Broadcast:
        """A refusal other than underpricing; a chain adds the cases it tells apart."""
        return Broadcast(f"the node refused it: {error.reason}", must_wait=True)

    def _taken(self, send: InFlightSend, what: str, reason: str) -> Broadcast:
        """The send's nonce (or coins) is used on chain: by one of its own transactions,
        mined (then all is well: the watch finds it), or by one Croupier did not sign."""
        if any(self._status(tx_hash).block_number is not None for tx_hash in send.tx_hashes):
            return Broadcast(None)
        return Broadcast(
            f"{what} went to a transaction Croupier did not sign ({reason}); needs an operator",
            must_wait=True,
        )

    def _mined(self, send: InFlightSend, status: TxStatus) -> SendStatus:
        """Pending until ``confirmations_for`` the currency deep, then final: confirmed,
        or (Ethereum) reverted, with the fee it cost recorded on the send."""
        required = self._settings.confirmations_for(Currency.parse(send.currency))
        if status.confirmations < required:
            note = f"{status.confirmations}/{required} confirmations"
            return SendStatus(
                send, SendOutcome.PENDING, status.tx_hash, status.confirmations, "0", note
            )
        reverted = status.state is TxState.FAILED
        fee_paid = self._fee_paid(send, status.tx_hash)
        sends.finish_send(
            self._engine,
            uuid.UUID(send.withdrawal_id),
            tx_hash=status.tx_hash,
            reverted=reverted,
            fee_paid=fee_paid,
        )
        return SendStatus(
            send,
            SendOutcome.REVERTED if reverted else SendOutcome.CONFIRMED,
            status.tx_hash,
            status.confirmations,
            str(fee_paid),
            "reverted on chain" if reverted else "final",
        )

    @abstractmethod
    def _signed(self, withdrawal_id: uuid.UUID) -> Sequence[StoredTransaction]:
        """Every transaction signed for the send, oldest first."""

    @abstractmethod
    def _sign_first(self, order: SendOrder, send: sends.SendRecord) -> str | None:
        """Sign and store the send's first transaction, or say why it must wait."""

    @abstractmethod
    def _send_raw(self, raw: bytes) -> None:
        """Broadcast signed bytes; a known transaction is a no-op, a refusal is typed."""

    @abstractmethod
    def _status(self, tx_hash: str) -> TxStatus: ...

    @abstractmethod
    def _fee_paid(self, send: InFlightSend, tx_hash: str) -> int:
        """What the mined ``tx_hash`` cost the hot wallet, in the chain's native units."""

    @abstractmethod
    def _replace(self, send: InFlightSend, order: WatchOrder) -> tuple[InFlightSend, str]:
        """A stuck send's replacement signed, stored and broadcast (or why not)."""
