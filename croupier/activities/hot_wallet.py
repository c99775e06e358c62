"""Hot-wallet activities: claim a nonce, sign, broadcast, watch, replace.

The Hot Wallet Sender workflow calls these one at a time, so for one hot address there
is one writer of nonces; the database (``croupier.payments.sends``) makes each step
idempotent and remembers every signed transaction before it is broadcast. Nothing here
ever gives up on money that may already be on its way: a send that cannot go out now
(fees above the cap, an empty hot wallet, a node refusing it) is a "wait" with the
reason, retried by the workflow; only the chain itself ends a send, at depth, with the
transaction included or reverted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine
from temporalio import activity
from web3.exceptions import ContractLogicError

from croupier.activities.failures import maps_business_failures
from croupier.activities.signing import SignerSource
from croupier.chains.base import TxState, TxStatus
from croupier.chains.errors import BroadcastRejected, FeeTooLow, InsufficientGasFunds, NonceTooLow
from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.tx import (
    NATIVE_TRANSFER_GAS,
    FeeDecision,
    UnsignedTx,
    encode_erc20_transfer,
    market_fees,
    replacement_fees,
)
from croupier.core.money import Currency, parse_minor_units
from croupier.core.settings import Settings
from croupier.payments import sends
from croupier.treasury.hd import HOT_WALLET_ACCOUNT

# The most sends a sender restores from the database when it starts afresh.
MAX_RESTORED_SENDS = 64


@dataclass(frozen=True)
class SenderKey:
    chain: str
    hot_index: int
    now: datetime


@dataclass(frozen=True)
class SendRequest:
    """A send: amount in minor units of ``currency`` to ``to_address``. ``withdrawal_id``
    is the send's id: a withdrawal's, or a treasury movement's (a sweep to cold, a gas
    top-up), which names the workflow to tell in ``reply_to`` (None: the withdrawal's)."""

    withdrawal_id: str
    currency: str
    amount: str
    to_address: str
    reply_to: str | None = None


@dataclass(frozen=True)
class InFlightSend:
    """A withdrawal's send on its way: its nonce and every transaction signed for it."""

    withdrawal_id: str
    currency: str
    nonce: int
    tx_hashes: tuple[str, ...]
    last_sent_at: datetime
    reply_to: str | None = None


@dataclass(frozen=True)
class SenderSetup:
    address: str
    next_nonce: int
    poll_interval_s: float
    restored: tuple[InFlightSend, ...]


@dataclass(frozen=True)
class SendOrder:
    request: SendRequest
    sender: str
    hot_index: int
    next_nonce: int
    now: datetime


@dataclass(frozen=True)
class SendAttempt:
    """Either the send is out (``in_flight``), or why it has to wait (``wait_reason``)."""

    in_flight: InFlightSend | None
    wait_reason: str | None = None

    def __post_init__(self) -> None:
        assert (self.in_flight is None) != (self.wait_reason is None), "sent xor wait"


@dataclass(frozen=True)
class WatchOrder:
    sends: tuple[InFlightSend, ...]
    hot_index: int
    now: datetime


@dataclass(frozen=True)
class _Broadcast:
    note: str | None
    must_wait: bool = False


class SendOutcome:
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REVERTED = "reverted"


@dataclass(frozen=True)
class SendStatus:
    """A watched send: still ``pending`` (with what happened, in ``note``), or final at
    depth: ``confirmed`` or ``reverted`` by ``tx_hash``, having cost ``fee_paid_wei``."""

    send: InFlightSend
    outcome: str
    tx_hash: str | None
    confirmations: int
    fee_paid_wei: str
    note: str


class HotWalletActivities:
    def __init__(
        self, engine: Engine, chain: EthereumClient, signer: SignerSource, settings: Settings
    ) -> None:
        self._engine = engine
        self._chain = chain
        self._signer = signer
        self._settings = settings

    @activity.defn(name="payments.prepare_sender")
    @maps_business_failures
    def prepare_sender(self, key: SenderKey) -> SenderSetup:
        """The hot address, its next nonce, and the sends a previous sender left in flight."""
        # Signing for another chain's node would spend real money on the wrong network.
        self._chain.ensure_chain_id(self._settings.eth_chain_id)
        address = self.hot_address(key.hot_index)
        chain_next = self._chain.nonce(address, include_pending=True)
        claimed_next = sends.next_nonce_after_sends(self._engine, chain=key.chain, sender=address)
        restored = []
        for send in sends.unfinished_sends(
            self._engine, chain=key.chain, sender=address, limit=MAX_RESTORED_SENDS
        ):
            signed = sends.attempts(self._engine, send.withdrawal_id)
            assert send.currency is not None, f"send {send.withdrawal_id} names no currency"
            restored.append(
                InFlightSend(
                    withdrawal_id=str(send.withdrawal_id),
                    currency=send.currency,
                    nonce=send.nonce,
                    tx_hashes=tuple(tx.tx_hash for tx in signed),
                    last_sent_at=key.now,
                    reply_to=send.reply_to,
                )
            )
        return SenderSetup(
            address=address,
            next_nonce=max(chain_next, claimed_next),
            poll_interval_s=self._settings.hot_wallet_poll_s,
            restored=tuple(send for send in restored if send.tx_hashes),
        )

    @activity.defn(name="payments.send_withdrawal")
    @maps_business_failures
    def send_withdrawal(self, order: SendOrder) -> SendAttempt:
        """Claim the withdrawal's nonce, sign once, store, broadcast. Run again, it finds
        the stored transaction and broadcasts the same bytes: never a second payment."""
        request = order.request
        withdrawal_id = uuid.UUID(request.withdrawal_id)
        send = sends.claim_nonce(
            self._engine,
            withdrawal_id,
            chain=self._chain.chain,
            sender=order.sender,
            at_least=order.next_nonce,
            currency=request.currency,
            reply_to=request.reply_to,
        )
        activity.heartbeat(send.nonce)
        signed = sends.attempts(self._engine, withdrawal_id)
        if not signed:
            send = self._avoid_outside_nonce(send)
            wait_reason = self._sign_first(order, send.nonce)
            if wait_reason is not None:
                return SendAttempt(in_flight=None, wait_reason=wait_reason)
            signed = sends.attempts(self._engine, withdrawal_id)
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

    @activity.defn(name="payments.watch_sends")
    @maps_business_failures
    def watch_sends(self, order: WatchOrder) -> tuple[SendStatus, ...]:
        """Where each send stands: final at depth, or pending; a dropped transaction is
        broadcast again, a stuck one replaced with higher fees (same nonce)."""
        statuses = []
        for send in order.sends:
            statuses.append(self._watch(send, order))
            activity.heartbeat(send.withdrawal_id)
        return tuple(statuses)

    def hot_address(self, hot_index: int) -> str:
        return self._signer.get().eth_address(hot_index, account=HOT_WALLET_ACCOUNT)

    # -- sending -------------------------------------------------------------------------

    def _avoid_outside_nonce(self, send: sends.SendRecord) -> sends.SendRecord:
        """Before the first signature: if the chain already used this nonce (someone sent
        from the hot key outside Croupier), take the next free one. Safe only now, while
        no transaction of ours exists for the old nonce."""
        chain_next = self._chain.nonce(send.sender, include_pending=True)
        if send.nonce >= chain_next:
            return send
        activity.logger.warning(
            "hot wallet nonce %s was used outside Croupier; moving withdrawal %s on",
            send.nonce,
            send.withdrawal_id,
        )
        return sends.move_to_nonce(self._engine, send.withdrawal_id, at_least=chain_next)

    def _sign_first(self, order: SendOrder, nonce: int) -> str | None:
        """Build, price and sign the withdrawal's first transaction and store it; or say
        why it must wait (fees above the cap, not enough funds in the hot wallet)."""
        decision = self._market()
        if decision.fees is None:
            return decision.wait_reason
        request = order.request
        currency = Currency.parse(request.currency)
        amount = parse_minor_units(request.amount)
        if currency is Currency.ETH:
            to, value_wei, data, gas_limit = request.to_address, amount, b"", NATIVE_TRANSFER_GAS
        else:
            to = self._chain.token_address(currency)
            value_wei, data = 0, encode_erc20_transfer(request.to_address, amount)
            try:
                gas_limit = self._chain.estimate_gas_limit(order.sender, to, data)
            except ContractLogicError as error:
                return f"the hot wallet cannot send {currency} now ({error}); waiting for funds"
        unsigned = UnsignedTx(
            chain_id=self._settings.eth_chain_id,
            sender=parse_address(order.sender),
            nonce=nonce,
            to=parse_address(to),
            value_wei=value_wei,
            data=data,
            gas_limit=gas_limit,
            fees=decision.fees,
        )
        needed_wei = value_wei + gas_limit * decision.fees.max_fee_per_gas
        held_wei = self._chain.balance(order.sender, Currency.ETH)
        if held_wei < needed_wei:
            return f"the hot wallet holds {held_wei} wei, the send needs up to {needed_wei}"
        signed = self._signer.get().sign_eth_transaction(
            unsigned, order.hot_index, account=HOT_WALLET_ACCOUNT
        )
        sends.record_attempt(self._engine, uuid.UUID(request.withdrawal_id), signed)
        return None

    def _broadcast(self, raw: bytes, send: InFlightSend) -> _Broadcast:
        """Send the bytes (again). Underpriced counts as out: the watch replaces it once
        stuck. A node that refuses for another reason makes the send wait."""
        try:
            self._chain.broadcast(raw)
        except FeeTooLow as error:
            return _Broadcast(f"underpriced for now ({error.reason}); replaced if it stays stuck")
        except InsufficientGasFunds as error:
            return _Broadcast(f"the hot wallet cannot pay ({error.reason})", must_wait=True)
        except NonceTooLow as error:
            if any(self._status(tx).block_number is not None for tx in send.tx_hashes):
                return _Broadcast(None)
            return _Broadcast(
                f"nonce {send.nonce} was used by a transaction Croupier did not sign "
                f"({error.reason}); needs an operator",
                must_wait=True,
            )
        except BroadcastRejected as error:
            return _Broadcast(f"the node refused it: {error.reason}", must_wait=True)
        return _Broadcast(None)

    # -- watching ------------------------------------------------------------------------

    def _watch(self, send: InFlightSend, order: WatchOrder) -> SendStatus:
        statuses = [self._status(tx_hash) for tx_hash in send.tx_hashes]
        mined = [status for status in statuses if status.block_number is not None]
        assert len(mined) <= 1, f"two transactions with nonce {send.nonce} in the chain"
        if mined:
            return self._mined(send, mined[0])
        note = "waiting to be mined"
        if statuses[-1].state is TxState.UNKNOWN:
            signed = sends.attempts(self._engine, uuid.UUID(send.withdrawal_id))
            note = self._broadcast(signed[-1].raw, send).note or "dropped by the node; sent again"
        stuck_for = order.now - send.last_sent_at
        if stuck_for >= timedelta(seconds=self._settings.hot_wallet_stuck_after_s):
            send, note = self._replace(send, order)
        return SendStatus(send, SendOutcome.PENDING, None, 0, "0", note)

    def _mined(self, send: InFlightSend, status: TxStatus) -> SendStatus:
        required = self._settings.confirmations_for(Currency.parse(send.currency))
        if status.confirmations < required:
            note = f"{status.confirmations}/{required} confirmations"
            return SendStatus(
                send, SendOutcome.PENDING, status.tx_hash, status.confirmations, "0", note
            )
        reverted = status.state is TxState.FAILED
        fee_paid_wei = self._fee_paid_wei(status.tx_hash)
        sends.finish_send(
            self._engine,
            uuid.UUID(send.withdrawal_id),
            tx_hash=status.tx_hash,
            reverted=reverted,
            fee_paid=fee_paid_wei,
        )
        return SendStatus(
            send,
            SendOutcome.REVERTED if reverted else SendOutcome.CONFIRMED,
            status.tx_hash,
            status.confirmations,
            str(fee_paid_wei),
            "reverted on chain" if reverted else "final",
        )

    def _replace(self, send: InFlightSend, order: WatchOrder) -> tuple[InFlightSend, str]:
        """A stuck transaction's replacement: same nonce, both fees up at least 10% (or
        to the market), within the cap; above the cap we keep waiting instead."""
        withdrawal_id = uuid.UUID(send.withdrawal_id)
        latest = sends.attempts(self._engine, withdrawal_id)[-1]
        decision = replacement_fees(
            latest.tx.fees, self._market(), max_fee_cap_wei=self._settings.eth_max_fee_cap_wei
        )
        if decision.fees is None:
            return send, f"stuck, but {decision.wait_reason}"
        signed = self._signer.get().sign_eth_transaction(
            latest.tx.replaced_with(decision.fees), order.hot_index, account=HOT_WALLET_ACCOUNT
        )
        sends.record_attempt(self._engine, withdrawal_id, signed)
        replaced = replace(
            send, tx_hashes=(*send.tx_hashes, signed.tx_hash), last_sent_at=order.now
        )
        note = self._broadcast(signed.raw, replaced).note
        return replaced, note or (
            f"stuck; replaced by {signed.tx_hash} paying up to "
            f"{decision.fees.max_fee_per_gas} wei/gas"
        )

    def _market(self) -> FeeDecision:
        return market_fees(
            self._chain.fee_estimate(),
            priority_fee_wei=self._settings.eth_priority_fee_wei,
            max_fee_cap_wei=self._settings.eth_max_fee_cap_wei,
        )

    def _status(self, tx_hash: str) -> TxStatus:
        return self._chain.transaction_status(tx_hash)

    def _fee_paid_wei(self, tx_hash: str) -> int:
        """What the transaction cost the hot wallet: gas used times the price paid."""
        receipt = self._chain.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
