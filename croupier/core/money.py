"""Money as integer minor units.

An amount is a Python ``int`` of the currency's smallest unit (wei, satoshi, token
base unit). Floats never hold money: a float cannot represent most wei amounts, and
the rounding error would be real money. Across process boundaries an amount travels
as a decimal string of minor units together with its currency code.

This module is the one place that turns human decimal text ("1.5 ETH") into minor
units and back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from croupier.core.errors import InvalidAmount, UnknownCurrency

# NUMERIC(78,0) holds any uint256; nothing we store may exceed it.
MAX_MINOR_UNITS = 2**256 - 1

_MINOR_UNITS_RE = re.compile(r"^(0|[1-9][0-9]*)$")
_DECIMAL_RE = re.compile(r"^(0|[1-9][0-9]*)(?:\.([0-9]+))?$")


@dataclass(frozen=True, slots=True)
class CurrencyInfo:
    """Static facts about a currency."""

    code: str
    decimals: int
    chain: str


class Currency(StrEnum):
    """Currencies the casino accepts. The value is the ticker used on the wire."""

    ETH = "ETH"
    BTC = "BTC"
    USDT = "USDT"

    @property
    def decimals(self) -> int:
        decimals: int = _INFO[self].decimals
        return decimals

    @property
    def chain(self) -> str:
        chain: str = _INFO[self].chain
        return chain

    @property
    def unit(self) -> int:
        """Minor units in one whole coin."""
        unit: int = 10**self.decimals
        return unit

    @classmethod
    def parse(cls, code: str) -> Currency:
        """Look up a currency by its ticker, case-insensitively."""
        if not isinstance(code, str):
            raise UnknownCurrency(f"currency must be a ticker string, got {type(code).__name__}")
        try:
            return cls(code.strip().upper())
        except ValueError:
            known = ", ".join(c.value for c in cls)
            raise UnknownCurrency(f"unknown currency {code!r}; expected one of {known}") from None


_INFO: dict[Currency, CurrencyInfo] = {
    Currency.ETH: CurrencyInfo("ETH", 18, "ethereum"),
    Currency.BTC: CurrencyInfo("BTC", 8, "bitcoin"),
    Currency.USDT: CurrencyInfo("USDT", 6, "ethereum"),
}


# The coin each chain's network fees are paid in.
_NATIVE = {"ethereum": Currency.ETH, "bitcoin": Currency.BTC}


def native_currency(chain: str) -> Currency:
    """The currency ``chain`` pays its network fees in (ETH on Ethereum, BTC on Bitcoin)."""
    try:
        return _NATIVE[chain]
    except KeyError:
        raise UnknownCurrency(f"no native currency is known for chain {chain!r}") from None


def check_minor_units(amount: object, *, allow_zero: bool = False) -> int:
    """Return ``amount`` if it is a valid int of minor units, else raise ``InvalidAmount``.

    ``bool`` is rejected although it is an ``int`` subclass: ``True`` is never money.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(
            f"amount must be an integer of minor units, got {type(amount).__name__}"
        )
    if amount < 0:
        raise InvalidAmount(f"amount must not be negative, got {amount}")
    if amount == 0 and not allow_zero:
        raise InvalidAmount("amount must be greater than zero")
    if amount > MAX_MINOR_UNITS:
        raise InvalidAmount("amount exceeds the largest storable value (2**256 - 1)")
    return amount


def parse_minor_units(text: object, *, allow_zero: bool = False) -> int:
    """Parse the wire form of an amount: a decimal string of minor units, e.g. ``"1500"``.

    No sign, no exponent, no fraction, no leading zeros, no whitespace: a request that
    is ambiguous about money is refused rather than guessed at.
    """
    if not isinstance(text, str):
        raise InvalidAmount(f"amount must be a string of minor units, got {type(text).__name__}")
    if not _MINOR_UNITS_RE.match(text):
        raise InvalidAmount(f"amount {text!r} is not a whole number of minor units")
    return check_minor_units(int(text), allow_zero=allow_zero)


def parse_decimal(text: object, currency: Currency, *, allow_zero: bool = False) -> int:
    """Parse a human decimal amount (``"1.25"``) in whole coins into minor units.

    Refuses more fractional digits than the currency has, rather than rounding.
    """
    if not isinstance(text, str):
        raise InvalidAmount(f"amount must be a decimal string, got {type(text).__name__}")
    match = _DECIMAL_RE.match(text)
    if match is None:
        raise InvalidAmount(f"amount {text!r} is not a plain decimal number")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > currency.decimals:
        raise InvalidAmount(
            f"amount {text!r} has {len(fraction)} decimals; {currency.value} allows at most "
            f"{currency.decimals}"
        )
    minor = int(whole) * currency.unit + int(fraction.ljust(currency.decimals, "0") or "0")
    return check_minor_units(minor, allow_zero=allow_zero)


def format_decimal(amount: int, currency: Currency) -> str:
    """Render minor units as a human decimal in whole coins, without trailing zeros."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), currency.unit)
    if currency.decimals == 0 or fraction == 0:
        return f"{sign}{whole}"
    digits = str(fraction).rjust(currency.decimals, "0").rstrip("0")
    return f"{sign}{whole}.{digits}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its currency; the value object handed across boundaries."""

    amount: int
    currency: Currency

    def __post_init__(self) -> None:
        check_minor_units(self.amount, allow_zero=True)

    def to_wire(self) -> dict[str, str]:
        """The JSON / Temporal payload form: minor units as a decimal string."""
        return {"amount": str(self.amount), "currency": self.currency.value}

    @classmethod
    def from_wire(cls, payload: dict[str, str]) -> Money:
        return cls(
            parse_minor_units(payload.get("amount"), allow_zero=True),
            Currency.parse(payload.get("currency", "")),
        )

    def __str__(self) -> str:
        return f"{format_decimal(self.amount, self.currency)} {self.currency.value}"
