"""The configured payment rules, read once from settings into minor units.

Settings hold whole-coin decimals per currency (what an operator writes); everything
here answers in ``int`` minor units, so no code path compares money as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from croupier.chains.bitcoin.addresses import parse_address as parse_btc_address
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.ethereum.addresses import parse_address as parse_eth_address
from croupier.core.money import Currency, check_minor_units, format_decimal, parse_decimal
from croupier.core.settings import Settings
from croupier.payments.errors import AmountBelowMinimum, UnsupportedCurrency

# Chains with a deposit scanner and a hot-wallet sender for withdrawals.
PAYMENT_CHAINS = frozenset({"ethereum", "bitcoin"})


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """A withdrawal that passed the checks needing no database: currency, amount, address."""

    currency: Currency
    amount: int
    fee: int
    address: str  # the chain's canonical form: EIP-55 checksummed, or lower-case bech32

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

    @property
    def settings(self) -> Settings:
        return self._settings

    def withdrawable(self, code: str) -> Currency:
        """The currency if players may withdraw it here, else ``UnsupportedCurrency``."""
        currency = Currency.parse(code)
        if currency.chain not in PAYMENT_CHAINS or currency not in self._minimum:
            raise UnsupportedCurrency(f"{currency} withdrawals are not supported")
        self._check_configured(currency, "withdrawals")
        return currency

    def depositable(self, code: str) -> Currency:
        """The currency if the scanner credits deposits of it, else ``UnsupportedCurrency``."""
        currency = Currency.parse(code)
        if currency.chain not in PAYMENT_CHAINS:
            raise UnsupportedCurrency(f"{currency} deposits are not supported")
        self._check_configured(currency, "deposits")
        return currency

    def check_request(self, code: str, amount: int, address: str) -> WithdrawalRequest:
        """Currency supported, amount at least the minimum, address valid on its chain
        (checksummed; a Bitcoin address also of the configured network)."""
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
            address=self._parse_address(currency, address),
        )

    def auto_approve_limit(self, currency: Currency) -> int:
        """The largest amount approved without review (0: every one is reviewed)."""
        return self._auto_approve.get(currency, 0)

    def dust_minimum(self, currency: Currency) -> int:
        """Deposits below this are recorded but not credited."""
        return self._dust.get(currency, 0)

    def confirmations(self, currency: Currency) -> int:
        return self._settings.confirmations_for(currency)

    def _check_configured(self, currency: Currency, what: str) -> None:
        """USDT needs its contract, Bitcoin a node: without one nothing would scan the
        chain, so an address handed out would take coins nobody credits."""
        if currency is Currency.USDT and self._settings.usdt_contract_address is None:
            raise UnsupportedCurrency(f"USDT {what} need CROUPIER_USDT_CONTRACT_ADDRESS")
        if currency.chain == "bitcoin" and self._settings.btc_rpc_url is None:
            raise UnsupportedCurrency(f"{currency} {what} need a bitcoind (CROUPIER_BTC_RPC_URL)")

    def _parse_address(self, currency: Currency, address: str) -> str:
        if currency.chain == "bitcoin":
            return parse_btc_address(address, BtcNetwork(self._settings.btc_network)).text
        return parse_eth_address(address)


def _minor_table(table: Mapping[str, str]) -> dict[Currency, int]:
    return {
        Currency(code): parse_decimal(amount, Currency(code), allow_zero=True)
        for code, amount in table.items()
    }
