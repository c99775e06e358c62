"""Ethereum addresses: strict parsing into EIP-55 checksum form, and log-topic encoding.

An address in mixed case carries an EIP-55 checksum, and a typo in it must be refused,
not "fixed": money sent to a mistyped address is gone. All-lowercase or all-uppercase
text carries no checksum and is accepted as written (wallets and explorers emit it).
"""

from __future__ import annotations

import re

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from croupier.chains.errors import InvalidAddress

_HEX_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SHOWN_CHARS = 64  # how much of a bad input an error message repeats
ADDRESS_TOPIC_PAD = "0x" + "0" * 24


def parse_address(text: object) -> ChecksumAddress:
    """The checksummed form of ``text``, or ``InvalidAddress`` saying what is wrong."""
    if not isinstance(text, str):
        raise InvalidAddress(f"an Ethereum address must be a string, got {type(text).__name__}")
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    if not _HEX_ADDRESS_RE.match(text):
        raise InvalidAddress(
            f"{shown} is not a valid Ethereum address (expected 0x followed by 40 hex digits)"
        )
    checksummed = to_checksum_address(text)
    digits = text[2:]
    has_checksum = digits != digits.lower() and digits != digits.upper()
    if has_checksum and text != checksummed:
        raise InvalidAddress(f"{shown} is not a valid Ethereum address (bad checksum)")
    return checksummed


def address_topic(address: str) -> str:
    """An address as an indexed event argument: 32 bytes, left-padded, lowercase hex."""
    return ADDRESS_TOPIC_PAD + parse_address(address)[2:].lower()


def topic_address(topic: bytes) -> ChecksumAddress:
    """The address in an indexed 32-byte event topic (its last 20 bytes)."""
    assert len(topic) == 32, f"an event topic is 32 bytes, got {len(topic)}"
    assert not any(topic[:12]), "an address topic is zero-padded on the left"
    return to_checksum_address(topic[12:])
