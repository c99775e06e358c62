"""What the treasury's planning needs from each chain: its hot address, that address's
balance, the most a send from it can cost, and which currencies it moves.

The sweep policy, the ledger legs and the Hot Wallet Sender are chain-neutral; these
small adapters are the rest. Ethereum's worst fee is the gas limit at the fee cap;
Bitcoin's is the largest send the hot wallet can sign (``btc_max_inputs`` inputs, a
payment and change, both of the largest standard script) at the feerate cap, which no
send or RBF replacement of ours ever exceeds.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from croupier.activities.movements import hot_address, worst_fee
from croupier.activities.signing import SignerSource
from croupier.chains.bitcoin.addresses import parse_address
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.fees import fee_for, p2wpkh_spend_vsize
from croupier.chains.ethereum.client import EthereumClient
from croupier.core.errors import ConfigurationError, InvalidInput
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.sweeps.keys import NATIVE_CURRENCY
from croupier.treasury.hd import HOT_WALLET_ACCOUNT

ClientT = TypeVar("ClientT", EthereumClient, BitcoinClient)
# The largest standard output script (P2WSH, P2TR): 34 bytes.
_LARGEST_OUTPUT_SCRIPT = bytes(34)


class TreasuryChain(Protocol):
    @property
    def chain(self) -> str: ...

    def hot_address(self) -> str: ...

    def cold_address(self, configured: str) -> str:
        """The configured cold address, checked for this chain (``ConfigurationError``)."""
        ...

    def hot_balance(self, currency: Currency) -> int:
        """What the hot address holds of ``currency`` on chain (confirmed)."""
        ...

    def worst_fee(self, currency: Currency) -> int:
        """The most a send of ``currency`` from the hot address can cost, in the
        chain's native coin."""
        ...

    def can_move(self, currency: Currency) -> bool:
        """A currency of this chain the worker can send (a token: its contract is set)."""
        ...


class _OnChain(Generic[ClientT]):
    """What both adapters hold: the chain's client, the signer, the settings."""

    def __init__(self, client: ClientT, signer: SignerSource, settings: Settings) -> None:
        self.client: ClientT = client
        self._signer = signer
        self._settings = settings

    @property
    def chain(self) -> str:
        return self.client.chain


class EthereumTreasury(_OnChain[EthereumClient]):
    def hot_address(self) -> str:
        return hot_address(self._signer, self._settings)

    def cold_address(self, configured: str) -> str:
        return configured  # the settings checked its hex form

    def hot_balance(self, currency: Currency) -> int:
        return self.client.balance(self.hot_address(), currency)

    def worst_fee(self, currency: Currency) -> int:
        return worst_fee(currency, self._settings)

    def can_move(self, currency: Currency) -> bool:
        if currency.chain != self.chain:
            return False
        if currency is NATIVE_CURRENCY[currency.chain]:
            return True
        try:
            self.client.token_address(currency)
        except ConfigurationError:
            return False
        return True


class BitcoinTreasury(_OnChain[BitcoinClient]):
    def hot_address(self) -> str:
        return self._signer.get().btc_address(
            self._settings.hot_wallet_index, self.client.network, account=HOT_WALLET_ACCOUNT
        )

    def cold_address(self, configured: str) -> str:
        """Canonical, and of this node's network: a mainnet sweep to a testnet address
        (or a typo) is a configuration error, never a send."""
        try:
            return parse_address(configured, self.client.network).text
        except InvalidInput as error:
            raise ConfigurationError(f"the BTC cold address is unusable: {error}") from error

    def hot_balance(self, currency: Currency) -> int:
        """The hot address's confirmed coins (watched first: the node's wallet only
        lists coins of addresses it watches; the sender watches it too)."""
        address = self.hot_address()
        self.client.watch([address])
        return self.client.balance(address, currency)

    def worst_fee(self, currency: Currency) -> int:
        assert currency is Currency.BTC
        policy = self.client.policy
        outputs = (_LARGEST_OUTPUT_SCRIPT, _LARGEST_OUTPUT_SCRIPT)
        return fee_for(p2wpkh_spend_vsize(policy.max_inputs, outputs), policy.max_fee_rate_sat_kvb)

    def can_move(self, currency: Currency) -> bool:
        return currency is Currency.BTC
