"""Reorgs on a real (private) Anvil: the follower notices, voids, rescans, re-finds."""

from __future__ import annotations

import pytest

from croupier.chains.base import TxState
from croupier.chains.errors import ReorgBeyondWindow
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.follow import follow
from tests.integration.chains.conftest import (
    PAYER_KEY,
    build_payment,
    fresh_address,
    node_rpc,
    send,
    wait_mined,
)

WINDOW_BLOCKS = 16


def reorg(client: EthereumClient, depth: int) -> None:
    """Replace the newest ``depth`` blocks with empty ones (same height, new hashes)."""
    node_rpc(client.web3, "anvil_reorg", depth, [])


def test_a_reorged_deposit_is_voided_absent_after_rescan_and_found_again_when_remined(
    private_client: EthereumClient,
) -> None:
    depositor = fresh_address()
    node_rpc(private_client.web3, "anvil_mine", 10)
    start = private_client.head_number() - 4  # remember a few blocks below the deposit
    deposit = send(
        private_client, build_payment(private_client, PAYER_KEY, depositor, 10**18), PAYER_KEY
    )
    node_rpc(private_client.web3, "anvil_mine", 3)
    seen = follow(private_client, (), [depositor], start_block=start, window_size=WINDOW_BLOCKS)
    assert [t.tx_hash for t in seen.transfers] == [deposit.tx_hash]
    first_sighting = seen.transfers[0]

    reorg(private_client, depth=5)
    noticed = follow(
        private_client, seen.window, [depositor], start_block=start, window_size=WINDOW_BLOCKS
    )
    rescanned = follow(
        private_client, noticed.window, [depositor], start_block=start, window_size=WINDOW_BLOCKS
    )

    assert noticed.reorg is not None
    assert noticed.reorg.orphans(first_sighting.block_hash)
    assert noticed.transfers == ()
    assert noticed.window[-1].number == noticed.reorg.common_ancestor < first_sighting.block_number
    assert rescanned.reorg is None
    assert rescanned.transfers == ()
    assert rescanned.window[-1].number == private_client.head_number()
    assert private_client.transaction_status(deposit.tx_hash).state is TxState.UNKNOWN

    # The same signed transaction reaches a new block (as a node's mempool would re-mine it).
    private_client.broadcast(deposit.raw)
    wait_mined(private_client.web3, deposit.tx_hash)
    found_again = follow(
        private_client, rescanned.window, [depositor], start_block=start, window_size=WINDOW_BLOCKS
    )

    assert found_again.reorg is None
    (again,) = found_again.transfers
    assert (again.tx_hash, again.log_index, again.amount) == (
        first_sighting.tx_hash,
        first_sighting.log_index,
        first_sighting.amount,
    )
    assert again.block_hash != first_sighting.block_hash
    assert private_client.transaction_status(deposit.tx_hash).block_hash == again.block_hash


def test_a_reorg_deeper_than_the_remembered_window_is_refused(
    private_client: EthereumClient,
) -> None:
    node_rpc(private_client.web3, "anvil_mine", 10)
    head = private_client.head_number()
    step = follow(private_client, (), [], start_block=head - 3, window_size=4)
    assert [h.number for h in step.window] == list(range(head - 3, head + 1))

    reorg(private_client, depth=6)

    with pytest.raises(ReorgBeyondWindow):
        follow(private_client, step.window, [], start_block=head - 3, window_size=4)


def test_the_tip_check_costs_nothing_more_when_the_chain_just_grew(
    private_client: EthereumClient,
) -> None:
    head = private_client.head_number()
    step = follow(private_client, (), [], start_block=head, window_size=WINDOW_BLOCKS)

    node_rpc(private_client.web3, "anvil_mine", 5)
    grown = follow(private_client, step.window, [], start_block=head, window_size=WINDOW_BLOCKS)

    assert grown.reorg is None
    assert [h.number for h in grown.window] == list(range(head, head + 6))
