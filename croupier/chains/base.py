"""What every chain family offers the rest of Croupier: the ``ChainClient`` protocol.

Ethereum and Bitcoin implement it, so the records here are chain-neutral:
hashes and addresses are the chain's own text forms, amounts are ``int`` minor units
of a ``Currency``, and nothing here imports web3. Activities call these methods from a
worker thread; every method is synchronous and bounded (a scan covers at most
``max_scan_blocks`` blocks, so one call has a known worst-case cost).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from croupier.core.money import Currency, check_minor_units

# ``IncomingTransfer.log_index`` of a native coin transfer (plain ETH value on a
# transaction). Real EVM log indexes start at 0, so -1 can never collide with a token
# transfer in the same transaction; the deposit key ``<tx>-<log_index>`` stays unique.
NATIVE_TRANSFER_LOG_INDEX = -1


def call_frame_log_index(ordinal: int) -> int:
    """``log_index`` of ETH moved by the call frame at depth-first position ``ordinal``
    of its transaction's call tree: -1 for the transaction itself (ordinal 0, the native
    transfer), -2, -3, ... for the calls it made (internal transfers). The position
    counts every frame, so the key does not depend on which addresses are watched."""
    assert ordinal >= 0, f"bad call frame ordinal {ordinal}"
    return NATIVE_TRANSFER_LOG_INDEX - ordinal


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """The three facts reorg detection needs about a block."""

    number: int
    hash: str
    parent_hash: str

    def __post_init__(self) -> None:
        assert self.number >= 0, f"block number must not be negative, got {self.number}"
        assert self.hash != self.parent_hash, f"block {self.number} is its own parent"


@dataclass(frozen=True, slots=True)
class IncomingTransfer:
    """Value that arrived at a watched address in one block.

    ``log_index`` is the transfer's position inside its transaction's block: the EVM log
    index for a token transfer, ``NATIVE_TRANSFER_LOG_INDEX`` (-1) for native ETH, below
    that for ETH an internal call moved (``call_frame_log_index``), and (for Bitcoin) the
    output index. ``(chain, tx_hash, log_index)`` identifies a
    deposit; ``block_hash`` pins the block it was seen in, so a reorg that moves it is
    visible to whoever remembers the transfer.
    """

    chain: str
    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    from_address: str
    to_address: str
    currency: Currency
    amount: int

    def __post_init__(self) -> None:
        check_minor_units(self.amount)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan of ``headers[0].number .. headers[-1].number`` found.

    The headers come back with the transfers so the caller can extend its reorg window
    with exactly the blocks the transfers were read from.
    """

    headers: tuple[BlockHeader, ...]
    transfers: tuple[IncomingTransfer, ...]


class TxState(StrEnum):
    """Where a transaction stands on the node's canonical chain."""

    UNKNOWN = "unknown"  # neither mined nor in the node's mempool (dropped, or never sent)
    PENDING = "pending"  # in the mempool, not in a block
    INCLUDED = "included"  # in a canonical block and succeeded
    FAILED = "failed"  # in a canonical block but reverted (its fee and nonce are spent)


@dataclass(frozen=True, slots=True)
class TxStatus:
    """A transaction's inclusion, with its depth: ``confirmations`` is 1 in the head block."""

    tx_hash: str
    state: TxState
    block_number: int | None = None
    block_hash: str | None = None
    confirmations: int = 0

    def __post_init__(self) -> None:
        in_block = self.state in (TxState.INCLUDED, TxState.FAILED)
        assert in_block == (self.block_number is not None), f"{self.state} vs block number"
        assert in_block == (self.confirmations >= 1), f"{self.state} vs confirmations"

    def is_final(self, confirmations_required: int) -> bool:
        """Included (or failed) at least ``confirmations_required`` blocks deep."""
        return self.block_number is not None and self.confirmations >= confirmations_required


@dataclass(frozen=True, slots=True)
class FeeEstimate:
    """Current fee market in the chain's minor units per fee unit.

    Ethereum: ``base_fee`` is the next block's base fee and ``priority_fee`` the node's
    suggested tip, both in wei per gas. Bitcoin: ``base_fee`` is the feerate in
    satoshi per 1000 virtual bytes and ``priority_fee`` is 0.
    """

    chain: str
    fee_unit: str
    base_fee: int
    priority_fee: int

    def __post_init__(self) -> None:
        check_minor_units(self.base_fee, allow_zero=True)
        check_minor_units(self.priority_fee, allow_zero=True)


@runtime_checkable
class ChainClient(Protocol):
    """One chain family's node, seen through what deposits and withdrawals need."""

    @property
    def chain(self) -> str:
        """The chain name, as in ``Currency.chain`` (``"ethereum"``, ``"bitcoin"``)."""
        ...

    @property
    def max_scan_blocks(self) -> int:
        """The most blocks one ``scan`` or ``headers`` call accepts."""
        ...

    def head_number(self) -> int:
        """The number of the node's latest block."""
        ...

    def header(self, number: int) -> BlockHeader | None:
        """The canonical header at ``number``, or None above the node's head."""
        ...

    def headers(self, first: int, last: int) -> tuple[BlockHeader, ...]:
        """Canonical headers ``first..last`` in order, stopping early at the node's head."""
        ...

    def scan(self, first: int, last: int, watched: Collection[str]) -> ScanResult:
        """Transfers into ``watched`` addresses in blocks ``first..last`` (inclusive)."""
        ...

    def transaction_status(self, tx_hash: str) -> TxStatus:
        """Whether ``tx_hash`` is pending, in a canonical block (and how deep), or unknown."""
        ...

    def broadcast(self, raw_tx: bytes) -> str:
        """Send a signed transaction; return its hash. Re-sending a known one is a no-op."""
        ...

    def fee_estimate(self) -> FeeEstimate:
        """The current fee market."""
        ...

    def balance(self, address: str, currency: Currency) -> int:
        """The confirmed-at-head balance of ``address`` in minor units of ``currency``."""
        ...
