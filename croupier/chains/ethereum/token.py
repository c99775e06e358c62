"""The shipped dev token (DevUSDT: 6 decimals, owner-only mint) and its deploy helpers.

The ABI and bytecode are compiled once from ``contracts/DevUSDT.sol`` and shipped as
JSON (see ``contracts/README.md``), so neither tests nor the dev stack need a Solidity
compiler. Deploying and minting wait for the receipt: they are for tests and the dev
stack on Anvil, where blocks are mined on demand, not for production sends (those go
through the hot-wallet sender, which never blocks on inclusion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress, HexStr
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import TimeExhausted

from croupier.chains.errors import NodeUnavailable, TransactionReverted
from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.tx import UnsignedTx, address_of, market_fees, sign
from croupier.chains.keys import SigningKey
from croupier.core.money import check_minor_units

ARTIFACT_FILE = "DevUSDT.json"
MINT_SELECTOR = keccak(text="mint(address,uint256)")[:4]
DEV_PRIORITY_FEE_WEI = 10**9
DEV_MAX_FEE_CAP_WEI = 1_000 * 10**9  # a local chain: the cap only guards against nonsense
DEFAULT_RECEIPT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class TokenArtifact:
    """Compiler output for the dev token."""

    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    compiler_version: str


@lru_cache(maxsize=1)
def token_artifact() -> TokenArtifact:
    """The shipped ABI and creation bytecode (read once)."""
    text = resources.files(__package__).joinpath("contracts", ARTIFACT_FILE).read_text()
    raw = json.loads(text)
    return TokenArtifact(
        abi=tuple(raw["abi"]),
        bytecode=bytes.fromhex(raw["bytecode"].removeprefix("0x")),
        compiler_version=raw["compiler"]["version"],
    )


def deploy_token(
    w3: Web3, deployer_key: SigningKey, *, timeout_s: float = DEFAULT_RECEIPT_TIMEOUT_S
) -> ChecksumAddress:
    """Deploy DevUSDT from the key's account (its only minter); return the contract address."""
    receipt = _send_and_wait(w3, deployer_key, None, token_artifact().bytecode, timeout_s)
    return parse_address(receipt["contractAddress"])


def mint_token(
    w3: Web3,
    token: str,
    owner_key: SigningKey,
    to: str,
    amount_minor: int,
    *,
    timeout_s: float = DEFAULT_RECEIPT_TIMEOUT_S,
) -> str:
    """Mint ``amount_minor`` base units (6 decimals) to ``to``; return the tx hash."""
    data = MINT_SELECTOR + abi_encode(
        ["address", "uint256"], [parse_address(to), check_minor_units(amount_minor)]
    )
    receipt = _send_and_wait(w3, owner_key, parse_address(token), data, timeout_s)
    tx_hash: str = receipt["transactionHash"].to_0x_hex()
    return tx_hash


def _send_and_wait(
    w3: Web3,
    key: SigningKey,
    to: ChecksumAddress | None,
    data: bytes,
    timeout_s: float,
) -> Any:
    client = EthereumClient(w3)
    sender = address_of(key)
    fees = market_fees(
        client.fee_estimate(),
        priority_fee_wei=DEV_PRIORITY_FEE_WEI,
        max_fee_cap_wei=DEV_MAX_FEE_CAP_WEI,
    ).fees
    assert fees is not None, "a dev chain's fees are below the dev cap"
    unsigned = UnsignedTx(
        chain_id=client.chain_id(),
        sender=sender,
        nonce=client.nonce(sender, include_pending=True),
        to=to,
        value_wei=0,
        data=data,
        gas_limit=client.estimate_gas_limit(sender, to, data),
        fees=fees,
    )
    signed = sign(unsigned, key)
    client.broadcast(signed.raw)
    try:
        receipt = w3.eth.wait_for_transaction_receipt(HexStr(signed.tx_hash), timeout=timeout_s)
    except TimeExhausted:
        raise NodeUnavailable(f"{signed.tx_hash} was not mined within {timeout_s:.0f}s") from None
    if receipt["status"] != 1:
        raise TransactionReverted(f"{signed.tx_hash} reverted")
    return receipt
