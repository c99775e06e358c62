"""Which frames of a call trace are deposits: value moved by a call that stayed, to a
watched address, keyed by the frame's place in the whole tree."""

from __future__ import annotations

from typing import Any

import pytest

from croupier.chains.base import BlockHeader
from croupier.chains.errors import ChainMoved
from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.client import _trace_failure
from croupier.chains.ethereum.traces import internal_transfers
from croupier.core.errors import ConfigurationError

HEADER = BlockHeader(number=7, hash="0x" + "07" * 32, parent_hash="0x" + "06" * 32)
TX = "0x" + "aa" * 32
OURS = "0x" + "11" * 20
THEIRS = "0x" + "22" * 20
WALLET = "0x" + "33" * 20
PLAYER = "0x" + "44" * 20


def frame(
    kind: str, to: str, value: int, *calls: dict[str, Any], error: str = ""
) -> dict[str, Any]:
    found: dict[str, Any] = {"type": kind, "from": WALLET, "to": to, "value": hex(value)}
    if calls:
        found["calls"] = list(calls)
    if error:
        found["error"] = error
    return found


def transfers(top: dict[str, Any], watched: tuple[str, ...] = (OURS,)) -> list[tuple[int, int]]:
    """(log index, amount) of each transfer found in one transaction's trace."""
    found = internal_transfers(
        HEADER, [TX], [{"txHash": TX, "result": top}], {parse_address(a) for a in watched}
    )
    return [(transfer.log_index, transfer.amount) for _, transfer in found]


def test_a_call_with_value_to_a_watched_address_is_keyed_by_its_place_in_the_tree() -> None:
    top = frame(
        "CALL",
        WALLET,
        5,
        frame("CALL", THEIRS, 1),  # ordinal 1
        frame("CALL", WALLET, 0, frame("CALL", OURS, 2)),  # ordinals 2 and 3
        frame("CALL", OURS, 3),  # ordinal 4
    )

    assert transfers(top) == [(-4, 2), (-5, 3)]


def test_the_top_frame_is_the_native_transfer_and_not_repeated_here() -> None:
    assert transfers(frame("CALL", OURS, 9)) == []


def test_nothing_under_a_reverted_frame_counts_and_keys_after_it_do_not_move() -> None:
    top = frame(
        "CALL",
        WALLET,
        0,
        frame("CALL", WALLET, 0, frame("CALL", OURS, 2), error="execution reverted"),
        frame("CALL", OURS, 3),
    )

    assert transfers(top) == [(-4, 3)]
    assert transfers({**top, "error": "out of gas"}) == []


def test_only_calls_and_self_destructs_move_value_to_another_account() -> None:
    top = frame(
        "CALL",
        WALLET,
        0,
        frame("DELEGATECALL", OURS, 4),
        frame("CALLCODE", OURS, 4),
        frame("STATICCALL", OURS, 0),
        frame("CREATE", OURS, 4),
        frame("SELFDESTRUCT", OURS, 6),
        frame("CALL", OURS, 0),
    )

    assert transfers(top) == [(-6, 6)]


def test_unwatched_recipients_are_skipped() -> None:
    top = frame("CALL", WALLET, 0, frame("CALL", THEIRS, 1), frame("CALL", PLAYER, 1))

    assert transfers(top) == []
    assert transfers(top, watched=(PLAYER,)) == [(-3, 1)]


def test_traces_of_another_block_are_refused() -> None:
    with pytest.raises(ChainMoved):
        internal_transfers(HEADER, [TX], [{"txHash": "0x" + "bb" * 32, "result": {}}], set())


def test_a_node_without_the_debug_api_is_a_configuration_error() -> None:
    missing = _trace_failure({"code": -32601, "message": "the method does not exist"}, HEADER)
    gone = _trace_failure({"code": -32001, "message": "Resource not found"}, HEADER)

    assert isinstance(missing, ConfigurationError)
    assert "CROUPIER_ETH_INTERNAL_TRANSFERS" in str(missing)
    assert isinstance(gone, ChainMoved)
