"""What a Refill reads from each chain: the submitted cold-signed transaction, checked
against the refill, its status, and the fee it paid once final.

The Refill workflow, its approvals and its ledger legs are chain-neutral; these adapters
are the rest. Ethereum's transaction names its sender, value and data; its fee is bound
by gas limit times fee cap until the receipt says what it cost. A Bitcoin transaction
names only the coins it spends, each looked up on the node to see whose it was and what
it held; its fee (inputs minus outputs) is exact from the start.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from web3.exceptions import TransactionNotFound

from croupier.activities.movements import fee_paid_wei
from croupier.activities.treasury_chains import BitcoinTreasury, EthereumTreasury, TreasuryChain
from croupier.chains.base import TxStatus
from croupier.chains.bitcoin.backend import OutPoint
from croupier.core.settings import Settings
from croupier.sweeps import refills
from croupier.sweeps.btc_refills import (
    BitcoinRefillTransaction,
    BtcCoin,
    check_btc_refill_transaction,
)
from croupier.sweeps.errors import RefillTransactionMismatch, RefillTransactionUnknown
from croupier.sweeps.keys import NATIVE_CURRENCY

TreasuryT = TypeVar("TreasuryT", EthereumTreasury, BitcoinTreasury)


class RefillChain(Protocol):
    @property
    def treasury(self) -> TreasuryChain:
        """The chain's hot address and checked cold address."""
        ...

    def checked_transaction(
        self, record: refills.RefillRecord, tx_hash: str
    ) -> refills.SubmittedTransaction:
        """The node's transaction ``tx_hash`` if it is exactly the refill
        (``RefillTransactionUnknown``, ``RefillTransactionMismatch`` otherwise)."""
        ...

    def status(self, tx_hash: str) -> TxStatus: ...

    def fee_paid(self, tx_hash: str, held: int) -> int:
        """What the final transaction cost the cold wallet (``held``: its fee hold)."""
        ...


class _Refills(Generic[TreasuryT]):
    """What both adapters share: the chain's treasury adapter and the node's status."""

    def __init__(self, treasury: TreasuryT) -> None:
        self._treasury: TreasuryT = treasury

    @property
    def treasury(self) -> TreasuryChain:
        return self._treasury

    def status(self, tx_hash: str) -> TxStatus:
        return self._treasury.client.transaction_status(tx_hash)


class EthereumRefills(_Refills[EthereumTreasury]):
    def __init__(self, treasury: EthereumTreasury, settings: Settings) -> None:
        super().__init__(treasury)
        self._settings = settings

    def checked_transaction(
        self, record: refills.RefillRecord, tx_hash: str
    ) -> refills.SubmittedTransaction:
        tx = self._observed(tx_hash)
        token = None
        if record.currency is not NATIVE_CURRENCY[record.chain]:
            token = self._treasury.client.token_address(record.currency)
        refills.check_refill_transaction(
            record, tx, chain_id=self._settings.eth_chain_id, token=token
        )
        return tx

    def fee_paid(self, tx_hash: str, held: int) -> int:
        return fee_paid_wei(self._treasury.client, tx_hash)

    def _observed(self, tx_hash: str) -> refills.RefillTransaction:
        """The transaction as the node has it (mined or pending)."""
        try:
            tx = self._treasury.client.web3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            raise _unknown(tx_hash) from None
        max_fee = tx.get("maxFeePerGas", tx.get("gasPrice"))
        assert max_fee is not None, f"transaction {tx_hash} names no fee"
        return refills.RefillTransaction(
            tx_hash=tx_hash.lower(),
            chain_id=int(tx.get("chainId", self._settings.eth_chain_id)),
            sender=tx["from"],
            to=tx.get("to"),
            value_wei=int(tx["value"]),
            data=bytes(tx["input"]),
            gas_limit=int(tx["gas"]),
            max_fee_per_gas=int(max_fee),
        )


class BitcoinRefills(_Refills[BitcoinTreasury]):
    def checked_transaction(
        self, record: refills.RefillRecord, tx_hash: str
    ) -> refills.SubmittedTransaction:
        client = self._treasury.client
        found = client.transaction(tx_hash)
        if found is None:
            raise _unknown(tx_hash)
        if found.is_coinbase:
            raise RefillTransactionMismatch(f"transaction {tx_hash} is a coinbase, not a refill")
        tx = BitcoinRefillTransaction(
            tx_hash=tx_hash,
            spent=tuple(self._spent(point) for point in found.inputs),
            outputs=tuple(BtcCoin(o.address, o.value_sat) for o in found.outputs),
        )
        check_btc_refill_transaction(record, tx)
        return tx

    def fee_paid(self, tx_hash: str, held: int) -> int:
        """The fee held at acceptance: a Bitcoin transaction's fee is fixed by its
        inputs and outputs, so the mined one paid exactly that."""
        return held

    def _spent(self, point: OutPoint) -> BtcCoin:
        output = self._treasury.client.spent_output(point)
        if output is None:  # the node accepted the transaction, so only without -txindex
            raise RefillTransactionUnknown(
                f"the node cannot show coin {point.txid}:{point.vout} (is -txindex on?)"
            )
        return BtcCoin(output.address, output.value_sat)


def _unknown(tx_hash: str) -> RefillTransactionUnknown:
    return RefillTransactionUnknown(f"the node knows no transaction {tx_hash}: broadcast it first")
