"""ETH that reaches a watched address through a contract's call: internal transfers.

A player who withdraws from an exchange or a smart-contract wallet (a Safe, a batcher)
sends no transaction to the deposit address: a contract does, in a call inside its own
transaction. A block and receipt scan never sees that; the node's call tracer does.
``debug_traceBlockByHash`` with ``callTracer`` gives each transaction's call tree, and
each frame that moved ETH to a watched address and stayed (neither it nor a frame above
it reverted) is a transfer.

What counts: ``CALL`` frames with value, and ``SELFDESTRUCT`` frames (a contract that
destroys itself hands its balance to a beneficiary). Not: ``DELEGATECALL`` and
``CALLCODE`` (the tracer shows the caller's value, but nothing moves to another
account), ``STATICCALL`` (cannot carry value), ``CREATE``/``CREATE2`` (the recipient is
a new contract, never one of our addresses), and the top frame (the transaction's own
value, the scan's native transfer already).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from croupier.chains.base import BlockHeader, IncomingTransfer, call_frame_log_index
from croupier.chains.errors import ChainMoved
from croupier.chains.ethereum.addresses import parse_address
from croupier.core.money import Currency

CHAIN = "ethereum"
TRACER = {"tracer": "callTracer"}
_VALUE_FRAMES = frozenset({"CALL", "SELFDESTRUCT"})


def internal_transfers(
    header: BlockHeader,
    tx_hashes: list[str],
    traces: list[Mapping[str, Any]],
    watched: Collection[str],
) -> list[tuple[int, IncomingTransfer]]:
    """The internal transfers of one block's traces, each with its transaction's index.

    ``tx_hashes`` are the block's transactions in order, as the scan read them: traces of
    another block (a reorg between the two reads) do not line up and raise
    ``ChainMoved``.
    """
    traced = [str(trace.get("txHash", "")).lower() for trace in traces]
    if traced != [tx_hash.lower() for tx_hash in tx_hashes]:
        raise ChainMoved(f"block {header.number} changed while its calls were traced")
    found = []
    for index, (tx_hash, trace) in enumerate(zip(tx_hashes, traces, strict=True)):
        for ordinal, frame in _kept_frames(trace["result"]):
            value = int(frame.get("value") or "0x0", 16)
            if ordinal == 0 or frame.get("type") not in _VALUE_FRAMES or value == 0:
                continue
            recipient = parse_address(frame["to"])
            if recipient not in watched:
                continue
            transfer = IncomingTransfer(
                chain=CHAIN,
                tx_hash=tx_hash,
                log_index=call_frame_log_index(ordinal),
                block_number=header.number,
                block_hash=header.hash,
                from_address=parse_address(frame["from"]),
                to_address=recipient,
                currency=Currency.ETH,
                amount=value,
            )
            found.append((index, transfer))
    return found


def _kept_frames(top: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Every frame that did not revert (nor did any frame above it), with its
    depth-first position among ALL frames of the transaction (reverted ones included,
    so a frame's position does not depend on what happened around it)."""
    ordinal = 0
    stack: list[tuple[Mapping[str, Any], bool]] = [(top, False)]
    while stack:
        frame, reverted_above = stack.pop()
        reverted = reverted_above or bool(frame.get("error"))
        if not reverted:
            yield ordinal, frame
        ordinal += 1
        children = frame.get("calls") or []
        stack.extend((child, reverted) for child in reversed(children))
