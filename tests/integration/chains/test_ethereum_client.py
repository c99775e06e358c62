"""The Ethereum client against a real Anvil: scans, statuses, sends, and refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_typing import ChecksumAddress, HexStr
from web3 import Web3

from croupier.chains.base import NATIVE_TRANSFER_LOG_INDEX, ChainClient, TxState
from croupier.chains.errors import (
    BroadcastRejected,
    InsufficientGasFunds,
    InvalidAddress,
    NonceTooLow,
)
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.token import token_artifact
from croupier.chains.ethereum.tx import (
    NATIVE_TRANSFER_GAS,
    address_of,
    encode_erc20_transfer,
    erc20_transfer,
    sign,
)
from croupier.chains.keys import SigningKey
from croupier.core.errors import ConfigurationError, InvalidInput
from croupier.core.money import Currency
from croupier.core.settings import Settings
from tests.integration.chains.conftest import (
    CHAIN_ID,
    PAYER_KEY,
    build_payment,
    current_fees,
    fresh_address,
    node_rpc,
    send,
)

USDT = 10**6  # one USDT in minor units


def pay_token(client: EthereumClient, token: str, to: str, amount_minor: int) -> str:
    sender = address_of(PAYER_KEY)
    tx = erc20_transfer(
        chain_id=CHAIN_ID,
        sender=sender,
        nonce=client.nonce(sender, include_pending=True),
        token=token,
        to=to,
        amount_minor=amount_minor,
        gas_limit=client.estimate_gas_limit(sender, token, encode_erc20_transfer(to, amount_minor)),
        fees=current_fees(client),
    )
    return send(client, tx, PAYER_KEY).tx_hash


def test_the_client_satisfies_the_chain_neutral_protocol(shared_client: EthereumClient) -> None:
    assert isinstance(shared_client, ChainClient)
    assert shared_client.chain == Currency.ETH.chain


def test_native_and_token_deposits_to_watched_addresses_are_found_by_a_scan(
    shared_client: EthereumClient, usdt_token: ChecksumAddress
) -> None:
    eth_depositor, usdt_depositor, stranger = fresh_address(), fresh_address(), fresh_address()
    first = shared_client.head_number() + 1
    eth_tx = send(
        shared_client, build_payment(shared_client, PAYER_KEY, eth_depositor, 3 * 10**17), PAYER_KEY
    )
    usdt_tx = pay_token(shared_client, usdt_token, usdt_depositor, 250 * USDT)
    send(shared_client, build_payment(shared_client, PAYER_KEY, stranger, 1), PAYER_KEY)
    pay_token(shared_client, usdt_token, stranger, 1 * USDT)
    last = shared_client.head_number()

    result = shared_client.scan(first, last, [eth_depositor, usdt_depositor])

    by_hash = {header.number: header.hash for header in result.headers}
    found = {(t.tx_hash, t.to_address, t.currency, t.amount) for t in result.transfers}
    assert found == {
        (eth_tx.tx_hash, eth_depositor, Currency.ETH, 3 * 10**17),
        (usdt_tx, usdt_depositor, Currency.USDT, 250 * USDT),
    }
    receipt = shared_client.web3.eth.get_transaction_receipt(HexStr(usdt_tx))
    for transfer in result.transfers:
        assert transfer.chain == "ethereum"
        assert transfer.from_address == address_of(PAYER_KEY)
        assert by_hash[transfer.block_number] == transfer.block_hash
        expected_index = (
            NATIVE_TRANSFER_LOG_INDEX
            if transfer.currency is Currency.ETH
            else receipt["logs"][0]["logIndex"]
        )
        assert transfer.log_index == expected_index


def test_a_scan_returns_the_linked_headers_of_its_whole_range(
    shared_client: EthereumClient,
) -> None:
    node_rpc(shared_client.web3, "anvil_mine", 3)
    last = shared_client.head_number()

    result = shared_client.scan(last - 2, last, [])

    assert [h.number for h in result.headers] == [last - 2, last - 1, last]
    assert result.headers == shared_client.headers(last - 2, last)
    assert result.headers[1].parent_hash == result.headers[0].hash
    assert result.transfers == ()


def test_eth_sent_to_a_watched_address_that_reverts_it_is_not_a_deposit(
    shared_client: EthereumClient, usdt_token: ChecksumAddress
) -> None:
    # The token contract has no payable entry point, so a value transfer to it reverts.
    first = shared_client.head_number() + 1
    payment = build_payment(shared_client, PAYER_KEY, usdt_token, 10**15)
    reverting = replace(payment, gas_limit=60_000)
    signed = send(shared_client, reverting, PAYER_KEY)

    result = shared_client.scan(first, shared_client.head_number(), [usdt_token])

    assert shared_client.transaction_status(signed.tx_hash).state is TxState.FAILED
    assert result.transfers == ()


def test_an_eth_withdrawal_is_signed_broadcast_and_confirmed(shared_client: EthereumClient) -> None:
    recipient = fresh_address()

    signed = send(
        shared_client, build_payment(shared_client, PAYER_KEY, recipient, 12345), PAYER_KEY
    )

    status = shared_client.transaction_status(signed.tx_hash)
    assert status.state is TxState.INCLUDED
    assert status.confirmations == shared_client.head_number() - status.block_number + 1  # type: ignore[operator]
    assert shared_client.balance(recipient, Currency.ETH) == 12345
    assert signed.tx.gas_limit == NATIVE_TRANSFER_GAS


def test_a_token_withdrawal_is_signed_broadcast_and_confirmed(
    shared_client: EthereumClient, usdt_token: ChecksumAddress
) -> None:
    recipient = fresh_address()
    payer_before = shared_client.balance(address_of(PAYER_KEY), Currency.USDT)

    tx_hash = pay_token(shared_client, usdt_token, recipient, 42 * USDT)

    assert shared_client.transaction_status(tx_hash).state is TxState.INCLUDED
    assert shared_client.balance(recipient, Currency.USDT) == 42 * USDT
    assert shared_client.balance(address_of(PAYER_KEY), Currency.USDT) == payer_before - 42 * USDT


def test_confirmations_grow_as_blocks_are_mined_on_top(shared_client: EthereumClient) -> None:
    signed = send(
        shared_client, build_payment(shared_client, PAYER_KEY, fresh_address(), 1), PAYER_KEY
    )
    before = shared_client.transaction_status(signed.tx_hash)

    node_rpc(shared_client.web3, "anvil_mine", 4)

    after = shared_client.transaction_status(signed.tx_hash)
    assert after.block_hash == before.block_hash
    assert after.confirmations >= before.confirmations + 4
    assert after.is_final(before.confirmations + 4)


def test_an_unknown_transaction_hash_is_reported_unknown(shared_client: EthereumClient) -> None:
    status = shared_client.transaction_status("0x" + "12" * 32)

    assert status.state is TxState.UNKNOWN
    assert not status.is_final(0)


def test_rebroadcasting_a_mined_transaction_is_a_harmless_no_op(
    shared_client: EthereumClient,
) -> None:
    signed = send(
        shared_client, build_payment(shared_client, PAYER_KEY, fresh_address(), 7), PAYER_KEY
    )

    assert shared_client.broadcast(signed.raw) == signed.tx_hash


def test_a_different_transaction_reusing_a_mined_nonce_is_rejected_as_nonce_too_low(
    shared_client: EthereumClient,
) -> None:
    mined = send(
        shared_client, build_payment(shared_client, PAYER_KEY, fresh_address(), 7), PAYER_KEY
    )
    conflicting = replace(mined.tx, value_wei=8)

    with pytest.raises(NonceTooLow):
        shared_client.broadcast(sign(conflicting, PAYER_KEY).raw)


def test_a_sender_without_funds_is_rejected_with_a_typed_error(
    shared_client: EthereumClient,
) -> None:
    broke = SigningKey(bytes(range(1, 33)))

    tx = build_payment(shared_client, broke, fresh_address(), 1)

    with pytest.raises(InsufficientGasFunds):
        shared_client.broadcast(sign(tx, broke).raw)


def test_a_transaction_signed_for_another_chain_is_rejected(shared_client: EthereumClient) -> None:
    tx = build_payment(shared_client, PAYER_KEY, fresh_address(), 1)
    mainnet = replace(tx, chain_id=1)

    with pytest.raises(BroadcastRejected, match="chain"):
        shared_client.broadcast(sign(mainnet, PAYER_KEY).raw)


@pytest.mark.parametrize(
    "bad", ["0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0xabc", "not an address"]
)
def test_malformed_addresses_are_refused_before_reaching_the_node(
    shared_client: EthereumClient, bad: str
) -> None:
    head = shared_client.head_number()

    with pytest.raises(InvalidAddress, match="is not a valid Ethereum address"):
        shared_client.scan(head, head, [bad])
    with pytest.raises(InvalidAddress):
        shared_client.balance(bad, Currency.ETH)


def test_a_scan_wider_than_the_batch_limit_is_refused(shared_client: EthereumClient) -> None:
    with pytest.raises(InvalidInput, match="at most 100 blocks"):
        shared_client.scan(0, 100, [])


def test_the_fee_estimate_is_the_next_blocks_base_fee(shared_client: EthereumClient) -> None:
    estimate = shared_client.fee_estimate()

    pending = shared_client.web3.eth.get_block("pending")
    assert estimate.fee_unit == "wei/gas"
    assert estimate.base_fee == pending["baseFeePerGas"]
    assert estimate.priority_fee > 0


def test_a_client_from_settings_watches_the_configured_usdt_contract(
    anvil_url: str, usdt_token: ChecksumAddress
) -> None:
    settings = Settings(eth_rpc_url=anvil_url, usdt_contract_address=usdt_token.lower())

    client = EthereumClient.from_settings(settings)

    assert client.token_address(Currency.USDT) == usdt_token
    client.ensure_chain_id(settings.eth_chain_id)
    assert client.balance(address_of(PAYER_KEY), Currency.USDT) > 0


def test_the_shipped_token_is_usdt_like(shared_w3: Web3, usdt_token: ChecksumAddress) -> None:
    token = shared_w3.eth.contract(address=usdt_token, abi=list(token_artifact().abi))

    assert token.functions.decimals().call() == Currency.USDT.decimals
    assert token.functions.symbol().call() == "USDT"


def test_a_node_of_another_chain_is_refused(shared_client: EthereumClient) -> None:
    with pytest.raises(
        ConfigurationError, match="serves chain id 31337, but CROUPIER_ETH_CHAIN_ID is 1"
    ):
        shared_client.ensure_chain_id(1)
