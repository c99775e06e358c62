"""The HD signer, opened on first use rather than when the worker starts.

Unlocking the local keystore costs a quarter second and 128 MiB of scrypt, and a worker
that never signs (one that only runs games) should not need the passphrase at all; so
the keystore is opened the first time a deposit address is derived or a withdrawal is
signed, once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

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
