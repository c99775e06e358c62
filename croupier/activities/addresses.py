"""Assigning a player's deposit address: the only step that needs the seed, so it runs
on a worker (which holds the keystore) and never in the API process.

One HD index per player serves every chain: ``m/44'/60'/0'/0/<index>`` on Ethereum,
BIP-84 ``m/84'/<coin>'/0'/0/<index>`` (native SegWit) on Bitcoin.

A Bitcoin address is imported into the node's watch-only wallet as it is handed out:
balances and coins (deposit reconciliation, consolidation) come from that wallet, which
sees nothing it was not told to watch. A fresh address is imported without a rescan
(``"timestamp": "now"``): it was never shown to anyone, so no coin can precede it. An
address handed out again is imported the same way on every request: harmless and cheap
for a wallet that has it (bitcoind keeps what it recorded), and a rescan per request
would cost the node a pass over the chain each time a player opens the deposit page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.activities.signing import SignerSource, chain_address
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.core.settings import Settings
from croupier.payments import addresses
from croupier.payments.errors import UnsupportedCurrency
from croupier.payments.rules import PAYMENT_CHAINS
from croupier.treasury.hd import DEPOSIT_ACCOUNT


@dataclass(frozen=True)
class AddressRequest:
    user_id: str
    chain: str


@dataclass(frozen=True)
class AssignedAddress:
    user_id: str
    chain: str
    address: str
    hd_index: int


class AddressActivities:
    def __init__(
        self,
        engine: Engine,
        signer: SignerSource,
        settings: Settings,
        bitcoin: BitcoinClient | None = None,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._settings = settings
        self._bitcoin = bitcoin  # None: this worker has no Bitcoin node

    @activity.defn(name="payments.assign_deposit_address")
    @maps_business_failures
    def assign_deposit_address(self, request: AddressRequest) -> AssignedAddress:
        if request.chain not in PAYMENT_CHAINS:
            raise UnsupportedCurrency(f"deposit addresses on {request.chain} are not supported")
        if request.chain == "bitcoin" and self._bitcoin is None:
            # Nothing would watch or scan it: coins sent there would go uncredited.
            raise UnsupportedCurrency("deposit addresses on bitcoin need a Bitcoin node")
        assigned = addresses.assign_deposit_address(
            self._engine,
            uuid.UUID(request.user_id),
            request.chain,
            lambda index: chain_address(
                self._signer.get(),
                request.chain,
                index,
                account=DEPOSIT_ACCOUNT,
                btc_network=self._settings.btc_network,
            ),
        )
        if self._bitcoin is not None and assigned.chain == "bitcoin":
            self._bitcoin.watch([assigned.address])  # before the player can see it
        return AssignedAddress(
            user_id=str(assigned.user_id),
            chain=assigned.chain,
            address=assigned.address,
            hd_index=assigned.hd_index,
        )
