"""The few node calls Croupier makes on Bitcoin: the ``BitcoinBackend`` protocol.

Each method is one bitcoind RPC (named in its docstring) with typed answers: amounts in
satoshis, feerates in sat/kvB, scripts as bytes, and ``None`` for "no such thing"
instead of an error code. ``croupier.chains.bitcoin.rpc`` implements it over bitcoind's
JSON-RPC; the test suite implements it with a regtest chain simulator.

The node must run with ``-txindex=1`` (``raw_transaction`` finds mined transactions
by id) and keeps a watch-only descriptor wallet (no private keys) for the addresses
whose coins Croupier spends or reconciles, so ``list_unspent`` sees their confirmed and
mempool outputs. Keys never reach the node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from croupier.core.money import check_minor_units

GENESIS_PARENT_HASH = "0" * 64
TXID_HEX_CHARS = 64


@dataclass(frozen=True, slots=True)
class OutPoint:
    """A transaction output's address on chain: (txid, output index)."""

    txid: str
    vout: int

    def __post_init__(self) -> None:
        assert len(self.txid) == TXID_HEX_CHARS, f"a txid is 64 hex digits: {self.txid!r}"
        assert 0 <= self.vout < 2**32, f"bad output index {self.vout}"


@dataclass(frozen=True, slots=True)
class NodeBlockHeader:
    """A block as bitcoind's ``getblockheader`` sees it.

    ``confirmations`` is bitcoind's: 1 for the tip, -1 for a block that is known but not
    on the active chain (orphaned by a reorg).
    """

    hash: str
    height: int
    previous_hash: str  # GENESIS_PARENT_HASH for the genesis block
    confirmations: int

    @property
    def is_canonical(self) -> bool:
        return self.confirmations >= 1


@dataclass(frozen=True, slots=True)
class NodeTxOutput:
    n: int
    value_sat: int
    script_pubkey: bytes
    address: str | None  # None for OP_RETURN and non-standard scripts

    def __post_init__(self) -> None:
        check_minor_units(self.value_sat, allow_zero=True)


@dataclass(frozen=True, slots=True)
class NodeTransaction:
    txid: str
    is_coinbase: bool
    inputs: tuple[OutPoint, ...]  # empty for a coinbase
    outputs: tuple[NodeTxOutput, ...]


@dataclass(frozen=True, slots=True)
class NodeBlock:
    """``getblock <hash> 2``: the header and every transaction, decoded."""

    header: NodeBlockHeader
    transactions: tuple[NodeTransaction, ...]


@dataclass(frozen=True, slots=True)
class TxLookup:
    """``getrawtransaction <txid> true`` (needs ``-txindex``).

    ``block_hash`` None: the transaction is in the mempool. ``block_hash`` set with
    ``confirmations`` 0: the txindex remembers it in a block that a reorg orphaned, and it
    is neither mined nor pending now.
    """

    txid: str
    raw: bytes
    block_hash: str | None
    confirmations: int


@dataclass(frozen=True, slots=True)
class Unspent:
    """One ``listunspent`` entry: a confirmed or mempool output at a watched address."""

    txid: str
    vout: int
    address: str
    value_sat: int
    confirmations: int  # 0: created by a mempool transaction

    def __post_init__(self) -> None:
        check_minor_units(self.value_sat)
        assert self.confirmations >= 0, f"negative confirmations {self.confirmations}"


@runtime_checkable
class BitcoinBackend(Protocol):
    """A Bitcoin node seen through the calls Croupier needs. All calls are synchronous."""

    def block_count(self) -> int:
        """``getblockcount``: the height of the active chain's tip."""
        ...

    def block_hash(self, height: int) -> str | None:
        """``getblockhash``: the active chain's block at ``height``, None above the tip."""
        ...

    def block_header(self, block_hash: str) -> NodeBlockHeader | None:
        """``getblockheader <hash> true``; None if the node never saw the block."""
        ...

    def block(self, block_hash: str) -> NodeBlock | None:
        """``getblock <hash> 2``; None if the node never saw the block."""
        ...

    def raw_transaction(self, txid: str) -> TxLookup | None:
        """``getrawtransaction <txid> true``; None if neither in the mempool nor indexed."""
        ...

    def send_raw_transaction(self, raw: bytes, *, max_fee_rate_sat_kvb: int) -> str:
        """``sendrawtransaction <hex> <maxfeerate>``: the txid, or a typed rejection."""
        ...

    def estimate_smart_fee(self, target_blocks: int) -> int | None:
        """``estimatesmartfee``: sat/kvB to confirm within ``target_blocks``; None if unknown."""
        ...

    def mempool_min_fee(self) -> int:
        """``getmempoolinfo``'s ``mempoolminfee`` in sat/kvB: below it nothing is accepted."""
        ...

    def watch_addresses(self, addresses: Sequence[str], *, rescan_from: int | None = None) -> None:
        """``importdescriptors`` of ``addr(...)`` into the watch-only wallet (idempotent).

        ``rescan_from`` None is ``"timestamp": "now"``: no rescan, so only coins in blocks
        (and mempool transactions) arriving after the import are seen; right for an
        address never shown to anyone. A unix time rescans the blocks from then (0: from
        genesis) so coins the address already holds are seen too.
        """
        ...

    def list_unspent(
        self, addresses: Sequence[str], *, min_confirmations: int, limit: int
    ) -> tuple[Unspent, ...]:
        """``listunspent``: unspent outputs at watched ``addresses``, at most ``limit``.

        Outputs already spent by a mempool transaction are not listed; immature coinbase
        outputs are not listed.
        """
        ...
