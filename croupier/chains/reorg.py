"""Reorg detection as pure functions over block headers.

The follower remembers a bounded window of the canonical headers it scanned, oldest
first. Later it compares that window with the node's current headers at the same
heights: the newest remembered block the node still has is the common ancestor;
everything remembered above it was orphaned and must be scanned again. Because every
header commits to its parent's hash, "block n still matches" implies "every block below
n still matches", so the search only has to walk down from the tip.

No I/O here: ``croupier.chains.follow`` fetches headers through a ``ChainClient`` and
calls these functions, and the unit tests drive them with generated chains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from croupier.chains.base import BlockHeader
from croupier.chains.errors import ChainMoved, ReorgBeyondWindow

# The most headers a window may hold; a window is persisted in workflow state.
MAX_WINDOW_BLOCKS = 1024


@dataclass(frozen=True, slots=True)
class Reorg:
    """The outcome of a detected reorg: where the chains agree and what was lost."""

    common_ancestor: int
    orphaned: tuple[BlockHeader, ...]

    def __post_init__(self) -> None:
        assert self.orphaned, "a reorg orphans at least one remembered block"
        assert self.orphaned[0].number == self.common_ancestor + 1, "orphans start above it"

    @property
    def rescan_from(self) -> int:
        """The first block number to scan again."""
        return self.common_ancestor + 1

    @property
    def depth(self) -> int:
        """How many remembered blocks were orphaned."""
        return len(self.orphaned)

    def orphans(self, block_hash: str) -> bool:
        """Whether a block we remembered by this hash is no longer canonical."""
        return any(header.hash == block_hash for header in self.orphaned)


def is_linked(headers: Sequence[BlockHeader]) -> bool:
    """Consecutive numbers, each block's parent hash the hash of the one before."""
    return all(
        child.number == parent.number + 1 and child.parent_hash == parent.hash
        for parent, child in pairwise(headers)
    )


def remember(
    window: Sequence[BlockHeader], scanned: Sequence[BlockHeader], *, size: int
) -> tuple[BlockHeader, ...]:
    """The window extended by freshly scanned headers, keeping the newest ``size``.

    Raises ``ChainMoved`` when ``scanned`` does not extend the window's tip: the chain
    reorganized between the last reorg check and the scan, and the scan's results must
    be thrown away and the step retried (which then detects the reorg).
    """
    assert 1 <= size <= MAX_WINDOW_BLOCKS, f"window size {size} outside 1..{MAX_WINDOW_BLOCKS}"
    assert is_linked(window), "the remembered window must be a linked chain"
    if not is_linked(scanned):
        raise ChainMoved("the scanned blocks do not form one chain; the node reorganized mid-scan")
    if window and scanned and not is_linked((window[-1], scanned[0])):
        raise ChainMoved(
            f"block {scanned[0].number} does not extend remembered block {window[-1].number}; "
            "the chain reorganized since the last check"
        )
    return tuple((*window, *scanned)[-size:])


def find_reorg(window: Sequence[BlockHeader], node_headers: Sequence[BlockHeader]) -> Reorg | None:
    """Compare the remembered window with the node's canonical headers over its range.

    ``node_headers`` start at ``window[0].number`` and may stop early when the node's
    chain is now shorter. Returns None when the window's tip is still canonical, a
    ``Reorg`` naming the common ancestor otherwise, and raises ``ReorgBeyondWindow`` when
    not even the oldest remembered block survived.
    """
    assert is_linked(window), "the remembered window must be a linked chain"
    if not window:
        return None
    if not is_linked(node_headers):
        raise ChainMoved("the node's headers do not form one chain; it reorganized mid-read")
    if node_headers and node_headers[0].number != window[0].number:
        raise ValueError(
            f"node headers start at {node_headers[0].number}, the window at {window[0].number}"
        )
    node_hashes = [header.hash for header in node_headers]
    for index in range(len(window) - 1, -1, -1):
        if index < len(node_hashes) and node_hashes[index] == window[index].hash:
            # Hash-linked chains that agree at ``index`` agree on everything below it.
            assert node_hashes[:index] == [h.hash for h in window[:index]], "hash chain broken"
            if index == len(window) - 1:
                return None
            return Reorg(common_ancestor=window[index].number, orphaned=tuple(window[index + 1 :]))
    raise ReorgBeyondWindow(
        f"none of the {len(window)} remembered blocks {window[0].number}..{window[-1].number} "
        "is still canonical; the reorg is deeper than the window"
    )


def rewind(window: Sequence[BlockHeader], reorg: Reorg) -> tuple[BlockHeader, ...]:
    """The window cut back to the common ancestor, ready to rescan from there."""
    kept = tuple(header for header in window if header.number <= reorg.common_ancestor)
    assert kept and kept[-1].number == reorg.common_ancestor, "the ancestor must be remembered"
    return kept
