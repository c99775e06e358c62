"""Ethereum addresses are parsed strictly: a mistyped checksum is refused, never fixed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.chains.errors import InvalidAddress
from croupier.chains.ethereum.addresses import address_topic, parse_address, topic_address
from croupier.core.errors import InvalidInput

DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_a_checksummed_address_is_accepted_as_is() -> None:
    assert parse_address(DEV_ACCOUNT) == DEV_ACCOUNT


@pytest.mark.parametrize("text", [DEV_ACCOUNT.lower(), "0x" + DEV_ACCOUNT[2:].upper()])
def test_single_case_text_carries_no_checksum_and_is_returned_checksummed(text: str) -> None:
    assert parse_address(text) == DEV_ACCOUNT


def test_a_mixed_case_address_with_a_wrong_checksum_is_refused_with_a_clear_message() -> None:
    typo = "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # first letter's case flipped

    with pytest.raises(InvalidAddress) as caught:
        parse_address(typo)

    assert str(caught.value) == f"{typo} is not a valid Ethereum address (bad checksum)"
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_address"


@pytest.mark.parametrize(
    "text",
    [
        "0xabc",
        DEV_ACCOUNT[2:],
        DEV_ACCOUNT + "00",
        "0x" + "g" * 40,
        " " + DEV_ACCOUNT,
        "",
    ],
)
def test_text_that_is_not_forty_hex_digits_after_0x_is_refused(text: str) -> None:
    with pytest.raises(InvalidAddress, match="expected 0x followed by 40 hex digits"):
        parse_address(text)


@pytest.mark.parametrize("value", [None, 1234, b"\x00" * 20])
def test_a_non_string_is_refused(value: object) -> None:
    with pytest.raises(InvalidAddress, match="must be a string"):
        parse_address(value)


def test_a_huge_input_is_not_echoed_in_full() -> None:
    with pytest.raises(InvalidAddress) as caught:
        parse_address("0x" + "z" * 10_000)

    assert len(str(caught.value)) < 200


@given(raw=st.binary(min_size=20, max_size=20))
def test_an_address_survives_the_round_trip_through_an_event_topic(raw: bytes) -> None:
    address = parse_address("0x" + raw.hex())

    topic = address_topic(address)

    assert len(topic) == 66
    assert topic_address(bytes.fromhex(topic[2:])) == address
