"""The Bitcoin ``ChainClient``, plus the wallet reads a send needs (UTXOs, feerate).

Deposits: ``scan`` reports every output paying a watched address as an
``IncomingTransfer`` whose ``log_index`` is the output index (``vout``), so a deposit is
keyed ``deposit-btc-<txid>-<vout>`` and two outputs of one transaction to two players
are two deposits. Bitcoin has no single sender, so ``from_address`` is empty. Coinbase
outputs are not reported: they cannot be spent for 100 blocks and no player deposits
by mining. Reorgs are found by ``croupier.chains.follow`` from the headers, as on every
chain.

A withdrawal, as its activity runs it (a sweep uses ``plan_sweep`` instead)::

    utxos = client.utxos([hot_address])
    target = FeeTarget(client.fee_rate_sat_kvb())
    plan = plan_spend(utxos, payments, change_address=hot_address, target=target, policy=policy)
    signed = sign_spend(plan, [hot_key], policy.network)
    client.broadcast(signed.raw)

and a stuck one is replaced with ``plan_replacement(signed, ...)``, signed and broadcast
the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from bitcoinlib.transactions import Transaction

from croupier.chains.base import (
    BlockHeader,
    FeeEstimate,
    IncomingTransfer,
    ScanResult,
    TxState,
    TxStatus,
)
from croupier.chains.bitcoin.addresses import p2wpkh_address, parse_address, script_to_address
from croupier.chains.bitcoin.backend import (
    BitcoinBackend,
    NodeBlock,
    NodeBlockHeader,
    NodeTransaction,
    NodeTxOutput,
    OutPoint,
)
from croupier.chains.bitcoin.coins import SpendPolicy, Utxo
from croupier.chains.bitcoin.errors import AlreadyInChain
from croupier.chains.bitcoin.fees import sat_vb_to_sat_kvb
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.bitcoin.rpc import BitcoindRpc
from croupier.chains.bitcoin.signing import txid_of
from croupier.chains.errors import ChainMoved
from croupier.chains.reorg import is_linked
from croupier.core.errors import ConfigurationError, InvalidInput, UnknownCurrency
from croupier.core.money import Currency
from croupier.core.settings import Settings

CHAIN = "bitcoin"
FEE_UNIT = "sat/kvB"
MAX_SCAN_BLOCKS = 100  # a mainnet block at verbosity 2 is megabytes of JSON
DEFAULT_SCAN_BLOCKS = 10
MAX_WATCHED_ADDRESSES = 100_000
MAX_LISTED_UTXOS = 5000
DEFAULT_FEE_TARGET_BLOCKS = 3
MAX_FEE_TARGET_BLOCKS = 1008  # estimatesmartfee's own horizon
# sendrawtransaction's maxfeerate: twice our cap, a backstop against a unit bug in our
# fee arithmetic that our own cap (checked when planning) would not catch.
NODE_MAX_FEE_FACTOR = 2
_TXID_RE = re.compile(r"^[0-9a-f]{64}$")


class BitcoinClient:
    """A ``ChainClient`` over one ``BitcoinBackend`` (bitcoind, or the test simulator)."""

    def __init__(
        self,
        backend: BitcoinBackend,
        *,
        policy: SpendPolicy,
        fallback_fee_rate_sat_kvb: int,
        max_scan_blocks: int = DEFAULT_SCAN_BLOCKS,
        fee_target_blocks: int = DEFAULT_FEE_TARGET_BLOCKS,
    ) -> None:
        if not 1 <= max_scan_blocks <= MAX_SCAN_BLOCKS:
            raise ConfigurationError(
                f"a scan covers 1..{MAX_SCAN_BLOCKS} blocks, got {max_scan_blocks}"
            )
        if not 1 <= fee_target_blocks <= MAX_FEE_TARGET_BLOCKS:
            raise ConfigurationError(f"a fee target is 1..{MAX_FEE_TARGET_BLOCKS} blocks")
        if fallback_fee_rate_sat_kvb <= 0:
            raise ConfigurationError("the fallback feerate must be positive")
        self._backend = backend
        self._policy = policy
        self._fallback_fee_rate_sat_kvb = fallback_fee_rate_sat_kvb
        self._max_scan_blocks = max_scan_blocks
        self._fee_target_blocks = fee_target_blocks

    @classmethod
    def from_settings(cls, settings: Settings) -> BitcoinClient:
        """A client for ``CROUPIER_BTC_RPC_URL``; ``ConfigurationError`` if it is unset."""
        return cls(
            BitcoindRpc.from_settings(settings),
            policy=SpendPolicy.from_settings(settings),
            fallback_fee_rate_sat_kvb=sat_vb_to_sat_kvb(settings.btc_fallback_fee_rate_sat_vb),
            max_scan_blocks=settings.btc_scan_batch_blocks,
        )

    @property
    def chain(self) -> str:
        return CHAIN

    @property
    def max_scan_blocks(self) -> int:
        return self._max_scan_blocks

    @property
    def network(self) -> BtcNetwork:
        return self._policy.network

    @property
    def policy(self) -> SpendPolicy:
        return self._policy

    def ensure_network(self) -> None:
        """Refuse a node of another network (its genesis block says which): coins of
        regtest credited as mainnet deposits, or mainnet coins spent by a test setup,
        would be real money lost."""
        expected = self.network.params.genesis_hash
        actual = self._backend.block_hash(0)
        if actual != expected:
            raise ConfigurationError(
                f"the bitcoind node's genesis block is {actual}, not {self.network}'s "
                f"({expected}); check CROUPIER_BTC_NETWORK and CROUPIER_BTC_RPC_URL"
            )

    # -- reading the chain -----------------------------------------------------------

    def head_number(self) -> int:
        return self._backend.block_count()

    def header(self, number: int) -> BlockHeader | None:
        _check_height(number)
        block_hash = self._backend.block_hash(number)
        if block_hash is None:
            return None
        node_header = self._backend.block_header(block_hash)
        if node_header is None or node_header.height != number:
            raise ChainMoved(f"block {number} ({block_hash}) vanished while being read")
        return _block_header(node_header)

    def headers(self, first: int, last: int) -> tuple[BlockHeader, ...]:
        self._check_range(first, last)
        found = []
        for number in range(first, last + 1):
            header = self.header(number)
            if header is None:
                break
            found.append(header)
        if not is_linked(found):
            raise ChainMoved(f"blocks {first}..{last} changed while being read")
        return tuple(found)

    def scan(self, first: int, last: int, watched: Collection[str]) -> ScanResult:
        """Outputs paying ``watched`` addresses in blocks ``first..last`` (to the head)."""
        self._check_range(first, last)
        if len(watched) > MAX_WATCHED_ADDRESSES:
            raise InvalidInput(f"at most {MAX_WATCHED_ADDRESSES} watched addresses per scan")
        watched_set = frozenset(parse_address(a, self.network).text for a in watched)
        blocks: list[NodeBlock] = []
        for number in range(first, last + 1):
            block_hash = self._backend.block_hash(number)
            if block_hash is None:
                break
            block = self._backend.block(block_hash)
            if block is None or block.header.height != number:
                raise ChainMoved(f"block {number} ({block_hash}) vanished while being scanned")
            blocks.append(block)
        headers = tuple(_block_header(block.header) for block in blocks)
        if not is_linked(headers):
            raise ChainMoved(f"blocks {first}..{last} changed while being scanned")
        transfers = tuple(
            transfer for block in blocks for transfer in _incoming(block, watched_set)
        )
        return ScanResult(headers=headers, transfers=transfers)

    def transaction_status(self, tx_hash: str) -> TxStatus:
        if not isinstance(tx_hash, str) or not _TXID_RE.match(tx_hash):
            raise InvalidInput(f"a txid is 64 lowercase hex digits, got {tx_hash!r}")
        found = self._backend.raw_transaction(tx_hash)
        if found is None:
            return TxStatus(tx_hash=tx_hash, state=TxState.UNKNOWN)
        if found.block_hash is None:
            return TxStatus(tx_hash=tx_hash, state=TxState.PENDING)
        if found.confirmations < 1:
            # Indexed in a block a reorg orphaned, and not back in the mempool.
            return TxStatus(tx_hash=tx_hash, state=TxState.UNKNOWN)
        header = self._backend.block_header(found.block_hash)
        if header is None or not header.is_canonical:
            raise ChainMoved(f"the block of {tx_hash} left the active chain while being read")
        return TxStatus(
            tx_hash=tx_hash,
            state=TxState.INCLUDED,
            block_number=header.height,
            block_hash=header.hash,
            confirmations=header.confirmations,
        )

    def transaction(self, txid: str) -> NodeTransaction | None:
        """A transaction the node has (in the mempool or indexed), decoded; None if not."""
        if not isinstance(txid, str) or not _TXID_RE.match(txid):
            raise InvalidInput(f"a txid is 64 lowercase hex digits, got {txid!r}")
        found = self._backend.raw_transaction(txid)
        if found is None:
            return None
        tx = Transaction.parse_bytes(found.raw, network=self.network.params.bitcoinlib_name)
        return NodeTransaction(
            txid=txid,
            is_coinbase=bool(tx.coinbase),
            inputs=()
            if tx.coinbase
            else tuple(OutPoint(i.prev_txid.hex(), i.output_n_int) for i in tx.inputs),
            outputs=tuple(
                NodeTxOutput(
                    n=n,
                    value_sat=int(output.value),
                    script_pubkey=bytes(output.lock_script),
                    address=script_to_address(bytes(output.lock_script), self.network),
                )
                for n, output in enumerate(tx.outputs)
            ),
        )

    def spent_output(self, point: OutPoint) -> NodeTxOutput | None:
        """The output an input spends (read from the transaction that made it); None if
        the node has no such transaction or it has no such output."""
        made_by = self.transaction(point.txid)
        if made_by is None or point.vout >= len(made_by.outputs):
            return None
        return made_by.outputs[point.vout]

    def balance(self, address: str, currency: Currency) -> int:
        """Confirmed balance of a watched address (``watch`` it first)."""
        if currency is not Currency.BTC:
            raise UnknownCurrency(f"{currency} is not a currency of the bitcoin chain")
        canonical = parse_address(address, self.network).text
        unspent = self._backend.list_unspent(
            [canonical], min_confirmations=1, limit=MAX_LISTED_UTXOS
        )
        return sum(entry.value_sat for entry in unspent)

    # -- fees and sending --------------------------------------------------------------

    def fee_rate_sat_kvb(self, target_blocks: int | None = None) -> int:
        """The market feerate (``market_fee_rate_sat_kvb``), never above the policy's cap."""
        return min(self.market_fee_rate_sat_kvb(target_blocks), self._policy.max_fee_rate_sat_kvb)

    def market_fee_rate_sat_kvb(self, target_blocks: int | None = None) -> int:
        """The node's estimate (or the fallback when it has none), never below the relay
        or mempool minimum; possibly above the cap, which a sender waits out (the
        planner refuses a rate above it) rather than paying."""
        target = self._fee_target_blocks if target_blocks is None else target_blocks
        if not 1 <= target <= MAX_FEE_TARGET_BLOCKS:
            raise InvalidInput(f"a fee target is 1..{MAX_FEE_TARGET_BLOCKS} blocks, got {target}")
        estimate = self._backend.estimate_smart_fee(target)
        rate = estimate if estimate is not None else self._fallback_fee_rate_sat_kvb
        return max(rate, self._policy.min_relay_fee_sat_kvb, self._backend.mempool_min_fee())

    def fee_estimate(self) -> FeeEstimate:
        return FeeEstimate(
            chain=CHAIN, fee_unit=FEE_UNIT, base_fee=self.fee_rate_sat_kvb(), priority_fee=0
        )

    def broadcast(self, raw_tx: bytes) -> str:
        """Send a signed transaction; one already in the mempool or mined is a no-op."""
        max_rate = NODE_MAX_FEE_FACTOR * self._policy.max_fee_rate_sat_kvb
        try:
            txid = self._backend.send_raw_transaction(raw_tx, max_fee_rate_sat_kvb=max_rate)
        except AlreadyInChain:
            return txid_of(raw_tx)
        assert txid == txid_of(raw_tx), f"the node named {txid} for another transaction"
        return txid

    # -- the wallet's coins ------------------------------------------------------------

    def watch(self, addresses: Sequence[str], *, rescan_from: int | None = None) -> None:
        """Have the node's watch-only wallet track ``addresses``: from now on (before
        coins arrive), or with ``rescan_from`` (unix time) also the coins they got since."""
        self._backend.watch_addresses(
            [parse_address(a, self.network).text for a in addresses], rescan_from=rescan_from
        )

    def utxos(self, addresses: Sequence[str]) -> tuple[Utxo, ...]:
        """The unspent outputs at watched ``addresses``, confirmed and in the mempool.

        An unconfirmed output is marked ``from_own_wallet`` only if every input of the
        transaction that made it spends from one of ``addresses``: our change, never a
        stranger's pending payment.
        """
        own = frozenset(parse_address(a, self.network).text for a in addresses)
        unspent = self._backend.list_unspent(
            sorted(own), min_confirmations=0, limit=MAX_LISTED_UTXOS
        )
        verdicts: dict[str, bool] = {}
        utxos = []
        for entry in unspent:
            if entry.confirmations == 0 and entry.txid not in verdicts:
                verdicts[entry.txid] = self._spends_only_from(entry.txid, own)
            utxos.append(
                Utxo(
                    txid=entry.txid,
                    vout=entry.vout,
                    value_sat=entry.value_sat,
                    address=entry.address,
                    confirmations=entry.confirmations,
                    from_own_wallet=verdicts.get(entry.txid, False),
                )
            )
        return tuple(utxos)

    def _spends_only_from(self, txid: str, own: frozenset[str]) -> bool:
        """Whether every input of mempool transaction ``txid`` spends a P2WPKH coin of ours.

        A P2WPKH input's witness carries the public key whose hash the spent output
        locks to, so the spent address is read off the transaction itself.
        """
        found = self._backend.raw_transaction(txid)
        if found is None:
            return False
        tx = Transaction.parse_bytes(found.raw, network=self.network.params.bitcoinlib_name)
        for tx_input in tx.inputs:
            witness = tx_input.witnesses
            if tx_input.unlocking_script or len(witness) != 2 or len(witness[1]) != 33:
                return False
            if p2wpkh_address(bytes(witness[1]), self.network) not in own:
                return False
        return True

    def _check_range(self, first: int, last: int) -> None:
        _check_height(first)
        if last < first or last - first + 1 > self._max_scan_blocks:
            raise InvalidInput(
                f"a range is first <= last, at most {self._max_scan_blocks} blocks; "
                f"got {first}..{last}"
            )


def _check_height(number: int) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise InvalidInput(f"a block height is a non-negative integer, got {number!r}")


def _block_header(node_header: NodeBlockHeader) -> BlockHeader:
    return BlockHeader(
        number=node_header.height, hash=node_header.hash, parent_hash=node_header.previous_hash
    )


def _incoming(block: NodeBlock, watched: frozenset[str]) -> list[IncomingTransfer]:
    return [
        IncomingTransfer(
            chain=CHAIN,
            tx_hash=tx.txid,
            log_index=output.n,
            block_number=block.header.height,
            block_hash=block.header.hash,
            from_address="",
            to_address=output.address,
            currency=Currency.BTC,
            amount=output.value_sat,
        )
        for tx in block.transactions
        if not tx.is_coinbase
        for output in tx.outputs
        if output.address is not None and output.address in watched and output.value_sat > 0
    ]
