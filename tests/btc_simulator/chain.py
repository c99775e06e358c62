"""``RegtestSimulator``: an in-memory regtest node implementing ``BitcoinBackend``.

What it enforces, in Bitcoin Core's order and with Core's reject reasons and RPC codes
(so the JSON-RPC mapping in croupier is tested against the real strings):

- decoding, non-empty inputs and outputs, value ranges, duplicate inputs, version;
- dust outputs (Core's dust threshold at 3 sat/vB);
- inputs must exist in the UTXO set or as outputs of mempool transactions
  (``bad-txns-inputs-missingorspent``, -25); a coinbase spends only at depth 100;
- a double spend of a mempool transaction is a replacement attempt: refused unless the
  original signals BIP-125 (``txn-mempool-conflict``), and then only if the replacement
  adds no new unconfirmed inputs, pays a strictly higher feerate than every transaction
  it directly replaces, at least their fees and descendants' fees together, plus the
  incremental relay fee over its own size; the replaced transactions and their
  descendants are evicted;
- the fee must meet the minimum relay feerate over the virtual size computed from the
  raw bytes (weight = 3 * stripped size + total size);
- every input must be P2WPKH (the only kind croupier spends): the witness must be
  ``[signature, pubkey]`` with ``hash160(pubkey)`` equal to the spent output's program,
  and the BIP-143 signature is verified by bitcoinlib against the spent output's value.

Simplifications, all irrelevant to what croupier does: no witness commitment in the
coinbase, no sigop or package limits, BIP-125 signalling is checked on the replaced
transaction itself (not inherited), and there is no full-RBF (Bitcoin Core 28 replaces
non-signalling transactions by default; croupier always signals).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from bitcoinlib.encoding import hash160
from bitcoinlib.transactions import Transaction

from croupier.chains.bitcoin.backend import (
    GENESIS_PARENT_HASH,
    NodeBlock,
    NodeBlockHeader,
    NodeTransaction,
    NodeTxOutput,
    OutPoint,
    TxLookup,
    Unspent,
)
from croupier.chains.bitcoin.errors import (
    AlreadyInChain,
    BtcFeeTooLow,
    InputsMissingOrSpent,
    MalformedTransaction,
    MaxFeeExceeded,
    MempoolConflict,
    TransactionRejected,
)
from tests.btc_simulator.encoding import (
    address_to_script,
    block_header,
    coinbase_tx,
    dsha256,
    dust_threshold_sat,
    format_fee_rate,
    format_money,
    merkle_root,
    mine_header,
    script_to_address,
)

COINBASE_MATURITY = 100
WALLET_COINBASE_DEPTH = COINBASE_MATURITY + 1  # the wallet lists a coinbase one block later
HALVING_INTERVAL = 150  # regtest
INITIAL_SUBSIDY_SAT = 50 * 100_000_000
MAX_REPLACEMENT_EVICTIONS = 100
MAX_MONEY_SAT = 21_000_000 * 100_000_000
BLOCK_SPACING_S = 600
RESCAN_TIMESTAMP_WINDOW_S = 2 * 60 * 60  # Core's TIMESTAMP_WINDOW
MAX_BIP125_SEQUENCE = 0xFFFF_FFFD
BLOCK_VERSION = 0x2000_0000

# The real regtest genesis block (Bitcoin Core chainparams.cpp), so block 0's hash is
# the one every regtest node reports.
GENESIS_COINBASE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d"
    "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f722"
    "06f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff"
    "0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f"
    "61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
)
GENESIS_TIME = 1296688602
GENESIS_NONCE = 2
REGTEST_GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


@dataclass(frozen=True, slots=True)
class Coin:
    value_sat: int
    script: bytes
    height: int  # of the block that created it; -1 for a mempool output
    is_coinbase: bool


@dataclass(frozen=True, slots=True)
class SimTx:
    """A transaction as the simulator keeps it: raw bytes plus what validation needs."""

    txid: str
    raw: bytes
    inputs: tuple[OutPoint, ...]  # empty for a coinbase
    sequences: tuple[int, ...]
    outputs: tuple[tuple[int, bytes], ...]  # (value_sat, script)
    weight: int

    @property
    def is_coinbase(self) -> bool:
        return not self.inputs

    @property
    def vsize(self) -> int:
        return -(-self.weight // 4)

    @property
    def signals_rbf(self) -> bool:
        return any(sequence <= MAX_BIP125_SEQUENCE for sequence in self.sequences)


@dataclass(slots=True)
class SimBlock:
    hash: str
    height: int
    previous_hash: str
    time: int
    header: bytes
    txs: tuple[SimTx, ...]
    undo: list[tuple[OutPoint, Coin]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MempoolEntry:
    tx: SimTx
    fee_sat: int


class RegtestSimulator:
    """A regtest node in memory. Thread-safe: one lock around every call."""

    def __init__(
        self, *, min_relay_fee_sat_kvb: int = 1000, incremental_relay_fee_sat_kvb: int = 1000
    ) -> None:
        self.min_relay_fee_sat_kvb = min_relay_fee_sat_kvb
        self.incremental_relay_fee_sat_kvb = incremental_relay_fee_sat_kvb
        # What estimatesmartfee answers (sat/kvB); None: "Insufficient data".
        self.fee_estimate_sat_kvb: int | None = None
        self._lock = threading.RLock()
        self._active: list[SimBlock] = []
        self._blocks: dict[str, SimBlock] = {}
        self._utxos: dict[OutPoint, Coin] = {}
        self._mempool: dict[str, MempoolEntry] = {}  # insertion order is topological
        self._mempool_spent: dict[OutPoint, str] = {}
        self._txindex: dict[str, str] = {}  # txid -> hash of the last block that held it
        # Watched address -> the lowest height whose coins the wallet knows of: an
        # import without rescan only learns of blocks connected after it.
        self._watched: dict[str, int] = {}
        self._blocks_mined = 0
        self._connect_genesis()

    # -- BitcoinBackend ---------------------------------------------------------------

    def block_count(self) -> int:
        with self._lock:
            return len(self._active) - 1

    def block_hash(self, height: int) -> str | None:
        with self._lock:
            return self._active[height].hash if 0 <= height < len(self._active) else None

    def block_header(self, block_hash: str) -> NodeBlockHeader | None:
        with self._lock:
            block = self._blocks.get(block_hash)
            return None if block is None else self._node_header(block)

    def block(self, block_hash: str) -> NodeBlock | None:
        with self._lock:
            block = self._blocks.get(block_hash)
            if block is None:
                return None
            return NodeBlock(
                header=self._node_header(block),
                transactions=tuple(_node_transaction(tx) for tx in block.txs),
            )

    def raw_transaction(self, txid: str) -> TxLookup | None:
        with self._lock:
            tx = self.stored_tx(txid)
            if tx is None:
                return None
            if txid in self._mempool:
                return TxLookup(txid=txid, raw=tx.raw, block_hash=None, confirmations=0)
            block = self._blocks[self._txindex[txid]]
            return TxLookup(
                txid=txid,
                raw=tx.raw,
                block_hash=block.hash,
                confirmations=max(self._confirmations(block), 0),
            )

    def send_raw_transaction(self, raw: bytes, *, max_fee_rate_sat_kvb: int) -> str:
        with self._lock:
            tx = _decode(raw)
            if tx.txid in self._mempool:
                return tx.txid
            if any(OutPoint(tx.txid, n) in self._utxos for n in range(len(tx.outputs))):
                raise AlreadyInChain("Transaction outputs already in utxo set")
            fee_sat, evicted = self._check_acceptable(tx, bypass_limits=False)
            if max_fee_rate_sat_kvb and fee_sat > -(-tx.vsize * max_fee_rate_sat_kvb // 1000):
                raise MaxFeeExceeded(
                    "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"
                )
            self._admit(tx, fee_sat, evicted)
            return tx.txid

    def estimate_smart_fee(self, target_blocks: int) -> int | None:
        assert 1 <= target_blocks <= 1008, "estimatesmartfee's range"
        return self.fee_estimate_sat_kvb

    def mempool_min_fee(self) -> int:
        return self.min_relay_fee_sat_kvb

    def watch_addresses(self, addresses: Sequence[str], *, rescan_from: int | None = None) -> None:
        with self._lock:
            first = self._rescan_height(rescan_from)
            for address in addresses:
                address_to_script(address)  # refuses what is not a regtest address
                self._watched[address] = min(first, self._watched.get(address, first))

    def _rescan_height(self, rescan_from: int | None) -> int:
        """The first block an import sees: the next one for ``"now"``, else the first
        whose time is within Core's two-hour ``TIMESTAMP_WINDOW`` of ``rescan_from``.

        Mempool transactions are seen whenever they arrived (Core sees those arriving
        after the import; ones already pending at import time are a leniency here)."""
        if rescan_from is None:
            return self.block_count() + 1
        earliest = rescan_from - RESCAN_TIMESTAMP_WINDOW_S
        heights = (b.height for b in self._active if b.time >= earliest)
        return next(heights, self.block_count() + 1)

    def list_unspent(
        self, addresses: Sequence[str], *, min_confirmations: int, limit: int
    ) -> tuple[Unspent, ...]:
        with self._lock:
            return self._unspent(
                {a: self._watched[a] for a in addresses if a in self._watched},
                min_confirmations,
                limit,
            )

    def _unspent(
        self, seen_from: dict[str, int], min_confirmations: int, limit: int
    ) -> tuple[Unspent, ...]:
        """Unspent outputs at ``seen_from``'s addresses, each from the height given."""
        with self._lock:
            tip = self.block_count()
            found = []
            for outpoint, coin in self._wallet_coins():
                address = script_to_address(coin.script)
                if address not in seen_from or outpoint in self._mempool_spent:
                    continue
                if 0 <= coin.height < seen_from[address]:
                    continue  # mined before the import, and no rescan reached it
                depth = 0 if coin.height < 0 else tip - coin.height + 1
                if depth < min_confirmations or (
                    coin.is_coinbase and depth < WALLET_COINBASE_DEPTH
                ):
                    continue
                found.append(Unspent(outpoint.txid, outpoint.vout, address, coin.value_sat, depth))
            return tuple(sorted(found, key=lambda u: (u.txid, u.vout))[:limit])

    # -- controls the tests drive ----------------------------------------------------

    def mine(
        self, count: int, to_address: str, *, include: Collection[str] | None = None
    ) -> list[str]:
        """Mine ``count`` blocks paying their coinbase to ``to_address``.

        ``include`` None: each block takes the whole mempool. Otherwise the first block
        takes exactly those mempool txids (their in-mempool parents must be among them)
        and later blocks take nothing, which is how a test mines a competing branch.
        """
        assert count >= 1
        script = address_to_script(to_address)
        with self._lock:
            hashes = []
            selection = None if include is None else set(include)
            for _ in range(count):
                chosen = self._select_for_block(selection)
                hashes.append(self._mine_block(chosen, script))
                if selection is not None:
                    selection = set()
            return hashes

    def invalidate(self, depth: int, *, drop: Collection[str] = ()) -> tuple[str, ...]:
        """Disconnect the newest ``depth`` blocks (``invalidateblock``).

        Their transactions go back to the mempool (and are re-validated there, as Core
        does), except ``drop`` and whatever no longer validates; returns the txids now
        back in the mempool. The blocks stay known, as stale blocks.
        """
        with self._lock:
            assert 1 <= depth <= self.block_count(), "cannot disconnect the genesis block"
            disconnected = [self._disconnect_tip() for _ in range(depth)]
            returned = [
                tx
                for block in reversed(disconnected)
                for tx in block.txs
                if not tx.is_coinbase and tx.txid not in drop
            ]
            previous = [entry.tx for entry in self._mempool.values()]
            self._mempool.clear()
            self._mempool_spent.clear()
            for tx in (*returned, *previous):
                self._readmit(tx)
            return tuple(tx.txid for tx in returned if tx.txid in self._mempool)

    def mempool_txids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._mempool)

    def mempool_fee(self, txid: str) -> int:
        with self._lock:
            return self._mempool[txid].fee_sat

    def is_confirmed_unspent(self, txid: str, vout: int) -> bool:
        with self._lock:
            return OutPoint(txid, vout) in self._utxos

    def coins_of(self, address: str, *, min_confirmations: int = 1) -> tuple[Unspent, ...]:
        """The spendable coins at ``address``, whether or not the node's wallet watches it:
        the chain as a test (or a player's own wallet) sees it, not as croupier's does."""
        return self._unspent({address: 0}, min_confirmations, 10**9)

    def confirmed_balance(self, address: str) -> int:
        """What ``address`` holds in spendable confirmed coins (``coins_of``)."""
        return sum(entry.value_sat for entry in self.coins_of(address))

    def tip_time(self) -> int:
        with self._lock:
            return self._active[-1].time

    def mempool_entries(self) -> tuple[MempoolEntry, ...]:
        with self._lock:
            return tuple(self._mempool.values())

    def stored_tx(self, txid: str) -> SimTx | None:
        """A mempool transaction, else the indexed one (as ``getrawtransaction`` finds it)."""
        with self._lock:
            entry = self._mempool.get(txid)
            if entry is not None:
                return entry.tx
            block_hash = self._txindex.get(txid)
            if block_hash is None:
                return None
            return next(tx for tx in self._blocks[block_hash].txs if tx.txid == txid)

    def stored_block(self, block_hash: str) -> SimBlock | None:
        """The simulator's own record of a block (header bytes, raw transactions)."""
        with self._lock:
            return self._blocks.get(block_hash)

    def confirmations_of(self, block_hash: str) -> int:
        with self._lock:
            return self._confirmations(self._blocks[block_hash])

    # -- validation ------------------------------------------------------------------

    def _check_acceptable(self, tx: SimTx, *, bypass_limits: bool) -> tuple[int, list[str]]:
        """The fee and the txids a replacement evicts, or a typed rejection."""
        _check_transaction(tx)
        conflicts = self._direct_conflicts(tx)
        coins = self._input_coins(tx, conflicts)
        value_in = sum(c.value_sat for c in coins)
        value_out = sum(value for value, _ in tx.outputs)
        fee_sat = value_in - value_out
        if fee_sat < 0:
            raise TransactionRejected(
                f"bad-txns-in-belowout, value in ({format_money(value_in)}) < value out "
                f"({format_money(value_out)})"
            )
        required = -(-tx.vsize * self.min_relay_fee_sat_kvb // 1000)
        if not bypass_limits and fee_sat < required:
            raise BtcFeeTooLow(f"min relay fee not met, {fee_sat} < {required}")
        evicted = self._check_replacement(tx, fee_sat, conflicts) if conflicts else []
        _verify_p2wpkh_signatures(tx, coins)
        return fee_sat, evicted

    def _direct_conflicts(self, tx: SimTx) -> list[str]:
        conflicts: list[str] = []
        for outpoint in tx.inputs:
            spender = self._mempool_spent.get(outpoint)
            if spender is not None and spender not in conflicts:
                if not self._mempool[spender].tx.signals_rbf:
                    raise MempoolConflict("txn-mempool-conflict")
                conflicts.append(spender)
        return conflicts

    def _input_coins(self, tx: SimTx, conflicts: list[str]) -> list[Coin]:
        evicted = set(self._with_descendants(conflicts))
        spend_height = self.block_count() + 1
        coins = []
        for outpoint in tx.inputs:
            if outpoint.txid in evicted:
                raise TransactionRejected(
                    f"bad-txns-spends-conflicting-tx, {tx.txid} spends conflicting "
                    f"transaction {outpoint.txid}"
                )
            coin = self._utxos.get(outpoint) or self._mempool_coin(outpoint)
            if coin is None:
                raise InputsMissingOrSpent("bad-txns-inputs-missingorspent")
            if coin.is_coinbase and spend_height - coin.height < COINBASE_MATURITY:
                raise TransactionRejected(
                    "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth "
                    f"{spend_height - coin.height}"
                )
            coins.append(coin)
        return coins

    def _mempool_coin(self, outpoint: OutPoint) -> Coin | None:
        entry = self._mempool.get(outpoint.txid)
        if entry is None or outpoint.vout >= len(entry.tx.outputs):
            return None
        value, script = entry.tx.outputs[outpoint.vout]
        return Coin(value, script, -1, False)

    def _check_replacement(self, tx: SimTx, fee_sat: int, conflicts: list[str]) -> list[str]:
        """BIP-125 rules 2 to 5 as Bitcoin Core applies them; the txids to evict."""
        evicted = self._with_descendants(conflicts)
        if len(evicted) > MAX_REPLACEMENT_EVICTIONS:
            raise TransactionRejected(
                f"too many potential replacements, rejecting replacement {tx.txid}; too many "
                f"potential replacements ({len(evicted)} > {MAX_REPLACEMENT_EVICTIONS})"
            )
        parents_of_conflicts = {
            outpoint.txid for txid in conflicts for outpoint in self._mempool[txid].tx.inputs
        }
        for index, outpoint in enumerate(tx.inputs):
            if outpoint.txid in self._mempool and outpoint.txid not in parents_of_conflicts:
                raise TransactionRejected(
                    f"replacement-adds-unconfirmed, replacement {tx.txid} adds unconfirmed "
                    f"input, idx {index}"
                )
        new_rate = fee_sat * 1000 // tx.vsize
        for txid in conflicts:
            old = self._mempool[txid]
            old_rate = old.fee_sat * 1000 // old.tx.vsize
            if new_rate <= old_rate:
                raise BtcFeeTooLow(
                    f"insufficient fee, rejecting replacement {tx.txid}; new feerate "
                    f"{format_fee_rate(new_rate)} <= old feerate {format_fee_rate(old_rate)}"
                )
        evicted_fees = sum(self._mempool[txid].fee_sat for txid in evicted)
        if fee_sat < evicted_fees:
            raise BtcFeeTooLow(
                f"insufficient fee, rejecting replacement {tx.txid}, less fees than "
                f"conflicting txs; {format_money(fee_sat)} < {format_money(evicted_fees)}"
            )
        relay_sat = -(-tx.vsize * self.incremental_relay_fee_sat_kvb // 1000)
        if fee_sat - evicted_fees < relay_sat:
            raise BtcFeeTooLow(
                f"insufficient fee, rejecting replacement {tx.txid}, not enough additional "
                f"fees to relay; {format_money(fee_sat - evicted_fees)} < {format_money(relay_sat)}"
            )
        return evicted

    def _with_descendants(self, txids: Iterable[str]) -> list[str]:
        """``txids`` and every mempool transaction spending their outputs, transitively."""
        found: list[str] = []
        pending = list(txids)
        while pending:
            txid = pending.pop()
            if txid in found:
                continue
            found.append(txid)
            entry = self._mempool[txid]
            for vout in range(len(entry.tx.outputs)):
                child = self._mempool_spent.get(OutPoint(txid, vout))
                if child is not None:
                    pending.append(child)
        return found

    def _admit(self, tx: SimTx, fee_sat: int, evicted: list[str]) -> None:
        for txid in evicted:
            self._remove_from_mempool(txid)
        self._mempool[tx.txid] = MempoolEntry(tx, fee_sat)
        for outpoint in tx.inputs:
            assert outpoint not in self._mempool_spent, "admitted a double spend"
            self._mempool_spent[outpoint] = tx.txid

    def _readmit(self, tx: SimTx) -> None:
        """Put a transaction back after a reorg, as Core does: fee limits bypassed, no
        replacements, anything that no longer validates silently dropped."""
        if any(outpoint in self._mempool_spent for outpoint in tx.inputs):
            return
        try:
            fee_sat, evicted = self._check_acceptable(tx, bypass_limits=True)
        except (TransactionRejected, InputsMissingOrSpent, BtcFeeTooLow):
            return
        assert not evicted
        self._admit(tx, fee_sat, [])

    def _remove_from_mempool(self, txid: str) -> None:
        entry = self._mempool.pop(txid)
        for outpoint in entry.tx.inputs:
            if self._mempool_spent.get(outpoint) == txid:
                del self._mempool_spent[outpoint]

    # -- blocks ----------------------------------------------------------------------

    def _connect_genesis(self) -> None:
        genesis_tx = _decode_coinbase(GENESIS_COINBASE)
        merkle = merkle_root([bytes.fromhex(genesis_tx.txid)[::-1]])
        header = block_header(
            1, GENESIS_PARENT_HASH, merkle, GENESIS_TIME, 0x207FFFFF, GENESIS_NONCE
        )
        block_hash = dsha256(header)[::-1].hex()
        assert block_hash == REGTEST_GENESIS_HASH, "the regtest genesis block must be exact"
        # The genesis coinbase is unspendable and unindexed, as in every Bitcoin node.
        genesis = SimBlock(block_hash, 0, GENESIS_PARENT_HASH, GENESIS_TIME, header, (genesis_tx,))
        self._active.append(genesis)
        self._blocks[block_hash] = genesis

    def _select_for_block(self, selection: set[str] | None) -> list[MempoolEntry]:
        if selection is None:
            return list(self._mempool.values())
        unknown = selection - set(self._mempool)
        assert not unknown, f"not in the mempool: {sorted(unknown)}"
        chosen = [entry for txid, entry in self._mempool.items() if txid in selection]
        for entry in chosen:
            for outpoint in entry.tx.inputs:
                parent_pending = outpoint.txid in self._mempool
                assert not parent_pending or outpoint.txid in selection, (
                    f"{entry.tx.txid} needs its parent {outpoint.txid} in the same block"
                )
        return chosen

    def _mine_block(self, entries: list[MempoolEntry], script: bytes) -> str:
        height = len(self._active)
        self._blocks_mined += 1
        subsidy = INITIAL_SUBSIDY_SAT >> (height // HALVING_INTERVAL)
        fees = sum(entry.fee_sat for entry in entries)
        coinbase = _decode_coinbase(coinbase_tx(height, self._blocks_mined, subsidy + fees, script))
        txs = (coinbase, *(entry.tx for entry in entries))
        assert sum(tx.weight for tx in txs) <= 4_000_000, "block weight limit"
        merkle = merkle_root([bytes.fromhex(tx.txid)[::-1] for tx in txs])
        time = GENESIS_TIME + BLOCK_SPACING_S * self._blocks_mined
        header, block_hash = mine_header(BLOCK_VERSION, self._active[-1].hash, merkle, time)
        block = SimBlock(block_hash, height, self._active[-1].hash, time, header, txs)
        for entry in entries:
            self._remove_from_mempool(entry.tx.txid)
        self._connect(block)
        return block_hash

    def _connect(self, block: SimBlock) -> None:
        assert block.previous_hash == self._active[-1].hash, "a block extends the tip"
        for tx in block.txs:
            for outpoint in tx.inputs:
                spent = self._utxos.pop(outpoint)  # validated on admission; KeyError = bug
                block.undo.append((outpoint, spent))
            for vout, (value, script) in enumerate(tx.outputs):
                self._utxos[OutPoint(tx.txid, vout)] = Coin(
                    value, script, block.height, tx.is_coinbase
                )
            self._txindex[tx.txid] = block.hash
        self._active.append(block)
        self._blocks[block.hash] = block

    def _disconnect_tip(self) -> SimBlock:
        block = self._active.pop()
        for tx in block.txs:
            for vout in range(len(tx.outputs)):
                del self._utxos[OutPoint(tx.txid, vout)]
        for outpoint, coin in reversed(block.undo):
            self._utxos[outpoint] = coin
        block.undo.clear()
        return block

    def _confirmations(self, block: SimBlock) -> int:
        on_chain = block.height < len(self._active) and self._active[block.height] is block
        return len(self._active) - block.height if on_chain else -1

    def _node_header(self, block: SimBlock) -> NodeBlockHeader:
        return NodeBlockHeader(
            hash=block.hash,
            height=block.height,
            previous_hash=block.previous_hash,
            confirmations=self._confirmations(block),
        )

    def _wallet_coins(self) -> Iterable[tuple[OutPoint, Coin]]:
        yield from self._utxos.items()
        for entry in self._mempool.values():
            for vout, (value, script) in enumerate(entry.tx.outputs):
                yield OutPoint(entry.tx.txid, vout), Coin(value, script, -1, False)


def _decode(raw: bytes) -> SimTx:
    """Parse and re-serialise with bitcoinlib; what does not round-trip is refused."""
    try:
        parsed = Transaction.parse_bytes(raw, network="testnet")
        reserialised = bytes(parsed.raw())
    except Exception:  # bitcoinlib raises many types on garbage
        raise MalformedTransaction(
            "TX decode failed. Make sure the tx has at least one input."
        ) from None
    if reserialised != raw:
        raise MalformedTransaction("TX decode failed. Make sure the tx has at least one input.")
    if parsed.coinbase:
        raise TransactionRejected("coinbase")
    stripped = bytes(parsed.raw(witness_type="legacy"))
    return SimTx(
        txid=dsha256(stripped)[::-1].hex(),
        raw=raw,
        inputs=tuple(OutPoint(i.prev_txid.hex(), i.output_n_int) for i in parsed.inputs),
        sequences=tuple(i.sequence for i in parsed.inputs),
        outputs=tuple((int(o.value), bytes(o.lock_script)) for o in parsed.outputs),
        weight=3 * len(stripped) + len(raw),
    )


def _decode_coinbase(raw: bytes) -> SimTx:
    """A coinbase built by ``coinbase_tx`` (or the genesis one): one input, one output,
    short scripts, no witness; parsed by position."""
    script_sig_at = 4 + 1 + 36
    output_count_at = script_sig_at + 1 + raw[script_sig_at] + 4
    assert raw[4] == 1 and raw[output_count_at] == 1, "simulator coinbases are 1-in 1-out"
    value = int.from_bytes(raw[output_count_at + 1 : output_count_at + 9], "little")
    script_at = output_count_at + 9
    script = raw[script_at + 1 : script_at + 1 + raw[script_at]]
    assert script_at + 1 + len(script) + 4 == len(raw), "trailing bytes after a coinbase"
    return SimTx(
        txid=dsha256(raw)[::-1].hex(),
        raw=raw,
        inputs=(),
        sequences=(0xFFFF_FFFF,),
        outputs=((value, script),),
        weight=4 * len(raw),
    )


def _check_transaction(tx: SimTx) -> None:
    """CheckTransaction and IsStandardTx, the parts that apply."""
    if not tx.inputs:
        raise TransactionRejected("bad-txns-vin-empty")
    if not tx.outputs:
        raise TransactionRejected("bad-txns-vout-empty")
    if len(set(tx.inputs)) != len(tx.inputs):
        raise TransactionRejected("bad-txns-inputs-duplicate")
    total = 0
    for value, script in tx.outputs:
        if not 0 <= value <= MAX_MONEY_SAT:
            raise TransactionRejected("bad-txns-vout-toolarge")
        total += value
        if value < dust_threshold_sat(script):
            raise TransactionRejected("dust")
    if total > MAX_MONEY_SAT:
        raise TransactionRejected("bad-txns-txouttotal-toolarge")
    version = int.from_bytes(tx.raw[:4], "little")
    if not 1 <= version <= 3:
        raise TransactionRejected("version")


def _verify_p2wpkh_signatures(tx: SimTx, coins: list[Coin]) -> None:
    parsed = Transaction.parse_bytes(tx.raw, network="testnet")
    for tx_input, coin in zip(parsed.inputs, coins, strict=True):
        if len(coin.script) != 22 or coin.script[:2] != b"\x00\x14":
            raise TransactionRejected("simulator: only P2WPKH outputs can be spent here")
        if tx_input.unlocking_script:
            raise TransactionRejected(
                "mandatory-script-verify-flag-failed (Witness requires empty scriptSig)"
            )
        witness = tx_input.witnesses
        if len(witness) != 2 or hash160(witness[1]) != coin.script[2:]:
            raise TransactionRejected(
                "mandatory-script-verify-flag-failed (Witness program hash mismatch)"
            )
        tx_input.value = coin.value_sat
    if not parsed.verify():
        raise TransactionRejected(
            "mandatory-script-verify-flag-failed (Signature must be zero for failed "
            "CHECK(MULTI)SIG operation)"
        )


def _node_transaction(tx: SimTx) -> NodeTransaction:
    return NodeTransaction(
        txid=tx.txid,
        is_coinbase=tx.is_coinbase,
        inputs=tx.inputs,
        outputs=tuple(
            NodeTxOutput(
                n=n, value_sat=value, script_pubkey=script, address=script_to_address(script)
            )
            for n, (value, script) in enumerate(tx.outputs)
        ),
    )
