"""HD derivation against published test vectors, and against an independent implementation."""

from __future__ import annotations

import pytest
from eth_account.hdaccount import key_from_seed
from hypothesis import given, settings
from hypothesis import strategies as st

from croupier.treasury.errors import InvalidDerivationIndex, InvalidMnemonic, KeystoreCorrupt
from croupier.treasury.hd import (
    HOT_WALLET_ACCOUNT,
    MAX_CHILD_INDEX,
    derive,
    eth_path,
    mnemonic_to_seed,
    new_mnemonic,
    normalise_mnemonic,
)
from croupier.treasury.secret import Secret

# BIP-32 test vector 1 (bitcoin/bips, bip-0032.mediawiki).
BIP32_VECTOR_1_SEED = Secret(bytes.fromhex("000102030405060708090a0b0c0d0e0f"))
BIP32_VECTOR_1 = [
    (
        "m",
        "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejM"
        "RNNU3TGtRBeJgk33yuGBxrMPHi",
        "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqse"
        "fD265TMg7usUDFdp6W1EGMcet8",
    ),
    (
        "m/0'",
        "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT1"
        "1eZG7XnxHrnYeSvkzY7d2bhkJ7",
        "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1b"
        "gwQ9xv5ski8PX9rL2dZXvgGDnw",
    ),
    (
        "m/0'/1",
        "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8"
        "MSY3H2EU4pWcQDnRnrVA1xe8fs",
        "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq5"
        "27Hqck2AxYysAA7xmALppuCkwQ",
    ),
]

# Anvil / Hardhat default accounts (published in Foundry's and Hardhat's docs).
ANVIL_MNEMONIC = Secret("test test test test test test test test test test test junk")
ANVIL_ACCOUNTS = [
    (
        0,
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    ),
    (
        1,
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    ),
    (
        2,
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    ),
]

# BIP-39 vectors with passphrase "TREZOR" (trezor/python-mnemonic vectors.json).
BIP39_VECTORS = [
    (
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon about",
        "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d1826"
        "4c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
    ),
    (
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a"
        "3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607",
    ),
]


@pytest.mark.parametrize(("path", "xprv", "xpub"), BIP32_VECTOR_1)
def test_bip32_vector_1_derives_the_published_extended_keys(
    path: str, xprv: str, xpub: str
) -> None:
    key = derive(BIP32_VECTOR_1_SEED, path)

    assert key.xprv.reveal() == xprv
    assert key.xpub == xpub


@pytest.mark.parametrize(("mnemonic", "seed_hex"), BIP39_VECTORS)
def test_bip39_vectors_give_the_published_seeds(mnemonic: str, seed_hex: str) -> None:
    seed = mnemonic_to_seed(Secret(mnemonic), Secret("TREZOR"))

    assert seed.reveal().hex() == seed_hex


@pytest.mark.parametrize(("index", "address", "private_key_hex"), ANVIL_ACCOUNTS)
def test_anvil_mnemonic_derives_anvils_published_accounts(
    index: int, address: str, private_key_hex: str
) -> None:
    key = derive(mnemonic_to_seed(ANVIL_MNEMONIC), eth_path(index))

    assert key.path == f"m/44'/60'/0'/0/{index}"
    assert key.eth_address == address
    assert key.private_key.reveal().hex() == private_key_hex


@settings(max_examples=25, deadline=None)
@given(index=st.integers(min_value=0, max_value=MAX_CHILD_INDEX), account=st.sampled_from([0, 1]))
def test_derivation_agrees_with_eth_accounts_independent_bip32(index: int, account: int) -> None:
    seed = mnemonic_to_seed(ANVIL_MNEMONIC)
    path = eth_path(index, account=account)

    assert derive(seed, path).private_key.reveal() == key_from_seed(seed.reveal(), path)


def test_hot_wallet_keys_are_a_separate_account_from_deposit_keys() -> None:
    seed = mnemonic_to_seed(ANVIL_MNEMONIC)

    deposit = derive(seed, eth_path(0))
    hot = derive(seed, eth_path(0, account=HOT_WALLET_ACCOUNT))

    assert hot.path == "m/44'/60'/1'/0/0"
    assert hot.eth_address != deposit.eth_address


@pytest.mark.parametrize("index", [-1, 2**31, True, 1.0, "3"])
def test_an_index_outside_the_non_hardened_range_is_refused(index: object) -> None:
    with pytest.raises(InvalidDerivationIndex, match=r"0\.\.2147483647"):
        eth_path(index)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["", "44'/60'", "m/44'/x", "m//1", "m/1/2/3/4/5/6/7/8/9/10/11"])
def test_a_malformed_path_is_refused(path: str) -> None:
    with pytest.raises(InvalidDerivationIndex, match="derivation path"):
        derive(BIP32_VECTOR_1_SEED, path)


def test_a_seed_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(KeystoreCorrupt, match="16 to 64 bytes"):
        derive(Secret(b"short"), "m")


def test_new_mnemonic_is_24_valid_words_and_never_repeats() -> None:
    first, second = new_mnemonic(), new_mnemonic()

    assert len(first.reveal().split()) == 24
    assert normalise_mnemonic(first) == first
    assert first != second


def test_mnemonic_case_and_spacing_are_normalised_before_seeding() -> None:
    messy = Secret("  Test test\tTEST test test test test test test test test   junk\n")

    assert mnemonic_to_seed(messy) == mnemonic_to_seed(ANVIL_MNEMONIC)


@pytest.mark.parametrize(
    ("mnemonic", "message"),
    [
        ("test test test", "this one has 3"),
        ("test test test test test test test test test test test jnuk", "word 12 is not"),
        ("test test test test test test test test test test test test", "checksum"),
    ],
)
def test_an_invalid_mnemonic_is_refused_without_quoting_it(mnemonic: str, message: str) -> None:
    with pytest.raises(InvalidMnemonic, match=message) as refused:
        mnemonic_to_seed(Secret(mnemonic))

    assert "test" not in str(refused.value)
    assert "jnuk" not in str(refused.value)
