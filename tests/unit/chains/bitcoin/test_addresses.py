"""BIP-84 derivation matches the published vectors; addresses parse strictly per network."""

from __future__ import annotations

import pytest
from bitcoinlib.mnemonic import Mnemonic

from croupier.chains.bitcoin.addresses import (
    INTERNAL_CHAIN,
    ScriptKind,
    account_extended_public_key,
    bip84_path,
    derive_bip84,
    descriptor_checksum,
    p2wpkh_address,
    parse_address,
    script_to_address,
)
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.bitcoin.signing import signing_key_from_wif
from croupier.chains.errors import InvalidAddress
from croupier.core.errors import InvalidInput

# BIP-84's test vectors: https://github.com/bitcoin/bips/blob/master/bip-0084.mediawiki
BIP84_MNEMONIC = "abandon " * 11 + "about"
BIP84_ACCOUNT_ZPUB = (
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgD"
    "Kf31mGDtKsAYz2oz2AGutZYs"
)
BIP84_KEYS = [
    # (index, change, address, public key, WIF private key)
    (
        0,
        0,
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
        "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c",
        "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d",
    ),
    (
        1,
        0,
        "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
        "03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77",
        "Kxpf5b8p3qX56DKEe5NqWbNUP9MnqoRFzZwHRtsFqhzuvUJsYZCy",
    ),
    (
        0,
        1,
        "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el",
        "03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6",
        "KxuoxufJL5csa1Wieb2kp29VNdn92Us8CoaUG3aGtPtcF3AzeXvF",
    ),
]


@pytest.fixture(scope="module")
def bip84_seed() -> bytes:
    seed: bytes = Mnemonic().to_seed(BIP84_MNEMONIC)
    return seed


def test_account_zpub_matches_the_bip84_vector(bip84_seed: bytes) -> None:
    assert account_extended_public_key(bip84_seed, BtcNetwork.BITCOIN) == BIP84_ACCOUNT_ZPUB


@pytest.mark.parametrize(("index", "change", "address", "public_hex", "wif"), BIP84_KEYS)
def test_derived_keys_match_the_bip84_vectors(
    bip84_seed: bytes, index: int, change: int, address: str, public_hex: str, wif: str
) -> None:
    key = derive_bip84(bip84_seed, BtcNetwork.BITCOIN, index, change=change)
    assert key.path == f"m/84'/0'/0'/{change}/{index}"
    assert key.address == address
    assert key.public_key.hex() == public_hex
    assert key.signing_key == signing_key_from_wif(wif, BtcNetwork.BITCOIN)


def test_regtest_and_testnet_use_coin_type_one_and_their_own_prefixes(bip84_seed: bytes) -> None:
    regtest = derive_bip84(bip84_seed, BtcNetwork.REGTEST, 0)
    testnet = derive_bip84(bip84_seed, BtcNetwork.TESTNET, 0)
    assert regtest.path == testnet.path == "m/84'/1'/0'/0/0"
    assert regtest.public_key == testnet.public_key
    assert regtest.address.startswith("bcrt1q") and testnet.address.startswith("tb1q")
    same_program = parse_address(testnet.address, BtcNetwork.TESTNET).script_pubkey
    assert parse_address(regtest.address, BtcNetwork.REGTEST).script_pubkey == same_program
    assert account_extended_public_key(bip84_seed, BtcNetwork.REGTEST).startswith("vpub")


def test_a_derived_key_never_shows_its_private_half(bip84_seed: bytes) -> None:
    key = derive_bip84(bip84_seed, BtcNetwork.BITCOIN, 0)
    secret_hex = key.signing_key.reveal().hex()
    assert secret_hex not in repr(key) and secret_hex not in str(key)
    assert "redacted" in repr(key)


@pytest.mark.parametrize("index", [-1, 2**31, True, "0"])
def test_bad_indexes_are_refused(bip84_seed: bytes, index: object) -> None:
    with pytest.raises(InvalidInput):
        derive_bip84(bip84_seed, BtcNetwork.BITCOIN, index)  # type: ignore[arg-type]


def test_change_level_is_zero_or_one() -> None:
    assert bip84_path(BtcNetwork.BITCOIN, 5, change=INTERNAL_CHAIN) == "m/84'/0'/0'/1/5"
    with pytest.raises(InvalidInput):
        bip84_path(BtcNetwork.BITCOIN, 5, change=2)


def test_a_seed_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidInput):
        derive_bip84(b"\x01" * 15, BtcNetwork.BITCOIN, 0)


@pytest.mark.parametrize(
    ("text", "network", "kind", "script_hex"),
    [
        (
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
            BtcNetwork.BITCOIN,
            ScriptKind.P2WPKH,
            "0014c0cebcd6c3d3ca8c75dc5ec62ebe55330ef910e2",
        ),
        (
            "BC1QCR8TE4KR609GCAWUTMRZA0J4XV80JY8Z306FYU",
            BtcNetwork.BITCOIN,
            ScriptKind.P2WPKH,
            "0014c0cebcd6c3d3ca8c75dc5ec62ebe55330ef910e2",
        ),
        (
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            BtcNetwork.BITCOIN,
            ScriptKind.P2PKH,
            "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac",
        ),
        (
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            BtcNetwork.BITCOIN,
            ScriptKind.P2SH,
            "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87",
        ),
        (
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
            BtcNetwork.BITCOIN,
            ScriptKind.P2TR,
            "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
        ),
        (
            "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
            BtcNetwork.REGTEST,
            ScriptKind.P2PKH,
            "76a914243f1394f44554f4ce3fd68649c19adc483ce92488ac",
        ),
    ],
)
def test_valid_addresses_parse_to_their_locking_script(
    text: str, network: BtcNetwork, kind: ScriptKind, script_hex: str
) -> None:
    address = parse_address(text, network)
    assert address.kind is kind
    assert address.script_pubkey.hex() == script_hex
    assert script_to_address(address.script_pubkey, network) == address.text
    base58 = kind in (ScriptKind.P2PKH, ScriptKind.P2SH)
    assert address.text == (text if base58 else text.lower())


@pytest.mark.parametrize(
    ("text", "network", "reason"),
    [
        ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv", BtcNetwork.BITCOIN, "polymod"),
        ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyU", BtcNetwork.BITCOIN, "character"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", BtcNetwork.BITCOIN, "checksum"),
        ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", BtcNetwork.BITCOIN, "another network"),
        ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", BtcNetwork.REGTEST, "regtest address"),
        ("tb1qcr8te4kr609gcawutmrza0j4xv80jy8zwgxw0t", BtcNetwork.BITCOIN, "bitcoin address"),
        # BIP-350: a v0 program must use bech32, not bech32m.
        (
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
            BtcNetwork.BITCOIN,
            "valid",
        ),
        ("", BtcNetwork.BITCOIN, "not a bitcoin address"),
    ],
)
def test_invalid_or_foreign_addresses_are_refused_not_fixed(
    text: str, network: BtcNetwork, reason: str
) -> None:
    with pytest.raises(InvalidAddress, match=reason):
        parse_address(text, network)


def test_an_address_must_be_text() -> None:
    with pytest.raises(InvalidAddress, match="string"):
        parse_address(b"bc1q", BtcNetwork.BITCOIN)


def test_p2wpkh_needs_a_compressed_public_key() -> None:
    with pytest.raises(InvalidInput):
        p2wpkh_address(b"\x04" + b"\x01" * 64, BtcNetwork.BITCOIN)


def test_non_address_scripts_have_no_address() -> None:
    assert script_to_address(bytes.fromhex("6a0568656c6c6f"), BtcNetwork.BITCOIN) is None
    assert script_to_address(b"\x51", BtcNetwork.BITCOIN) is None


def test_descriptor_checksum_matches_the_bip380_vector() -> None:
    assert descriptor_checksum("raw(deadbeef)") == "raw(deadbeef)#89f8spxm"


def test_descriptor_checksum_refuses_characters_outside_the_charset() -> None:
    with pytest.raises(InvalidInput):
        descriptor_checksum("addr(\u00e9)")
