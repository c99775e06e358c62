"""The HD signer, opened on first use rather than when the worker starts.

Unlocking the local keystore costs a quarter second and 128 MiB of scrypt, and a worker
that never signs (one that only runs games) should not need the passphrase at all; so
the keystore is opened the first time a deposit address is derived or a withdrawal is
signed, once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from croupier.chains.bitcoin.network import BtcNetwork
from croupier.payments.errors import UnsupportedCurrency
from croupier.treasury.keystore import KeyStore
from croupier.treasury.signer import HDSigner


class SignerSource:
    """Opens the keystore once, on the first ``get()``, from any worker thread."""

    def __init__(self, keystore: Callable[[], KeyStore]) -> None:
        self._keystore = keystore
        self._signer: HDSigner | None = None
        self._lock = threading.Lock()

    def get(self) -> HDSigner:
        with self._lock:
            if self._signer is None:
                self._signer = HDSigner.from_keystore(self._keystore())
            return self._signer


def chain_address(
    signer: HDSigner, chain: str, index: int, *, account: int, btc_network: str
) -> str:
    """The address of key ``index`` in ``account`` on ``chain``: EIP-55 on Ethereum,
    BIP-84 native SegWit on Bitcoin (``btc_network``: ``CROUPIER_BTC_NETWORK``)."""
    if chain == "ethereum":
        return signer.eth_address(index, account=account)
    if chain == "bitcoin":
        return signer.btc_address(index, BtcNetwork(btc_network), account=account)
    raise UnsupportedCurrency(f"no addresses on chain {chain!r}")
