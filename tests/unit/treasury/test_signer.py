"""The signer hands out addresses and signatures, never keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from croupier.chains.ethereum.tx import Fees, UnsignedTx, native_transfer
from croupier.chains.keys import InvalidKey
from croupier.treasury.errors import InvalidDerivationIndex
from croupier.treasury.hd import HOT_WALLET_ACCOUNT, mnemonic_to_seed
from croupier.treasury.local_keystore import LocalKeyStore
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner

ANVIL_SEED = mnemonic_to_seed(Secret("test test test test test test test test test test test junk"))
ANVIL_KEY_0_HEX = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_ADDRESS_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _transfer(sender: str) -> UnsignedTx:
    return native_transfer(
        chain_id=31337,
        sender=sender,
        nonce=0,
        to=ANVIL_ADDRESS_1,
        amount_wei=10**15,
        fees=Fees(max_fee_per_gas=2 * 10**9, max_priority_fee_per_gas=10**9),
    )


def test_deposit_addresses_are_derived_per_index() -> None:
    signer = HDSigner(ANVIL_SEED)

    assert signer.eth_address(0) == ANVIL_ADDRESS_0
    assert signer.eth_address(1) == ANVIL_ADDRESS_1


def test_a_signed_transaction_recovers_to_the_index_address() -> None:
    signed = HDSigner(ANVIL_SEED).sign_eth_transaction(_transfer(ANVIL_ADDRESS_0), 0)

    assert Account.recover_transaction(signed.raw) == ANVIL_ADDRESS_0
    assert signed.tx_hash.startswith("0x") and len(signed.tx_hash) == 66


def test_hot_wallet_signatures_come_from_the_hot_wallet_account() -> None:
    signer = HDSigner(ANVIL_SEED)
    hot_wallet = signer.eth_address(0, account=HOT_WALLET_ACCOUNT)

    signed = signer.sign_eth_transaction(_transfer(hot_wallet), 0, account=HOT_WALLET_ACCOUNT)

    assert Account.recover_transaction(signed.raw) == hot_wallet
    assert hot_wallet != ANVIL_ADDRESS_0


def test_a_transaction_from_another_sender_is_refused_without_revealing_the_key() -> None:
    with pytest.raises(InvalidKey, match=ANVIL_ADDRESS_1) as refused:
        HDSigner(ANVIL_SEED).sign_eth_transaction(_transfer(ANVIL_ADDRESS_1), 0)

    assert ANVIL_KEY_0_HEX not in str(refused.value).lower()


def test_a_negative_index_is_refused() -> None:
    with pytest.raises(InvalidDerivationIndex):
        HDSigner(ANVIL_SEED).eth_address(-1)


def test_a_signer_loads_its_seed_from_a_keystore(tmp_path: Path) -> None:
    keystore = LocalKeyStore(tmp_path / "keystore.json", Secret("a long enough passphrase"))
    keystore.store_seed(ANVIL_SEED)

    assert HDSigner.from_keystore(keystore).eth_address(0) == ANVIL_ADDRESS_0
