"""Importing the BTC cold address into the node's watch-only wallet at worker start.

The cold-wallet check reads the cold address's balance from that wallet, which sees
only what it was told to watch. Cold coins arrive rarely and may predate any import, so
the import rescans from ``btc_cold_rescan_from`` (genesis by default); bitcoind rescans
again on every such import, which a worker start can afford and a request could not.
"""

from __future__ import annotations

from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.errors import NodeUnavailable
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.workers.logs import get_logger

log = get_logger(__name__)


def watch_cold_addresses(bitcoin: BitcoinClient, settings: Settings) -> None:
    """Import the configured BTC cold address (if any), with a rescan.

    A node that is down does not stop the worker: the import is logged as skipped and
    the cold check reads zero until a worker starts with the node up.
    """
    cold = cold_addresses(settings, bitcoin.chain)
    if not cold:
        return
    try:
        bitcoin.watch(cold, rescan_from=settings.btc_cold_rescan_from)
    except NodeUnavailable as error:
        log.warning("btc cold address not imported", addresses=cold, error=str(error))


def cold_addresses(settings: Settings, chain: str) -> list[str]:
    """The cold addresses configured for ``chain``'s currencies."""
    return [
        policy.cold_address
        for currency, policy in settings.treasury_hot_wallets.items()
        if Currency.parse(currency).chain == chain
    ]
