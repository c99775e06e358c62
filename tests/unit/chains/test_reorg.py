"""Reorg detection over generated chains: the fork point, the orphans, the rescan."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.chains.base import BlockHeader
from croupier.chains.errors import ChainMoved, ReorgBeyondWindow
from croupier.chains.reorg import Reorg, find_reorg, is_linked, remember, rewind

GENESIS_PARENT = "0x" + "00" * 32


def block_hash(parent_hash: str, number: int, branch: int) -> str:
    return "0x" + hashlib.sha256(f"{parent_hash}:{number}:{branch}".encode()).hexdigest()


def grow(chain: list[BlockHeader], count: int, *, branch: int, first: int = 0) -> list[BlockHeader]:
    """``chain`` plus ``count`` new blocks on ``branch`` (a branch id makes hashes differ)."""
    grown = list(chain)
    for _ in range(count):
        parent_hash = grown[-1].hash if grown else GENESIS_PARENT
        number = grown[-1].number + 1 if grown else first
        grown.append(BlockHeader(number, block_hash(parent_hash, number, branch), parent_hash))
    return grown


def fork(
    chain: list[BlockHeader], *, keep_through: int, new_blocks: int, branch: int
) -> list[BlockHeader]:
    """The node's chain after a reorg: ours up to ``keep_through``, then a new branch."""
    kept = [header for header in chain if header.number <= keep_through]
    return grow(kept, new_blocks, branch=branch)


def node_view(node_chain: list[BlockHeader], window: list[BlockHeader]) -> list[BlockHeader]:
    """The node's headers over the window's range, as ``ChainClient.headers`` returns them."""
    return [h for h in node_chain if window[0].number <= h.number <= window[-1].number]


chain_lengths = st.integers(min_value=2, max_value=120)
window_sizes = st.integers(min_value=2, max_value=64)


@given(
    length=chain_lengths, size=window_sizes, extra=st.integers(0, 10), first=st.integers(0, 10**6)
)
def test_a_window_whose_tip_is_still_canonical_reports_no_reorg(
    length: int, size: int, extra: int, first: int
) -> None:
    chain = grow([], length, branch=0, first=first)
    window = chain[-size:]
    node_chain = grow(chain, extra, branch=0)

    assert find_reorg(window, node_view(node_chain, window)) is None


@given(
    length=chain_lengths,
    size=window_sizes,
    depth=st.integers(min_value=1, max_value=63),
    new_blocks=st.integers(min_value=0, max_value=70),
)
def test_a_reorg_inside_the_window_names_the_fork_point_and_the_orphans(
    length: int, size: int, depth: int, new_blocks: int
) -> None:
    chain = grow([], length, branch=0)
    window = chain[-size:]
    if depth >= len(window):
        depth = len(window) - 1
    fork_point = window[-1].number - depth
    node_chain = fork(chain, keep_through=fork_point, new_blocks=new_blocks, branch=1)

    reorg = find_reorg(window, node_view(node_chain, window))

    assert reorg is not None
    assert reorg.common_ancestor == fork_point
    assert reorg.rescan_from == fork_point + 1
    assert reorg.orphaned == tuple(window[-depth:])
    assert reorg.depth == depth
    assert all(reorg.orphans(h.hash) for h in window[-depth:])
    assert not any(reorg.orphans(h.hash) for h in window[:-depth])


@given(length=chain_lengths, size=window_sizes, below=st.integers(min_value=1, max_value=20))
def test_a_reorg_deeper_than_the_window_is_refused_not_guessed(
    length: int, size: int, below: int
) -> None:
    chain = grow([], length + below, branch=0)
    window = chain[-size:]
    node_chain = fork(chain, keep_through=window[0].number - below, new_blocks=size + 5, branch=1)

    with pytest.raises(ReorgBeyondWindow):
        find_reorg(window, node_view(node_chain, window))


def test_a_chain_rolled_back_below_the_tip_orphans_the_missing_blocks() -> None:
    chain = grow([], 20, branch=0)
    window = chain[-8:]
    node_chain = chain[:-3]  # the node dropped three blocks and mined nothing new yet

    reorg = find_reorg(window, node_view(node_chain, window))

    assert reorg == Reorg(common_ancestor=chain[-4].number, orphaned=tuple(chain[-3:]))


def test_an_empty_window_has_nothing_to_reorg() -> None:
    assert find_reorg([], grow([], 3, branch=0)) is None


def test_node_headers_that_do_not_form_a_chain_mean_the_node_moved_mid_read() -> None:
    chain = grow([], 10, branch=0)
    other = grow([], 10, branch=1)
    torn = chain[:5] + other[5:]  # the read straddled a reorg

    with pytest.raises(ChainMoved):
        find_reorg(chain, torn)


@given(size=window_sizes, batches=st.lists(st.integers(min_value=1, max_value=40), max_size=8))
def test_remember_keeps_the_newest_blocks_as_one_linked_chain(
    size: int, batches: list[int]
) -> None:
    chain = grow([], sum(batches), branch=0)
    window: tuple[BlockHeader, ...] = ()
    start = 0
    for count in batches:
        window = remember(window, chain[start : start + count], size=size)
        start += count

    assert window == tuple(chain[-size:]) if chain else window == ()
    assert is_linked(window)


def test_remember_refuses_blocks_that_do_not_extend_the_tip() -> None:
    chain = grow([], 10, branch=0)
    sibling = fork(chain, keep_through=chain[7].number, new_blocks=4, branch=1)

    with pytest.raises(ChainMoved, match="does not extend"):
        remember(chain[:9], sibling[9:], size=16)


def test_remember_refuses_a_gap() -> None:
    chain = grow([], 10, branch=0)

    with pytest.raises(ChainMoved):
        remember(chain[:5], chain[6:], size=16)


@given(
    length=chain_lengths,
    size=window_sizes,
    depth=st.integers(min_value=1, max_value=63),
    new_blocks=st.integers(min_value=1, max_value=70),
)
def test_rewinding_then_rescanning_leaves_the_window_on_the_new_chain(
    length: int, size: int, depth: int, new_blocks: int
) -> None:
    chain = grow([], length, branch=0)
    window = chain[-size:]
    depth = min(depth, len(window) - 1)
    node_chain = fork(
        chain, keep_through=window[-1].number - depth, new_blocks=new_blocks, branch=7
    )
    reorg = find_reorg(window, node_view(node_chain, window))
    assert reorg is not None

    rewound = rewind(window, reorg)
    rescanned = remember(
        rewound, [h for h in node_chain if h.number >= reorg.rescan_from], size=size
    )

    assert rewound[-1].number == reorg.common_ancestor
    on_new_chain = [h for h in node_chain if h.number >= window[0].number]
    assert rescanned == tuple(on_new_chain[-size:])


# -- a follower driven through random reorgs, credited transfers checked at the end -------


@dataclass
class ModelChain:
    """A node's canonical chain, where some blocks carry a transfer (named by an int)."""

    headers: list[BlockHeader] = field(default_factory=list)
    transfers: dict[str, int] = field(default_factory=dict)  # block hash -> transfer id
    next_branch: int = 1
    next_transfer: int = 0

    def mine(self, count: int, with_transfer: list[bool]) -> None:
        for index in range(count):
            self.headers = grow(self.headers, 1, branch=self.next_branch)
            if with_transfer[index % len(with_transfer)]:
                self.transfers[self.headers[-1].hash] = self.next_transfer
                self.next_transfer += 1

    def reorg(self, depth: int, new_blocks: int, with_transfer: list[bool]) -> None:
        self.next_branch += 1
        self.headers = self.headers[: len(self.headers) - depth]
        self.mine(new_blocks, with_transfer)

    def canonical_transfers(self) -> dict[int, str]:
        return {self.transfers[h.hash]: h.hash for h in self.headers if h.hash in self.transfers}


@dataclass
class Follower:
    """What the deposit scanner does with the pure functions, one step at a time."""

    size: int
    window: tuple[BlockHeader, ...] = ()
    seen: dict[int, str] = field(default_factory=dict)  # transfer id -> block hash

    def step(self, node: ModelChain, max_blocks: int) -> None:
        if self.window:
            view = [
                h
                for h in node.headers
                if self.window[0].number <= h.number <= self.window[-1].number
            ]
            reorg = find_reorg(self.window, view)
            if reorg is not None:
                self.window = rewind(self.window, reorg)
                self.seen = {t: h for t, h in self.seen.items() if not reorg.orphans(h)}
                return
        first = self.window[-1].number + 1 if self.window else 0
        scanned = [h for h in node.headers if first <= h.number < first + max_blocks]
        self.window = remember(self.window, scanned, size=self.size)
        for header in scanned:
            if header.hash in node.transfers:
                self.seen[node.transfers[header.hash]] = header.hash

    def catch_up(self, node: ModelChain, max_blocks: int) -> None:
        for _ in range(10_000):
            before = self.window
            self.step(node, max_blocks)
            if self.window == before and before and before[-1] == node.headers[-1]:
                return
        raise AssertionError("the follower never caught up")


operations = st.lists(
    st.tuples(st.sampled_from(["mine", "reorg"]), st.integers(1, 12), st.integers(0, 12)),
    min_size=1,
    max_size=25,
)


@given(
    ops=operations,
    size=st.integers(min_value=13, max_value=40),
    max_blocks=st.integers(min_value=1, max_value=15),
    pattern=st.lists(st.booleans(), min_size=1, max_size=5),
    follow_every=st.integers(min_value=1, max_value=3),
)
def test_a_follower_credits_exactly_the_transfers_on_the_final_canonical_chain(
    ops: list[tuple[str, int, int]],
    size: int,
    max_blocks: int,
    pattern: list[bool],
    follow_every: int,
) -> None:
    node = ModelChain()
    node.mine(5, pattern)
    follower = Follower(size=size)
    for index, (kind, amount, extra) in enumerate(ops):
        if kind == "mine":
            node.mine(amount, pattern)
        else:
            # Depth stays below the window and leaves the chain at least one block long.
            depth = min(amount, size - 1, len(node.headers) - 1)
            node.reorg(depth, depth + extra, pattern)
        if index % follow_every == 0:
            follower.catch_up(node, max_blocks)
    follower.catch_up(node, max_blocks)

    assert follower.seen == node.canonical_transfers()
    assert follower.window == tuple(node.headers[-size:])
