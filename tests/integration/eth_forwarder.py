"""A contract wallet in 30 bytes, for tests of ETH that arrives through an internal call.

Runtime code, hand-assembled::

    PUSH1 0 PUSH1 0 PUSH1 0 PUSH1 0    ; no return data, no call data
    CALLVALUE PUSH1 0 CALLDATALOAD GAS ; value = what it was sent, to = calldata[0:32]
    CALL ISZERO PUSH1 0x19 JUMPI       ; the inner transfer failed: revert
    PUSH1 0x20 CALLDATALOAD PUSH1 0x19 JUMPI  ; calldata[32:64] non-zero: revert anyway
    STOP
    JUMPDEST PUSH1 0 DUP1 REVERT       ; 0x19

The second word lets a test make the whole transaction revert after the inner transfer
happened, which a tracer still shows (under a reverted frame).
"""

from __future__ import annotations

from eth_typing import ChecksumAddress, HexStr

from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.token import DEV_MAX_FEE_CAP_WEI, DEV_PRIORITY_FEE_WEI
from croupier.chains.ethereum.tx import UnsignedTx, address_of, market_fees, sign
from croupier.chains.keys import SigningKey

RUNTIME = bytes.fromhex("6000600060006000346000355af115601957602035601957005b600080fd")
# PUSH1 len DUP1 PUSH1 11 PUSH1 0 CODECOPY PUSH1 0 RETURN: copy the runtime, return it.
CREATION = bytes.fromhex(f"60{len(RUNTIME):02x}80600b6000396000f3") + RUNTIME
GAS_LIMIT = 200_000
RECEIPT_TIMEOUT_S = 30


def deploy_forwarder(client: EthereumClient, key: SigningKey) -> ChecksumAddress:
    receipt = _send(client, key, None, CREATION, 0)
    assert receipt["status"] == 1, receipt
    return parse_address(receipt["contractAddress"])


def forward(
    client: EthereumClient,
    key: SigningKey,
    forwarder: str,
    to: str,
    amount_wei: int,
    *,
    revert_after: bool = False,
) -> str:
    """Send ``amount_wei`` to ``forwarder``, which sends it on to ``to``; the tx hash."""
    data = bytes(12) + bytes.fromhex(parse_address(to)[2:]) + int(revert_after).to_bytes(32)
    receipt = _send(client, key, parse_address(forwarder), data, amount_wei)
    assert receipt["status"] == (0 if revert_after else 1), receipt
    tx_hash: str = receipt["transactionHash"].to_0x_hex()
    return tx_hash


def _send(
    client: EthereumClient, key: SigningKey, to: ChecksumAddress | None, data: bytes, value: int
) -> dict[str, object]:
    fees = market_fees(
        client.fee_estimate(),
        priority_fee_wei=DEV_PRIORITY_FEE_WEI,
        max_fee_cap_wei=DEV_MAX_FEE_CAP_WEI,
    ).fees
    assert fees is not None
    sender = address_of(key)
    signed = sign(
        UnsignedTx(
            chain_id=client.chain_id(),
            sender=sender,
            nonce=client.nonce(sender, include_pending=True),
            to=to,
            value_wei=value,
            data=data,
            gas_limit=GAS_LIMIT,
            fees=fees,
        ),
        key,
    )
    client.broadcast(signed.raw)
    receipt = client.web3.eth.wait_for_transaction_receipt(
        HexStr(signed.tx_hash), timeout=RECEIPT_TIMEOUT_S, poll_latency=0.05
    )
    return dict(receipt)
