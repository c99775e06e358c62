"""Consolidation transactions from deposit addresses: sign, store, broadcast, watch.

The Hot Wallet Sender owns the hot address only; a deposit address has no other sender
(one movement in flight per address), so its transaction is signed here with the
address's key, nonce the chain's next, and stored before it is broadcast
(``croupier.sweeps.address_sends``). Fees above the cap make it wait; a dropped
transaction is broadcast again; one unmined past ``hot_wallet_stuck_after_s`` is replaced
with the same nonce and at least 10% higher fees, within the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.btc_consolidation import BitcoinConsolidation
from croupier.activities.failures import maps_business_failures
from croupier.activities.movements import MovementOutcome, fee_paid_wei, gas_limit
from croupier.activities.signing import SignerSource
from croupier.chains.base import TxState, TxStatus
from croupier.chains.errors import BroadcastRejected, FeeTooLow, InsufficientGasFunds, NonceTooLow
from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.tx import (
    FeeDecision,
    UnsignedTx,
    encode_erc20_transfer,
    market_fees,
    replacement_fees,
)
from croupier.core.settings import Settings
from croupier.payments.errors import UnsupportedCurrency
from croupier.sweeps import address_sends
from croupier.sweeps.movements import Movement, get_movement
from croupier.treasury.hd import DEPOSIT_ACCOUNT


@dataclass(frozen=True)
class AddressSendOrder:
    movement_id: str
    now: datetime


@dataclass(frozen=True)
class AddressSend:
    """A deposit-address transaction: sent (``tx_hash``, latest), or why it waits."""

    movement_id: str
    tx_hash: str | None
    wait_reason: str | None
    sent_at: datetime


@dataclass(frozen=True)
class AddressWatch:
    sends: tuple[AddressSend, ...]
    now: datetime


@dataclass(frozen=True)
class AddressSendStatus:
    """Still pending (``send`` as it stands now, with a note), or final (``outcome``)."""

    send: AddressSend
    outcome: MovementOutcome | None
    note: str


class AddressSendActivities:
    """Ethereum's deposit-address transactions here; Bitcoin's batches are stored when
    planned and handed to ``bitcoin`` (``croupier.activities.btc_consolidation``)."""

    def __init__(
        self,
        engine: Engine,
        chain: EthereumClient,
        signer: SignerSource,
        settings: Settings,
        bitcoin: BitcoinConsolidation | None = None,
    ) -> None:
        self._engine = engine
        self._chain = chain
        self._signer = signer
        self._settings = settings
        self._bitcoin = bitcoin

    @activity.defn(name="treasury.send_from_deposit_address")
    @maps_business_failures
    def send_from_deposit_address(self, order: AddressSendOrder) -> AddressSend:
        """Sign (once) and broadcast a consolidation from its deposit address; run again,
        it broadcasts the stored bytes. Fees above the cap make it wait."""
        movement_id, now = order.movement_id, order.now
        bitcoin = self._bitcoin_of(movement_id)
        if bitcoin is not None:
            txid, wait_reason = bitcoin.send(movement_id)
            return AddressSend(movement_id, txid, wait_reason, now)
        signed = address_sends.attempts(self._engine, movement_id)
        if not signed:
            wait_reason = self._sign_first(get_movement(self._engine, movement_id))
            if wait_reason is not None:
                return AddressSend(movement_id, None, wait_reason, now)
            signed = address_sends.attempts(self._engine, movement_id)
        latest = signed[-1]
        return AddressSend(movement_id, latest.tx_hash, self._broadcast(latest.raw), now)

    @activity.defn(name="treasury.watch_deposit_address_sends")
    @maps_business_failures
    def watch_deposit_address_sends(self, watch: AddressWatch) -> tuple[AddressSendStatus, ...]:
        """Where each consolidation stands: final at depth, or pending (a dropped
        transaction is broadcast again, a stuck one replaced with higher fees)."""
        statuses = []
        for send in watch.sends:
            statuses.append(self._watch(send, watch.now))
            activity.heartbeat(send.movement_id)
        return tuple(statuses)

    def _sign_first(self, movement: Movement) -> str | None:
        """Build, price (within the cap) and sign the consolidation, and store it; or say
        why it must wait."""
        decision = self._market()
        if decision.fees is None:
            return decision.wait_reason
        if movement.currency is movement.native:
            to, value_wei, data = movement.to_address, movement.amount, b""
        else:
            to, value_wei = self._chain.token_address(movement.currency), 0
            data = encode_erc20_transfer(movement.to_address, movement.amount)
        limit = gas_limit(movement.currency)
        assert limit * self._settings.eth_max_fee_cap_wei <= movement.fee_reserved, (
            "the fee held for the movement covers its worst case"
        )
        unsigned = UnsignedTx(
            chain_id=self._settings.eth_chain_id,
            sender=parse_address(movement.from_address),
            nonce=self._chain.nonce(movement.from_address, include_pending=True),
            to=parse_address(to),
            value_wei=value_wei,
            data=data,
            gas_limit=limit,
            fees=decision.fees,
        )
        assert movement.hd_index is not None
        signed = self._signer.get().sign_eth_transaction(
            unsigned, movement.hd_index, account=DEPOSIT_ACCOUNT
        )
        address_sends.record_attempt(self._engine, movement.id, signed)
        return None

    def _broadcast(self, raw: bytes) -> str | None:
        """Send the bytes (again); a refusal other than "underpriced" is a reason to wait."""
        try:
            self._chain.broadcast(raw)
        except FeeTooLow as error:
            return f"underpriced for now ({error.reason}); replaced if it stays stuck"
        except (InsufficientGasFunds, NonceTooLow, BroadcastRejected) as error:
            return f"the node refused it: {error}"
        return None

    def _bitcoin_of(self, movement_id: str) -> BitcoinConsolidation | None:
        """The Bitcoin consolidation a movement of that chain goes to (None: Ethereum)."""
        chain = get_movement(self._engine, movement_id).chain
        if chain == self._chain.chain:
            return None
        if self._bitcoin is None:
            raise UnsupportedCurrency(f"this worker moves no {chain} coins")
        return self._bitcoin

    def _watch(self, send: AddressSend, now: datetime) -> AddressSendStatus:
        bitcoin = self._bitcoin_of(send.movement_id)
        if bitcoin is not None:
            outcome, note = bitcoin.watch(send.movement_id)
            return AddressSendStatus(send, outcome, note)
        if send.tx_hash is None:  # never signed (fees were above the cap): try now
            retried = self.send_from_deposit_address(AddressSendOrder(send.movement_id, now))
            return AddressSendStatus(retried, None, retried.wait_reason or "sent")
        signed = address_sends.attempts(self._engine, send.movement_id)
        statuses = [self._chain.transaction_status(tx.tx_hash) for tx in signed]
        mined = [status for status in statuses if status.block_number is not None]
        assert len(mined) <= 1, f"two transactions of movement {send.movement_id} were mined"
        if mined:
            return self._mined(send, mined[0])
        note = "waiting to be mined"
        if statuses[-1].state is TxState.UNKNOWN:
            note = self._broadcast(signed[-1].raw) or "dropped by the node; sent again"
        if now - send.sent_at >= timedelta(seconds=self._settings.hot_wallet_stuck_after_s):
            return self._replace(send, now)
        return AddressSendStatus(send, None, note)

    def _mined(self, send: AddressSend, status: TxStatus) -> AddressSendStatus:
        movement = get_movement(self._engine, send.movement_id)
        required = self._settings.confirmations_for(movement.currency)
        if not status.is_final(required):
            return AddressSendStatus(send, None, f"{status.confirmations}/{required} confirmations")
        outcome = MovementOutcome(
            send.movement_id,
            status.tx_hash,
            reverted=status.state is TxState.FAILED,
            fee_paid=str(fee_paid_wei(self._chain, status.tx_hash)),
        )
        return AddressSendStatus(replace(send, tx_hash=status.tx_hash), outcome, "final")

    def _replace(self, send: AddressSend, now: datetime) -> AddressSendStatus:
        """Same nonce, both fees up at least 10% (or to the market), within the cap."""
        movement = get_movement(self._engine, send.movement_id)
        latest = address_sends.attempts(self._engine, send.movement_id)[-1]
        decision = replacement_fees(
            latest.tx.fees, self._market(), max_fee_cap_wei=self._settings.eth_max_fee_cap_wei
        )
        if decision.fees is None:
            return AddressSendStatus(send, None, f"stuck, but {decision.wait_reason}")
        assert movement.hd_index is not None
        signed = self._signer.get().sign_eth_transaction(
            latest.tx.replaced_with(decision.fees), movement.hd_index, account=DEPOSIT_ACCOUNT
        )
        address_sends.record_attempt(self._engine, movement.id, signed)
        note = self._broadcast(signed.raw) or f"stuck; replaced by {signed.tx_hash}"
        return AddressSendStatus(AddressSend(movement.id, signed.tx_hash, None, now), None, note)

    def _market(self) -> FeeDecision:
        return market_fees(
            self._chain.fee_estimate(),
            priority_fee_wei=self._settings.eth_priority_fee_wei,
            max_fee_cap_wei=self._settings.eth_max_fee_cap_wei,
        )
