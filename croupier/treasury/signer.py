"""The only code in Croupier that turns the seed into private keys, and only to sign.

``HDSigner`` holds the seed (loaded once from a ``KeyStore``) and offers addresses and
signatures: a private key is derived inside one ``sign_*`` call, handed straight to
the chain's signing function, and never returned. Chain code builds the unsigned
transaction (nonce, gas, fees), asks for a signature by derivation index, and
broadcasts the raw bytes it gets back.

Bitcoin joins the same way: ``btc_address``, ``sign_btc_spend`` and ``sign_btc_sweep``
(consolidations, one key per deposit address spent from) derive BIP-84 keys
(``m/84'/coin'/account'/0/index``, ``croupier.chains.bitcoin.addresses``) with the same
account numbering (0: deposit addresses, 1: hot wallets).
"""

from __future__ import annotations

from collections.abc import Collection

from eth_typing import ChecksumAddress

from croupier.chains.bitcoin.addresses import derive_bip84
from croupier.chains.bitcoin.coins import SpendPlan
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.bitcoin.signing import SignedTransaction, sign_spend
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

    def btc_address(
        self, index: int, network: BtcNetwork, *, account: int = DEPOSIT_ACCOUNT
    ) -> str:
        """The native SegWit (BIP-84) address of key ``index`` in ``account`` on ``network``."""
        return derive_bip84(self._seed.reveal(), network, index, account=account).address

    def sign_btc_spend(
        self, plan: SpendPlan, index: int, network: BtcNetwork, *, account: int = DEPOSIT_ACCOUNT
    ) -> SignedTransaction:
        """Sign every input of ``plan`` with key ``index`` in ``account``; an input of any
        other address raises ``MissingSigningKey`` instead of being signed."""
        key = derive_bip84(self._seed.reveal(), network, index, account=account)
        return sign_spend(plan, [key.signing_key], network)

    def sign_btc_sweep(
        self, plan: SpendPlan, indexes: Collection[int], network: BtcNetwork
    ) -> SignedTransaction:
        """Sign a consolidation: inputs of several deposit addresses, each with its own
        key (``indexes`` in the deposit account); an input of any other address raises
        ``MissingSigningKey``."""
        assert indexes, "a sweep signs with at least one key"
        seed = self._seed.reveal()
        keys = [
            derive_bip84(seed, network, i, account=DEPOSIT_ACCOUNT).signing_key for i in indexes
        ]
        return sign_spend(plan, keys, network)

    def _eth_key(self, index: int, account: int) -> DerivedKey:
        return derive(self._seed, eth_path(index, account=account))
