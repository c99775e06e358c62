"""Stuck transactions on a real (private) Anvil with automine off: replace, never overpay."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from croupier.chains.base import TxState
from croupier.chains.errors import FeeTooLow
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.tx import (
    Fees,
    address_of,
    market_fees,
    replacement_fees,
    sign,
)
from croupier.core.money import Currency
from tests.integration.chains.conftest import (
    GWEI,
    PAYER_KEY,
    build_payment,
    fresh_address,
    node_rpc,
)

CAP_WEI = 100 * GWEI


@pytest.fixture
def manual_mining(private_client: EthereumClient) -> Iterator[EthereumClient]:
    """Automine off for one test; on again (and the mempool emptied) whatever happens."""
    w3 = private_client.web3
    node_rpc(w3, "anvil_setAutomine", False)
    try:
        yield private_client
    finally:
        node_rpc(w3, "anvil_dropAllTransactions")
        node_rpc(w3, "anvil_setAutomine", True)


def mine(client: EthereumClient) -> None:
    node_rpc(client.web3, "evm_mine")


def test_a_replacement_with_ten_percent_higher_fees_replaces_a_pending_transaction(
    manual_mining: EthereumClient,
) -> None:
    client = manual_mining
    recipient = fresh_address()
    sender = address_of(PAYER_KEY)
    nonce_before = client.nonce(sender, include_pending=False)
    stuck = build_payment(client, PAYER_KEY, recipient, 5 * 10**15)
    stuck_signed = sign(stuck, PAYER_KEY)
    client.broadcast(stuck_signed.raw)
    assert client.transaction_status(stuck_signed.tx_hash).state is TxState.PENDING

    market = market_fees(client.fee_estimate(), priority_fee_wei=GWEI, max_fee_cap_wei=CAP_WEI)
    decision = replacement_fees(stuck.fees, market, max_fee_cap_wei=CAP_WEI)
    assert decision.fees is not None
    replacement = sign(stuck.replaced_with(decision.fees), PAYER_KEY)
    client.broadcast(replacement.raw)
    mine(client)

    assert replacement.tx.nonce == stuck.nonce
    assert client.transaction_status(replacement.tx_hash).state is TxState.INCLUDED
    assert client.transaction_status(stuck_signed.tx_hash).state is TxState.UNKNOWN
    assert client.nonce(sender, include_pending=False) == nonce_before + 1
    assert client.balance(recipient, Currency.ETH) == 5 * 10**15


def test_a_resend_with_the_same_fees_is_refused_as_underpriced(
    manual_mining: EthereumClient,
) -> None:
    client = manual_mining
    first = build_payment(client, PAYER_KEY, fresh_address(), 1)
    client.broadcast(sign(first, PAYER_KEY).raw)
    same_fees_other_value = sign(replace(first, value_wei=2), PAYER_KEY)

    with pytest.raises(FeeTooLow):
        client.broadcast(same_fees_other_value.raw)


def test_when_the_base_fee_exceeds_the_cap_the_decision_is_to_wait(
    private_client: EthereumClient,
) -> None:
    w3 = private_client.web3
    node_rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(150 * GWEI))
    try:
        decision = market_fees(
            private_client.fee_estimate(), priority_fee_wei=GWEI, max_fee_cap_wei=CAP_WEI
        )
    finally:
        node_rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(GWEI))

    assert decision.should_wait
    assert decision.fees is None
    stuck = Fees(max_fee_per_gas=95 * GWEI, max_priority_fee_per_gas=GWEI)
    assert replacement_fees(stuck, decision, max_fee_cap_wei=CAP_WEI).should_wait
