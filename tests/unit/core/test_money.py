"""Money rules: integers of minor units, parsed strictly, formatted in one place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.core.errors import InvalidAmount, UnknownCurrency
from croupier.core.money import (
    MAX_MINOR_UNITS,
    Currency,
    Money,
    check_minor_units,
    format_decimal,
    parse_decimal,
    parse_minor_units,
)


def test_currencies_carry_their_decimals() -> None:
    assert (Currency.ETH.decimals, Currency.BTC.decimals, Currency.USDT.decimals) == (18, 8, 6)
    assert Currency.ETH.unit == 10**18


def test_one_and_a_half_eth_is_exact_in_wei() -> None:
    assert parse_decimal("1.5", Currency.ETH) == 1_500_000_000_000_000_000


def test_smallest_unit_of_each_currency_parses() -> None:
    assert parse_decimal("0.000000000000000001", Currency.ETH) == 1
    assert parse_decimal("0.00000001", Currency.BTC) == 1
    assert parse_decimal("0.000001", Currency.USDT) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.0000001", "decimals"),  # 7 decimals for USDT
        ("-1", "plain decimal"),
        ("1e6", "plain decimal"),
        ("1,5", "plain decimal"),
        (" 1", "plain decimal"),
        ("01", "plain decimal"),
        ("", "plain decimal"),
        ("abc", "plain decimal"),
        ("1.", "plain decimal"),
    ],
)
def test_bad_decimal_text_is_refused_not_rounded(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_decimal(text, Currency.USDT)


def test_float_is_never_accepted_as_money() -> None:
    with pytest.raises(InvalidAmount, match="float"):
        parse_decimal(1.5, Currency.ETH)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="float"):
        check_minor_units(1.0)
    with pytest.raises(InvalidAmount, match="float"):
        parse_minor_units(2.0)


def test_bool_is_not_an_amount() -> None:
    with pytest.raises(InvalidAmount):
        check_minor_units(True)


def test_zero_is_refused_unless_allowed() -> None:
    with pytest.raises(InvalidAmount, match="greater than zero"):
        parse_minor_units("0")
    assert parse_minor_units("0", allow_zero=True) == 0


def test_negative_and_oversized_amounts_are_refused() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        check_minor_units(-1)
    with pytest.raises(InvalidAmount, match="largest"):
        check_minor_units(MAX_MINOR_UNITS + 1)
    assert check_minor_units(MAX_MINOR_UNITS) == MAX_MINOR_UNITS


@pytest.mark.parametrize("text", ["-5", "+5", "5.0", "0x10", "1_000", "007", "5 "])
def test_wire_amounts_are_plain_digit_strings(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_minor_units(text)


def test_format_drops_trailing_zeros_and_keeps_sign() -> None:
    assert format_decimal(1_500_000, Currency.USDT) == "1.5"
    assert format_decimal(100_000_000, Currency.BTC) == "1"
    assert format_decimal(-1, Currency.BTC) == "-0.00000001"
    assert format_decimal(0, Currency.ETH) == "0"


@given(st.integers(min_value=0, max_value=10**40), st.sampled_from(list(Currency)))
def test_format_then_parse_round_trips_exactly(amount: int, currency: Currency) -> None:
    assert parse_decimal(format_decimal(amount, currency), currency, allow_zero=True) == amount


def test_money_travels_as_strings_of_minor_units() -> None:
    money = Money(10**30, Currency.ETH)
    wire = money.to_wire()
    assert wire == {"amount": str(10**30), "currency": "ETH"}
    assert Money.from_wire(wire) == money
    assert str(Money(1_250_000, Currency.USDT)) == "1.25 USDT"


def test_unknown_currency_names_the_choices() -> None:
    with pytest.raises(UnknownCurrency, match="ETH, BTC, USDT"):
        Currency.parse("DOGE")
    assert Currency.parse(" eth ") is Currency.ETH
