"""The Bitcoin hot wallet: coins chosen per send, opt-in RBF, replacement by the same inputs.

A send is planned from the hot address's confirmed coins that no other send in flight
has signed for (``croupier.payments.btc_sends`` owns that reservation), pays the
withdrawal and returns the change to the hot address, and signals BIP-125 on every
input. It is signed once, stored, then broadcast; run again, the same bytes go out.

A send still unmined after ``hot_wallet_stuck_after_s`` is replaced by one spending the
same inputs (plus confirmed coins if the change cannot absorb the bump) at a higher
feerate (``croupier.chains.bitcoin.rbf``), so the two conflict and one at most confirms.
A feerate above ``CROUPIER_BTC_MAX_FEE_RATE_SAT_VB`` makes a send wait instead of paying.

Only confirmed coins are spent, never our own unconfirmed change: a replacement of a
parent would evict every child built on its change, and those sends would have to be
signed anew. A hot wallet with few coins therefore sends one transaction a block at
worst, which is what a casino's payout rate needs anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Engine

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
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.coins import SpendPlan, TxOut, Utxo, plan_spend
from croupier.chains.bitcoin.errors import (
    FeeRateAboveCap,
    InputsMissingOrSpent,
    InsufficientUtxos,
)
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.rbf import plan_replacement
from croupier.chains.bitcoin.signing import SignedTransaction
from croupier.chains.errors import BroadcastRejected
from croupier.core.money import Currency, parse_minor_units
from croupier.core.settings import Settings
from croupier.payments import btc_sends, sends
from croupier.payments.errors import UnsupportedCurrency
from croupier.treasury.hd import HOT_WALLET_ACCOUNT

CHAIN = "bitcoin"


class BitcoinHotWallet(HotWalletFlow):
    """The ``HotWallet`` of Bitcoin over one node (bitcoind, or the test simulator)."""

    chain = CHAIN

    def __init__(
        self, engine: Engine, client: BitcoinClient, signer: SignerSource, settings: Settings
    ) -> None:
        super().__init__(engine, settings)
        self._client = client
        self._signer = signer
        self._addresses: dict[int, str] = {}

    def prepare(self, key: SenderKey) -> SenderSetup:
        """The hot address (now watched by the node's wallet), the next send ordinal, and
        the sends a previous sender left in flight."""
        # Spending on another network's node would move real money, or test money as real.
        self._client.ensure_network()
        address = self.hot_address(key.hot_index)
        self._client.watch([address])
        return SenderSetup(
            address=address,
            next_nonce=sends.next_nonce_after_sends(self._engine, chain=CHAIN, sender=address),
            poll_interval_s=self._settings.hot_wallet_poll_s,
            restored=self._restored(key, address),
        )

    def hot_address(self, hot_index: int) -> str:
        if hot_index not in self._addresses:
            self._addresses[hot_index] = self._signer.get().btc_address(
                hot_index, self._client.network, account=HOT_WALLET_ACCOUNT
            )
        return self._addresses[hot_index]

    # -- sending -------------------------------------------------------------------------

    def _signed(self, withdrawal_id: uuid.UUID) -> Sequence[btc_sends.StoredSpend]:
        return btc_sends.spends(self._engine, withdrawal_id)

    def _sign_first(self, order: SendOrder, send: sends.SendRecord) -> str | None:
        """Plan and sign the send's first transaction and store it; or say why it must
        wait (fees above the cap, not enough confirmed coins in the hot wallet)."""
        if Currency.parse(order.request.currency) is not Currency.BTC:
            raise UnsupportedCurrency(f"the Bitcoin hot wallet sends no {order.request.currency}")
        payment = TxOut(order.request.to_address, parse_minor_units(order.request.amount))
        try:
            plan = plan_spend(
                self._spendable(order.sender),
                [payment],
                change_address=order.sender,
                target=FeeTarget(self._client.market_fee_rate_sat_kvb()),
                policy=self._client.policy,
            )
        except FeeRateAboveCap as error:
            return f"the feerate exceeds the cap ({error}); waiting for cheaper fees"
        except InsufficientUtxos as error:
            return f"the hot wallet cannot pay now ({error}); waiting for confirmed coins"
        signed = self._sign(plan, order.hot_index)
        btc_sends.record_spend(self._engine, send.withdrawal_id, signed)
        return None

    def _spendable(self, sender: str) -> list[Utxo]:
        """The hot address's confirmed coins that no send in flight has signed for."""
        reserved = btc_sends.reserved_coins(self._engine, sender=sender)
        return [
            coin
            for coin in self._client.utxos([sender])
            if coin.confirmations >= 1 and coin.outpoint not in reserved
        ]

    def _send_raw(self, raw: bytes) -> None:
        self._client.broadcast(raw)

    def _refused(self, error: BroadcastRejected, send: InFlightSend) -> Broadcast:
        if isinstance(error, InputsMissingOrSpent):
            return self._taken(send, "its coins", error.reason)
        return super()._refused(error, send)

    # -- watching ------------------------------------------------------------------------

    def _fee_paid(self, send: InFlightSend, tx_hash: str) -> int:
        """The fee of the send's transaction that was mined, as signed (Bitcoin fees are
        fixed by the transaction itself)."""
        signed = self._signed(uuid.UUID(send.withdrawal_id))
        return next(spend.signed.fee_sat for spend in signed if spend.txid == tx_hash)

    def _replace(self, send: InFlightSend, order: WatchOrder) -> tuple[InFlightSend, str]:
        """A stuck transaction's replacement: the same inputs and payment at a higher
        feerate (the market's, or the least a node accepts), within the cap."""
        withdrawal_id = uuid.UUID(send.withdrawal_id)
        latest = btc_sends.spends(self._engine, withdrawal_id)[-1].signed
        sender = self.hot_address(order.hot_index)
        try:
            plan = plan_replacement(
                latest,
                fee_rate_sat_kvb=self._client.market_fee_rate_sat_kvb(),
                utxos=self._spendable(sender),
                change_address=sender,
                policy=self._client.policy,
            )
        except FeeRateAboveCap as error:
            return send, f"stuck, but a replacement's feerate exceeds the cap ({error})"
        except InsufficientUtxos as error:
            return send, f"stuck, and the hot wallet cannot pay a higher fee now ({error})"
        signed = self._sign(plan, order.hot_index)
        btc_sends.record_spend(self._engine, withdrawal_id, signed)
        replaced = replace(send, tx_hashes=(*send.tx_hashes, signed.txid), last_sent_at=order.now)
        note = self._broadcast(signed.raw, replaced).note
        return replaced, note or (
            f"stuck; replaced by {signed.txid} paying {signed.fee_sat} sat "
            f"({signed.fee_rate_sat_kvb} sat/kvB)"
        )

    def _sign(self, plan: SpendPlan, hot_index: int) -> SignedTransaction:
        return self._signer.get().sign_btc_spend(
            plan, hot_index, self._client.network, account=HOT_WALLET_ACCOUNT
        )

    def _status(self, txid: str) -> TxStatus:
        return self._client.transaction_status(txid)
