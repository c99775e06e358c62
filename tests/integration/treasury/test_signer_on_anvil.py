"""A transaction signed by the HD signer is accepted and mined by a real Ethereum node."""

from __future__ import annotations

from web3 import Web3

from croupier.chains.ethereum.tx import Fees, native_transfer
from croupier.treasury.hd import HOT_WALLET_ACCOUNT, mnemonic_to_seed
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner

# Anvil funds the first ten accounts of this mnemonic; the last one is spent here so
# tests of other packages sharing the session's node keep their usual accounts.
ANVIL_MNEMONIC = Secret("test test test test test test test test test test test junk")
FUNDED_INDEX = 9
RECEIPT_TIMEOUT_S = 30


def test_a_signed_transfer_from_a_derived_key_is_mined(anvil_url: str) -> None:
    web3 = Web3(Web3.HTTPProvider(anvil_url, request_kwargs={"timeout": 10}))
    signer = HDSigner(mnemonic_to_seed(ANVIL_MNEMONIC))
    sender = signer.eth_address(FUNDED_INDEX)
    recipient = signer.eth_address(FUNDED_INDEX, account=HOT_WALLET_ACCOUNT)
    amount_wei = 10**16
    balance_before_wei = web3.eth.get_balance(recipient)
    base_fee_wei = web3.eth.get_block("latest")["baseFeePerGas"]
    tx = native_transfer(
        chain_id=web3.eth.chain_id,
        sender=sender,
        nonce=web3.eth.get_transaction_count(sender, "pending"),
        to=recipient,
        amount_wei=amount_wei,
        fees=Fees(max_fee_per_gas=2 * base_fee_wei + 10**9, max_priority_fee_per_gas=10**9),
    )

    signed = signer.sign_eth_transaction(tx, FUNDED_INDEX)
    tx_hash = web3.eth.send_raw_transaction(signed.raw)
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)

    assert tx_hash.to_0x_hex() == signed.tx_hash
    assert receipt["status"] == 1
    assert receipt["from"] == sender
    assert web3.eth.get_balance(recipient) == balance_before_wei + amount_wei
