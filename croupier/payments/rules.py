"""The configured payment rules, read once from settings into minor units.

Settings hold whole-coin decimals per currency (what an operator writes); everything
here answers in ``int`` minor units, so no code path compares money as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eth_typing import ChecksumAddress

from croupier.chains.ethereum.addresses import parse_address
from croupier.core.money import Currency, check_minor_units, format_decimal, parse_decimal
from croupier.core.settings import Settings
from croupier.payments.errors import AmountBelowMinimum, UnsupportedCurrency

# Chains with a deposit scanner, and with a hot-wallet sender for withdrawals, today.
DEPOSIT_CHAINS = frozenset({"ethereum"})
WITHDRAWAL_CHAINS = frozenset({"ethereum"})


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """A withdrawal that passed the checks needing no database: currency, amount, address."""

    currency: Currency
    amount: int
    fee: int
    address: ChecksumAddress

    @property
    def hold_amount(self) -> int:
        """What the player's cash reserves: the amount sent plus the withdrawal fee."""
        return self.amount + self.fee


class PaymentRules:
    """Per-currency limits from ``Settings``, in minor units."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._minimum = _minor_table(settings.withdrawal_minimum)
        self._fee = _minor_table(settings.withdrawal_fee)
        self._auto_approve = _minor_table(settings.withdrawal_auto_approve_limit)
        self._dust = _minor_table(settings.deposit_dust_minimum)
        self._daily = {
            level: _minor_table(limits)
            for level, limits in settings.withdrawal_daily_limit_by_kyc_level.items()
        }

    @property
    def settings(self) -> Settings:
        return self._settings

    def withdrawable(self, code: str) -> Currency:
        """The currency if players may withdraw it here, else ``UnsupportedCurrency``."""
        currency = Currency.parse(code)
        if currency.chain not in WITHDRAWAL_CHAINS or currency not in self._minimum:
            raise UnsupportedCurrency(f"{currency} withdrawals are not supported")
        if currency is Currency.USDT and self._settings.usdt_contract_address is None:
            raise UnsupportedCurrency("USDT withdrawals need CROUPIER_USDT_CONTRACT_ADDRESS")
        return currency

    def depositable(self, code: str) -> Currency:
        """The currency if the scanner credits deposits of it, else ``UnsupportedCurrency``."""
        currency = Currency.parse(code)
        if currency.chain not in DEPOSIT_CHAINS:
            raise UnsupportedCurrency(f"{currency} deposits are not supported")
        if currency is Currency.USDT and self._settings.usdt_contract_address is None:
            raise UnsupportedCurrency("USDT deposits need CROUPIER_USDT_CONTRACT_ADDRESS")
        return currency

    def check_request(self, code: str, amount: int, address: str) -> WithdrawalRequest:
        """Currency supported, amount at least the minimum, address valid (checksummed)."""
        currency = self.withdrawable(code)
        check_minor_units(amount)
        minimum = self._minimum[currency]
        if amount < minimum:
            raise AmountBelowMinimum(
                f"the smallest {currency} withdrawal is {format_decimal(minimum, currency)} "
                f"{currency} ({minimum} minor units); got {amount}"
            )
        return WithdrawalRequest(
            currency=currency,
            amount=amount,
            fee=self._fee.get(currency, 0),
            address=parse_address(address),
        )

    def auto_approve_limit(self, currency: Currency) -> int:
        """The largest amount approved without review (0: every one is reviewed)."""
        return self._auto_approve.get(currency, 0)

    def daily_limit(self, currency: Currency, kyc_level: int) -> int:
        """What a player at ``kyc_level`` may withdraw per 24 hours: the table's entry for
        the highest level not above theirs; a currency missing there allows nothing."""
        assert kyc_level >= 0, f"bad KYC level {kyc_level}"
        level = max(known for known in self._daily if known <= kyc_level)
        return self._daily[level].get(currency, 0)

    def dust_minimum(self, currency: Currency) -> int:
        """Deposits below this are recorded but not credited."""
        return self._dust.get(currency, 0)

    def confirmations(self, currency: Currency) -> int:
        return self._settings.confirmations_for(currency)


def _minor_table(table: Mapping[str, str]) -> dict[Currency, int]:
    return {
        Currency(code): parse_decimal(amount, Currency(code), allow_zero=True)
        for code, amount in table.items()
    }
