"""ETH that a contract sends on to a watched address: found by a tracing scan on a real
Anvil, with a key of its own, and only if it stayed."""

from __future__ import annotations

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3

from croupier.chains.base import NATIVE_TRANSFER_LOG_INDEX, IncomingTransfer
from croupier.chains.ethereum.client import EthereumClient
from croupier.core.money import Currency
from tests.integration.chains.conftest import PAYER_KEY, fresh_address
from tests.integration.eth_forwarder import deploy_forwarder, forward

AMOUNT = 3 * 10**15
FIRST_INTERNAL_CALL = NATIVE_TRANSFER_LOG_INDEX - 1


@pytest.fixture(scope="module")
def tracing_client(shared_w3: Web3) -> EthereumClient:
    return EthereumClient(shared_w3, max_scan_blocks=100, internal_transfers=True)


@pytest.fixture(scope="module")
def forwarder(tracing_client: EthereumClient) -> ChecksumAddress:
    return deploy_forwarder(tracing_client, PAYER_KEY)


def scan_last(client: EthereumClient, watched: list[str]) -> tuple[IncomingTransfer, ...]:
    head = client.head_number()
    return client.scan(head, head, watched).transfers


def test_eth_a_contract_forwards_is_found_by_tracing_and_missed_without(
    tracing_client: EthereumClient, shared_client: EthereumClient, forwarder: ChecksumAddress
) -> None:
    deposit_address = fresh_address()

    tx_hash = forward(tracing_client, PAYER_KEY, forwarder, deposit_address, AMOUNT)

    assert scan_last(tracing_client, [deposit_address]) == (
        IncomingTransfer(
            chain="ethereum",
            tx_hash=tx_hash,
            log_index=FIRST_INTERNAL_CALL,
            block_number=tracing_client.head_number(),
            block_hash=tracing_client.headers(
                tracing_client.head_number(), tracing_client.head_number()
            )[0].hash,
            from_address=forwarder,
            to_address=deposit_address,
            currency=Currency.ETH,
            amount=AMOUNT,
        ),
    )
    assert scan_last(shared_client, [deposit_address]) == ()


def test_the_transactions_own_value_and_the_inner_call_are_two_transfers(
    tracing_client: EthereumClient, forwarder: ChecksumAddress
) -> None:
    deposit_address = fresh_address()

    tx_hash = forward(tracing_client, PAYER_KEY, forwarder, deposit_address, AMOUNT)

    found = scan_last(tracing_client, [forwarder, deposit_address])
    assert {(t.tx_hash, t.log_index, t.to_address, t.amount) for t in found} == {
        (tx_hash, NATIVE_TRANSFER_LOG_INDEX, forwarder, AMOUNT),
        (tx_hash, FIRST_INTERNAL_CALL, deposit_address, AMOUNT),
    }


def test_eth_forwarded_in_a_transaction_that_reverted_is_not_a_deposit(
    tracing_client: EthereumClient, forwarder: ChecksumAddress
) -> None:
    deposit_address = fresh_address()

    forward(tracing_client, PAYER_KEY, forwarder, deposit_address, AMOUNT, revert_after=True)

    assert scan_last(tracing_client, [deposit_address]) == ()
    assert tracing_client.balance(deposit_address, Currency.ETH) == 0
