"""The chain-neutral records refuse impossible values; the scan planner stays bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.chains.base import (
    NATIVE_TRANSFER_LOG_INDEX,
    BlockHeader,
    IncomingTransfer,
    TxState,
    TxStatus,
    call_frame_log_index,
)
from croupier.chains.follow import next_range
from croupier.core.errors import InvalidAmount
from croupier.core.money import Currency

HASH_A = "0x" + "aa" * 32
HASH_B = "0x" + "bb" * 32


def transfer(amount: int, log_index: int = NATIVE_TRANSFER_LOG_INDEX) -> IncomingTransfer:
    return IncomingTransfer(
        chain="ethereum",
        tx_hash=HASH_A,
        log_index=log_index,
        block_number=1,
        block_hash=HASH_B,
        from_address="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        to_address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        currency=Currency.ETH,
        amount=amount,
    )


def test_a_transfer_of_nothing_is_not_a_deposit() -> None:
    with pytest.raises(InvalidAmount):
        transfer(0)


def test_a_transfer_amount_beyond_uint256_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        transfer(2**256)


def test_below_the_native_marker_log_indexes_name_internal_calls_by_their_place() -> None:
    assert call_frame_log_index(0) == NATIVE_TRANSFER_LOG_INDEX
    assert transfer(1, log_index=call_frame_log_index(3)).log_index == -4
    with pytest.raises(AssertionError):
        call_frame_log_index(-1)


def test_a_mined_status_is_final_only_at_the_required_depth() -> None:
    status = TxStatus(
        HASH_A, TxState.INCLUDED, block_number=10, block_hash=HASH_B, confirmations=12
    )

    assert status.is_final(12)
    assert not status.is_final(13)


def test_a_pending_status_is_never_final() -> None:
    assert not TxStatus(HASH_A, TxState.PENDING).is_final(0)


def test_a_status_claiming_inclusion_without_a_block_is_impossible() -> None:
    with pytest.raises(AssertionError):
        TxStatus(HASH_A, TxState.INCLUDED)


def test_a_block_cannot_be_its_own_parent() -> None:
    with pytest.raises(AssertionError):
        BlockHeader(5, HASH_A, HASH_A)


@given(
    tip=st.integers(0, 10**6),
    ahead=st.integers(0, 10**4),
    max_blocks=st.integers(1, 500),
)
def test_the_next_range_starts_after_the_tip_and_never_exceeds_the_batch_or_head(
    tip: int, ahead: int, max_blocks: int
) -> None:
    window = [BlockHeader(tip, HASH_A, HASH_B)]
    head = tip + ahead

    scan_range = next_range(window, start_block=0, head=head, max_blocks=max_blocks)

    if ahead == 0:
        assert scan_range is None
    else:
        assert scan_range is not None
        first, last = scan_range
        assert first == tip + 1
        assert first <= last <= head
        assert last - first + 1 == min(ahead, max_blocks)


def test_an_empty_window_starts_at_the_start_block() -> None:
    assert next_range([], start_block=40, head=45, max_blocks=100) == (40, 45)
    assert next_range([], start_block=46, head=45, max_blocks=100) is None
