"""Byte-level pieces of the simulator: hashes, headers, coinbases, scripts and addresses.

Deliberately written from Bitcoin Core's definitions rather than imported from
``croupier.chains.bitcoin``: the simulator judges croupier's transactions, and a judge
sharing the defendant's size, dust or address arithmetic would agree with its bugs.
"""

from __future__ import annotations

import hashlib
import struct
from decimal import Decimal

from bitcoinlib.encoding import (
    addr_bech32_to_pubkeyhash,
    change_base,
    pubkeyhash_to_addr_base58,
    pubkeyhash_to_addr_bech32,
)

REGTEST_HRP = "bcrt"
REGTEST_P2PKH = 0x6F
REGTEST_P2SH = 0xC4
REGTEST_BITS = 0x207FFFFF
REGTEST_TARGET = 0x7FFFFF << (8 * (0x20 - 3))
SAT_PER_BTC = 100_000_000


def dsha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def varint(value: int) -> bytes:
    if value < 0xFD:
        return bytes([value])
    if value <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", value)
    if value <= 0xFFFF_FFFF:
        return b"\xfe" + struct.pack("<I", value)
    return b"\xff" + struct.pack("<Q", value)


def push(data: bytes) -> bytes:
    assert len(data) < 0x4C, "only short pushes are needed here"
    return bytes([len(data)]) + data


def script_number(value: int) -> bytes:
    """CScriptNum serialisation of a non-negative integer (BIP-34 coinbase height)."""
    assert value >= 0
    out = bytearray()
    while value:
        out.append(value & 0xFF)
        value >>= 8
    if out and out[-1] & 0x80:
        out.append(0)
    return bytes(out)


def merkle_root(txids_internal: list[bytes]) -> bytes:
    layer = list(txids_internal)
    assert layer, "a block has a coinbase"
    while len(layer) > 1:
        if len(layer) % 2:
            layer.append(layer[-1])
        layer = [dsha256(layer[i] + layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


def block_header(
    version: int, previous_hash: str, merkle: bytes, time: int, bits: int, nonce: int
) -> bytes:
    return (
        struct.pack("<I", version)
        + bytes.fromhex(previous_hash)[::-1]
        + merkle
        + struct.pack("<III", time, bits, nonce)
    )


def mine_header(version: int, previous_hash: str, merkle: bytes, time: int) -> tuple[bytes, str]:
    """Grind the nonce until the header meets regtest's (trivial) proof-of-work target."""
    for nonce in range(2**32):
        header = block_header(version, previous_hash, merkle, time, REGTEST_BITS, nonce)
        digest = dsha256(header)
        if int.from_bytes(digest, "little") <= REGTEST_TARGET:
            return header, digest[::-1].hex()
    raise AssertionError("no nonce meets the regtest target")


def coinbase_tx(height: int, extra_nonce: int, value_sat: int, script_pubkey: bytes) -> bytes:
    """A version-2 coinbase paying ``value_sat`` to one script, height first (BIP-34)."""
    script_sig = push(script_number(height)) + push(struct.pack("<I", extra_nonce))
    return (
        struct.pack("<i", 2)
        + varint(1)
        + b"\x00" * 32
        + b"\xff\xff\xff\xff"
        + varint(len(script_sig))
        + script_sig
        + b"\xff\xff\xff\xff"
        + varint(1)
        + struct.pack("<q", value_sat)
        + varint(len(script_pubkey))
        + script_pubkey
        + b"\x00\x00\x00\x00"
    )


def coinbase_script_sig(raw_coinbase: bytes) -> bytes:
    """The scriptSig of a legacy-serialised coinbase built by ``coinbase_tx`` (or genesis)."""
    offset = 4 + 1 + 36
    length = raw_coinbase[offset]
    return raw_coinbase[offset + 1 : offset + 1 + length]


def address_to_script(address: str) -> bytes:
    """The locking script of a regtest address (bech32/bech32m or base58check)."""
    if address.lower().startswith(REGTEST_HRP + "1"):
        return bytes(addr_bech32_to_pubkeyhash(address, prefix=REGTEST_HRP, include_witver=True))
    decoded = bytes(change_base(address, 58, 256, 25))
    assert dsha256(decoded[:21])[:4] == decoded[21:], f"bad base58 checksum in {address}"
    if decoded[0] == REGTEST_P2PKH:
        return b"\x76\xa9\x14" + decoded[1:21] + b"\x88\xac"
    if decoded[0] == REGTEST_P2SH:
        return b"\xa9\x14" + decoded[1:21] + b"\x87"
    raise AssertionError(f"{address} is not a regtest address")


def script_type(script: bytes) -> str:
    """Bitcoin Core's ``scriptPubKey.type`` names."""
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return "pubkeyhash"
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[22:] == b"\x87":
        return "scripthash"
    if script[:1] == b"\x6a":
        return "nulldata"
    if 4 <= len(script) <= 42 and script[1] == len(script) - 2:
        if script[0] == 0 and len(script) == 22:
            return "witness_v0_keyhash"
        if script[0] == 0 and len(script) == 34:
            return "witness_v0_scripthash"
        if script[0] == 0x51 and len(script) == 34:
            return "witness_v1_taproot"
        if 0x51 <= script[0] <= 0x60:
            return "witness_unknown"
    return "nonstandard"


def script_to_address(script: bytes) -> str | None:
    kind = script_type(script)
    if kind == "pubkeyhash":
        return str(pubkeyhash_to_addr_base58(script[3:23], prefix=bytes([REGTEST_P2PKH])))
    if kind == "scripthash":
        return str(pubkeyhash_to_addr_base58(script[2:22], prefix=bytes([REGTEST_P2SH])))
    if kind.startswith("witness"):
        version = 0 if script[0] == 0 else script[0] - 0x50
        return str(pubkeyhash_to_addr_bech32(script[2:], prefix=REGTEST_HRP, witver=version))
    return None


def dust_threshold_sat(script: bytes, dust_relay_fee_sat_kvb: int = 3000) -> int:
    """policy.cpp GetDustThreshold: the cost of spending the output at the dust feerate."""
    if script[:1] == b"\x6a":
        return 0
    size = 8 + len(varint(len(script))) + len(script)
    witness_program = (
        4 <= len(script) <= 42
        and script[1] == len(script) - 2
        and (script[0] == 0 or 0x51 <= script[0] <= 0x60)
    )
    size += (32 + 4 + 1 + (107 // 4) + 4) if witness_program else (32 + 4 + 1 + 107 + 4)
    return -(-size * dust_relay_fee_sat_kvb // 1000)


def sat_to_btc(value_sat: int) -> Decimal:
    """An amount as bitcoind prints it: BTC with exactly 8 decimals."""
    return (Decimal(value_sat) / SAT_PER_BTC).quantize(Decimal("0.00000001"))


def format_money(value_sat: int) -> str:
    """Bitcoin Core's FormatMoney, as it appears in reject reasons."""
    return f"{value_sat // SAT_PER_BTC}.{value_sat % SAT_PER_BTC:08d}"


def format_fee_rate(rate_sat_kvb: int) -> str:
    """CFeeRate::ToString, as it appears in reject reasons."""
    return f"{format_money(rate_sat_kvb)} BTC/kvB"
