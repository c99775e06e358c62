"""The only code in Croupier that turns the seed into private keys, and only to sign.

``HDSigner`` holds the seed (loaded once from a ``KeyStore``) and offers addresses and
signatures: a private key is derived inside one ``sign_*`` call, handed straight to
the chain's signing function, and never returned. Chain code builds the unsigned
transaction (nonce, gas, fees), asks for a signature by derivation index, and
broadcasts the raw bytes it gets back.

Bitcoin joins the same way: ``btc_address(index)`` and ``sign_btc_*`` over
``hd.derive`` with a BIP-84 path, next to the Ethereum methods.
"""

from __future__ import annotations

from eth_typing import ChecksumAddress

from croupier.chains.ethereum.tx import SignedTx, UnsignedTx, sign
from croupier.treasury.hd import DEPOSIT_ACCOUNT, DerivedKey, check_seed, derive, eth_path
from croupier.treasury.keystore import KeyStore
from croupier.treasury.secret import Secret


class HDSigner:
    """Addresses and signatures for every key under one HD seed."""

    def __init__(self, seed: Secret[bytes]) -> None:
        self._seed = check_seed(seed)

    @classmethod
    def from_keystore(cls, keystore: KeyStore) -> HDSigner:
        return cls(keystore.load_seed())

    def __repr__(self) -> str:
        return "HDSigner(seed=Secret('**redacted**'))"

    def eth_address(self, index: int, *, account: int = DEPOSIT_ACCOUNT) -> ChecksumAddress:
        """The checksummed address of key ``index`` in ``account`` (0: deposits, 1: hot wallet)."""
        return self._eth_key(index, account).eth_address

    def sign_eth_transaction(
        self, tx: UnsignedTx, index: int, *, account: int = DEPOSIT_ACCOUNT
    ) -> SignedTx:
        """Sign ``tx`` with key ``index`` in ``account``; ``tx.sender`` must be that key's address.

        A mismatch raises ``InvalidKey`` rather than signing for the wrong sender: the
        caller's idea of which index owns the funds is checked, not trusted.
        """
        return sign(tx, self._eth_key(index, account).private_key)

    def _eth_key(self, index: int, account: int) -> DerivedKey:
        return derive(self._seed, eth_path(index, account=account))
