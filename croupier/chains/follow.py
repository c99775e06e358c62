"""Following a chain one bounded step at a time: check for a reorg, else scan onward.

This is what a deposit scanner activity runs on each tick. The state it needs (the
window of remembered headers) goes in and comes out as plain data, so the workflow can
keep it in its history and the step itself stays safe to run twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from croupier.chains.base import BlockHeader, ChainClient, IncomingTransfer
from croupier.chains.reorg import Reorg, find_reorg, remember, rewind


@dataclass(frozen=True, slots=True)
class FollowStep:
    """One step's outcome.

    With ``reorg`` set nothing was scanned: every transfer seen in ``reorg.orphaned``
    blocks is void until a later scan finds it again, and ``window`` is cut back to the
    common ancestor. Otherwise ``transfers`` are the new finds and ``window`` includes
    the blocks they came from.
    """

    window: tuple[BlockHeader, ...]
    transfers: tuple[IncomingTransfer, ...]
    reorg: Reorg | None
    head: int


def next_range(
    window: Sequence[BlockHeader], *, start_block: int, head: int, max_blocks: int
) -> tuple[int, int] | None:
    """The next blocks to scan: after the window's tip (or from ``start_block``) up to head."""
    assert max_blocks >= 1, "a scan covers at least one block"
    first = window[-1].number + 1 if window else start_block
    if first > head:
        return None
    return first, min(head, first + max_blocks - 1)


def detect_reorg(client: ChainClient, window: Sequence[BlockHeader]) -> Reorg | None:
    """Ask the node whether the window is still canonical; one header in the usual case."""
    if not window:
        return None
    tip = client.header(window[-1].number)
    if tip is not None and tip.hash == window[-1].hash:
        return None
    return find_reorg(window, node_headers(client, window[0].number, window[-1].number))


def node_headers(client: ChainClient, first: int, last: int) -> tuple[BlockHeader, ...]:
    """Canonical headers ``first..last`` in calls of at most ``max_scan_blocks``: a
    window may be longer than one scan batch (Bitcoin's blocks are heavy to scan and
    its headers cheap). Stops early at the node's head; ``find_reorg`` checks linkage."""
    step = client.max_scan_blocks
    found: list[BlockHeader] = []
    for start in range(first, last + 1, step):
        end = min(last, start + step - 1)
        batch = client.headers(start, end)
        found.extend(batch)
        if len(batch) < end - start + 1:
            break
    return tuple(found)


def follow(
    client: ChainClient,
    window: Sequence[BlockHeader],
    watched: Collection[str],
    *,
    start_block: int,
    window_size: int,
) -> FollowStep:
    """One step: report a reorg if there is one, else scan the next blocks toward head."""
    reorg = detect_reorg(client, window)
    head = client.head_number()
    if reorg is not None:
        return FollowStep(window=rewind(window, reorg), transfers=(), reorg=reorg, head=head)
    scan_range = next_range(
        window, start_block=start_block, head=head, max_blocks=client.max_scan_blocks
    )
    if scan_range is None:
        return FollowStep(window=tuple(window), transfers=(), reorg=None, head=head)
    result = client.scan(*scan_range, watched)
    return FollowStep(
        window=remember(window, result.headers, size=window_size),
        transfers=result.transfers,
        reorg=None,
        head=head,
    )
