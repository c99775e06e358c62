"""Bitcoin addresses: strict parsing to a locking script, and BIP-84 deposit keys.

Parsing checks the checksum (bech32/bech32m or base58check) and the network prefix
against Bitcoin Core's table (``network.py``), and returns the ``scriptPubKey`` the
address stands for, so a transaction output is built from bytes this module checked,
never from text another library re-interpreted. A typo, a mainnet address on regtest or
a testnet address on mainnet is refused, not "fixed": coins sent there are gone.

BIP-84 (native SegWit, P2WPKH): ``m/84'/coin'/account'/change/index`` with coin type 0
on mainnet and 1 on testnet and regtest. ``derive_bip84`` takes the raw BIP-32 seed so
the treasury (which owns custody of the seed) can call it; the derived private key comes
back wrapped in ``SigningKey`` and never appears in a repr or a log line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from bitcoinlib.encoding import (
    EncodingError,
    addr_bech32_to_pubkeyhash,
    change_base,
    hash160,
    pubkeyhash_to_addr_base58,
    pubkeyhash_to_addr_bech32,
)
from bitcoinlib.keys import HDKey

from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.errors import InvalidAddress
from croupier.chains.keys import SigningKey
from croupier.core.errors import InvalidInput

_SHOWN_CHARS = 100  # how much of a bad input an error message repeats
_BASE58_RE = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{26,35}$")
HARDENED = 2**31
BIP84_PURPOSE = 84
EXTERNAL_CHAIN = 0  # receive addresses
INTERNAL_CHAIN = 1  # change addresses
SEED_MIN_BYTES = 16
SEED_MAX_BYTES = 64
COMPRESSED_PUBKEY_BYTES = 33


class ScriptKind(StrEnum):
    """The standard output types an address can denote (Bitcoin Core's names)."""

    P2PKH = "pubkeyhash"
    P2SH = "scripthash"
    P2WPKH = "witness_v0_keyhash"
    P2WSH = "witness_v0_scripthash"
    P2TR = "witness_v1_taproot"
    WITNESS_UNKNOWN = "witness_unknown"


@dataclass(frozen=True, slots=True)
class BtcAddress:
    """A checked address: its canonical text (bech32 lower case) and its locking script."""

    text: str
    script_pubkey: bytes
    kind: ScriptKind

    def __str__(self) -> str:
        return self.text


def parse_address(text: object, network: BtcNetwork) -> BtcAddress:
    """The address ``text`` on ``network``, or ``InvalidAddress`` saying what is wrong."""
    if not isinstance(text, str):
        raise InvalidAddress(f"a Bitcoin address must be a string, got {type(text).__name__}")
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    hrp = network.params.bech32_hrp
    if text.lower().startswith(hrp + "1"):
        return _parse_bech32(text, network, shown)
    if _BASE58_RE.match(text):
        return _parse_base58(text, network, shown)
    raise InvalidAddress(
        f"{shown} is not a {network} address (expected bech32 starting {hrp}1, or base58)"
    )


def _parse_bech32(text: str, network: BtcNetwork, shown: str) -> BtcAddress:
    try:
        script = addr_bech32_to_pubkeyhash(
            text, prefix=network.params.bech32_hrp, include_witver=True
        )
    except (EncodingError, ValueError, TypeError, IndexError) as error:
        raise InvalidAddress(f"{shown} is not a valid {network} address ({error})") from None
    canonical = text.lower()
    # Round-trip through the encoder: it rejects what the decoder let slip (padding bits).
    if script_to_address(script, network) != canonical:
        raise InvalidAddress(f"{shown} is not a valid {network} address (non-canonical)")
    return BtcAddress(canonical, script, _witness_kind(script))


def _parse_base58(text: str, network: BtcNetwork, shown: str) -> BtcAddress:
    try:
        decoded = change_base(text, 58, 256, 25)
    except (EncodingError, ValueError, TypeError) as error:
        raise InvalidAddress(f"{shown} is not a valid {network} address ({error})") from None
    if (
        len(decoded) != 25
        or hashlib.sha256(hashlib.sha256(decoded[:21]).digest()).digest()[:4] != decoded[21:]
    ):
        raise InvalidAddress(f"{shown} is not a valid {network} address (bad checksum)")
    version, payload = decoded[0], decoded[1:21]
    if version == network.params.p2pkh_version:
        return BtcAddress(text, b"\x76\xa9\x14" + payload + b"\x88\xac", ScriptKind.P2PKH)
    if version == network.params.p2sh_version:
        return BtcAddress(text, b"\xa9\x14" + payload + b"\x87", ScriptKind.P2SH)
    raise InvalidAddress(f"{shown} is not a {network} address (it belongs to another network)")


def _witness_kind(script: bytes) -> ScriptKind:
    version, program = script[0], script[2:]
    if version == 0:
        return ScriptKind.P2WPKH if len(program) == 20 else ScriptKind.P2WSH
    if version == 0x51 and len(program) == 32:
        return ScriptKind.P2TR
    return ScriptKind.WITNESS_UNKNOWN


def script_to_address(script: bytes, network: BtcNetwork) -> str | None:
    """The address a standard ``scriptPubKey`` pays to; None for OP_RETURN and bare scripts."""
    params = network.params
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return str(pubkeyhash_to_addr_base58(script[3:23], prefix=bytes([params.p2pkh_version])))
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[22:] == b"\x87":
        return str(pubkeyhash_to_addr_base58(script[2:22], prefix=bytes([params.p2sh_version])))
    if 4 <= len(script) <= 42 and (script[0] == 0 or 0x51 <= script[0] <= 0x60):
        program = script[2:]
        if script[1] != len(program) or (script[0] == 0 and len(program) not in (20, 32)):
            return None
        version = 0 if script[0] == 0 else script[0] - 0x50
        return str(pubkeyhash_to_addr_bech32(program, prefix=params.bech32_hrp, witver=version))
    return None


def p2wpkh_script(public_key: bytes) -> bytes:
    """``OP_0 <hash160(pubkey)>``: the locking script of a compressed key's P2WPKH output."""
    if len(public_key) != COMPRESSED_PUBKEY_BYTES or public_key[0] not in (2, 3):
        raise InvalidInput("P2WPKH needs a 33-byte compressed public key")
    return b"\x00\x14" + bytes(hash160(public_key))


def p2wpkh_address(public_key: bytes, network: BtcNetwork) -> str:
    """The native SegWit address of a compressed public key."""
    address = script_to_address(p2wpkh_script(public_key), network)
    assert address is not None
    return address


# -- BIP-84 derivation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bip84Key:
    """One derived P2WPKH key: the public half in the clear, the private half redacted."""

    path: str
    address: str
    public_key: bytes  # SEC1 compressed, 33 bytes
    signing_key: SigningKey


def bip84_path(
    network: BtcNetwork, index: int, *, account: int = 0, change: int = EXTERNAL_CHAIN
) -> str:
    """``m/84'/coin'/account'/change/index``; coin type 0 on mainnet, 1 on test networks."""
    _check_child_index(index, "index")
    _check_child_index(account, "account")
    if change not in (EXTERNAL_CHAIN, INTERNAL_CHAIN):
        raise InvalidInput(f"the BIP-84 change level is 0 (receive) or 1 (change), got {change}")
    coin = network.params.bip44_coin_type
    return f"m/{BIP84_PURPOSE}'/{coin}'/{account}'/{change}/{index}"


def derive_bip84(
    seed: bytes,
    network: BtcNetwork,
    index: int,
    *,
    account: int = 0,
    change: int = EXTERNAL_CHAIN,
) -> Bip84Key:
    """The P2WPKH key and address at ``bip84_path(network, index, ...)`` of a BIP-32 seed."""
    path = bip84_path(network, index, account=account, change=change)
    node = _account_node(seed, network, account).child_private(change).child_private(index)
    public_key = bytes(node.public_byte)
    assert len(node.private_byte) == 32 and len(public_key) == COMPRESSED_PUBKEY_BYTES
    return Bip84Key(
        path=path,
        address=p2wpkh_address(public_key, network),
        public_key=public_key,
        signing_key=SigningKey(bytes(node.private_byte)),
    )


def account_extended_public_key(seed: bytes, network: BtcNetwork, *, account: int = 0) -> str:
    """The account's SLIP-132 extended public key (``zpub`` on mainnet, ``vpub`` otherwise).

    It is what a watch-only wallet or an auditor imports to see every deposit address of
    the account without any spending power.
    """
    _check_child_index(account, "account")
    return str(_account_node(seed, network, account).wif_public())


def _account_node(seed: bytes, network: BtcNetwork, account: int) -> HDKey:
    if not isinstance(seed, bytes) or not SEED_MIN_BYTES <= len(seed) <= SEED_MAX_BYTES:
        raise InvalidInput(f"a BIP-32 seed is {SEED_MIN_BYTES} to {SEED_MAX_BYTES} bytes")
    root = HDKey.from_seed(seed, network=network.params.bitcoinlib_name, witness_type="segwit")
    coin = network.params.bip44_coin_type
    return (
        root.child_private(BIP84_PURPOSE, hardened=True)
        .child_private(coin, hardened=True)
        .child_private(account, hardened=True)
    )


def _check_child_index(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < HARDENED:
        raise InvalidInput(f"a BIP-32 {name} is an integer in 0..{HARDENED - 1}, got {value!r}")


# -- output descriptors (BIP-380) ------------------------------------------------------

_DESCRIPTOR_INPUT_CHARSET = (
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    'ijklmnopqrstuvwxyzABCDEFGH`#"\\ '
)
_DESCRIPTOR_CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_DESCRIPTOR_GENERATOR = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)


def descriptor_checksum(descriptor: str) -> str:
    """``descriptor`` with its BIP-380 checksum appended (``addr(...)#xxxxxxxx``).

    bitcoind's ``importdescriptors`` refuses a descriptor without it.
    """
    symbols: list[int] = []
    groups: list[int] = []
    for char in descriptor:
        position = _DESCRIPTOR_INPUT_CHARSET.find(char)
        if position < 0:
            raise InvalidInput(f"character {char!r} cannot appear in an output descriptor")
        symbols.append(position & 31)
        groups.append(position >> 5)
        if len(groups) == 3:
            symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
            groups = []
    if len(groups) == 1:
        symbols.append(groups[0])
    elif len(groups) == 2:
        symbols.append(groups[0] * 3 + groups[1])
    checksum = _descriptor_polymod([*symbols, 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1
    suffix = "".join(
        _DESCRIPTOR_CHECKSUM_CHARSET[(checksum >> (5 * (7 - i))) & 31] for i in range(8)
    )
    return f"{descriptor}#{suffix}"


def _descriptor_polymod(symbols: list[int]) -> int:
    check = 1
    for value in symbols:
        top = check >> 35
        check = ((check & 0x7_FFFF_FFFF) << 5) ^ value
        for bit, generator in enumerate(_DESCRIPTOR_GENERATOR):
            if (top >> bit) & 1:
                check ^= generator
    return check
