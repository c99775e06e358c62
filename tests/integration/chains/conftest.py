"""Ethereum fixtures: clients on the shared Anvil, a private Anvil for chain surgery.

Tests that turn automine off, reorganize or roll the chain back get their own node
(``private_anvil_url``, one per module) so the shared session node stays untouched.
Dev accounts 7..9 of Anvil's default mnemonic pay for the tests here; the low
accounts are left to other suites.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.types import RPCEndpoint

from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.token import deploy_token, mint_token
from croupier.chains.ethereum.tx import (
    Fees,
    SignedTx,
    UnsignedTx,
    address_of,
    market_fees,
    native_transfer,
    sign,
)
from croupier.chains.keys import SigningKey
from croupier.core.money import Currency
from croupier.workers import devstack

LOCAL_HOST = "127.0.0.1"
CHAIN_ID = 31337
GWEI = 10**9
# Anvil's default dev accounts 7, 8 and 9 ("test test ... junk" mnemonic).
PAYER_KEY = SigningKey.from_hex(
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"
)
TOKEN_OWNER_KEY = SigningKey.from_hex(
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"
)
SPARE_KEY = SigningKey.from_hex(
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"
)
RECEIPT_TIMEOUT_S = 30


def node_rpc(w3: Web3, method: str, *params: Any) -> Any:
    """Call an Anvil control method (mining, reorgs) and return its result."""
    response = w3.provider.make_request(RPCEndpoint(method), list(params))
    assert "error" not in response, response
    return response.get("result")


def connect(url: str) -> Web3:
    return Web3(Web3.HTTPProvider(url, exception_retry_configuration=None))


def fresh_address() -> ChecksumAddress:
    """A brand-new account nobody else on the node can be paying."""
    address: ChecksumAddress = Account.create().address
    return address


def current_fees(client: EthereumClient) -> Fees:
    fees = market_fees(
        client.fee_estimate(), priority_fee_wei=GWEI, max_fee_cap_wei=1_000 * GWEI
    ).fees
    assert fees is not None
    return fees


def build_payment(client: EthereumClient, key: SigningKey, to: str, amount_wei: int) -> UnsignedTx:
    sender = address_of(key)
    return native_transfer(
        chain_id=CHAIN_ID,
        sender=sender,
        nonce=client.nonce(sender, include_pending=True),
        to=to,
        amount_wei=amount_wei,
        fees=current_fees(client),
    )


def wait_mined(w3: Web3, tx_hash: str) -> None:
    w3.eth.wait_for_transaction_receipt(
        HexStr(tx_hash), timeout=RECEIPT_TIMEOUT_S, poll_latency=0.05
    )


def send(client: EthereumClient, tx: UnsignedTx, key: SigningKey) -> SignedTx:
    """Sign, broadcast and wait until mined (automine)."""
    signed = sign(tx, key)
    assert client.broadcast(signed.raw) == signed.tx_hash
    wait_mined(client.web3, signed.tx_hash)
    return signed


@pytest.fixture(scope="session")
def shared_w3(anvil_url: str) -> Web3:
    return connect(anvil_url)


@pytest.fixture(scope="session")
def usdt_token(shared_w3: Web3) -> ChecksumAddress:
    """DevUSDT on the shared node, with 1,000,000 USDT minted to the payer."""
    token = deploy_token(shared_w3, TOKEN_OWNER_KEY)
    mint_token(shared_w3, token, TOKEN_OWNER_KEY, address_of(PAYER_KEY), 10**12)
    return token


@pytest.fixture(scope="session")
def shared_client(shared_w3: Web3, usdt_token: ChecksumAddress) -> EthereumClient:
    return EthereumClient(shared_w3, tokens={usdt_token: Currency.USDT}, max_scan_blocks=100)


@pytest.fixture(scope="module")
def private_anvil_url(anvil_binary: Path) -> Iterator[str]:
    """An Anvil node of this module's own, for automine-off, reorg and rollback tests."""
    with devstack.running_anvil(anvil_binary, name="anvil-chains") as url:
        yield url


@pytest.fixture(scope="module")
def private_client(private_anvil_url: str) -> EthereumClient:
    return EthereumClient(connect(private_anvil_url), max_scan_blocks=100)
