"""The Ethereum hot wallet: one nonce per send, EIP-1559 fees, replacement by nonce.

A send claims its nonce once (``croupier.payments.sends``); every transaction signed
for it (the first, and each replacement with at least 10% higher fees, within the cap)
uses that nonce, so the chain can include only one. Fees above the cap make a send
wait rather than overpay; a dropped transaction is broadcast again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Engine
from temporalio import activity
from web3.exceptions import ContractLogicError

from croupier.activities.hot_wallet import (
    InFlightSend,
    SenderKey,
    SenderSetup,
    SendOrder,
    WatchOrder,
)
from croupier.activities.hot_wallet_flow import Broadcast, HotWalletFlow
from croupier.activities.signing import SignerSource
from croupier.chains.base import TxStatus
from croupier.chains.errors import BroadcastRejected, InsufficientGasFunds, NonceTooLow
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


class EthereumHotWallet(HotWalletFlow):
    """The ``HotWallet`` of Ethereum (ETH and ERC-20 tokens) over one node."""

    chain = "ethereum"

    def __init__(
        self, engine: Engine, client: EthereumClient, signer: SignerSource, settings: Settings
    ) -> None:
        super().__init__(engine, settings)
        self._chain = client
        self._signer = signer

    def prepare(self, key: SenderKey) -> SenderSetup:
        """The hot address, its next nonce, and the sends a previous sender left in flight."""
        # Signing for another chain's node would spend real money on the wrong network.
        self._chain.ensure_chain_id(self._settings.eth_chain_id)
        address = self.hot_address(key.hot_index)
        chain_next = self._chain.nonce(address, include_pending=True)
        claimed_next = sends.next_nonce_after_sends(self._engine, chain=key.chain, sender=address)
        return SenderSetup(
            address=address,
            next_nonce=max(chain_next, claimed_next),
            poll_interval_s=self._settings.hot_wallet_poll_s,
            restored=self._restored(key, address),
        )

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

    def _signed(self, withdrawal_id: uuid.UUID) -> Sequence[sends.StoredTx]:
        return sends.attempts(self._engine, withdrawal_id)

    def _sign_first(self, order: SendOrder, send: sends.SendRecord) -> str | None:
        """Build, price and sign the withdrawal's first transaction and store it (on a
        nonce nobody used outside Croupier); or say why it must wait (fees above the
        cap, not enough funds in the hot wallet)."""
        nonce = self._avoid_outside_nonce(send).nonce
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

    def _send_raw(self, raw: bytes) -> None:
        self._chain.broadcast(raw)

    def _refused(self, error: BroadcastRejected, send: InFlightSend) -> Broadcast:
        if isinstance(error, InsufficientGasFunds):
            return Broadcast(f"the hot wallet cannot pay ({error.reason})", must_wait=True)
        if isinstance(error, NonceTooLow):
            return self._taken(send, f"nonce {send.nonce}", error.reason)
        return super()._refused(error, send)

    # -- watching ------------------------------------------------------------------------

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

    def _fee_paid(self, send: InFlightSend, tx_hash: str) -> int:
        """What the transaction cost the hot wallet: gas used times the price paid."""
        receipt = self._chain.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
