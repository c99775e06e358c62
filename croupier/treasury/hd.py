"""BIP-39 mnemonics and BIP-32/BIP-44 hierarchical deterministic keys.

One master seed derives every key Croupier holds, on every chain, so custody is one
secret to back up (the mnemonic) and one to guard (the seed). Derivation uses one
implementation for all chains, bitcoinlib's ``HDKey`` (BIP-32 with standard
``xprv``/``xpub`` serialisation, checked against BIP-32 test vector 1); mnemonics use
eth-account's BIP-39 port of the reference implementation (checked against the
published Trezor vectors).

Paths (BIP-44 ``m / purpose' / coin_type' / account' / change / index``):

- Ethereum: ``m/44'/60'/{account}'/0/{index}``, the path every Ethereum wallet uses,
  so the mnemonic restores the same addresses in any wallet. Account 0 holds player
  deposit addresses, account 1 the hot wallet(s): a sweep or a withdrawal never shares
  a key with a deposit address, and the two sets are recovered independently.
- A player's ``index`` is a stable integer assigned once per player (a database
  sequence, stored with the player) in ``0 .. 2**31-1``. It is never a hash of the
  player id: a hash can collide (two players, one address) and leaves gaps that wallet
  recovery and address scanners cannot walk.
- Bitcoin adds its own path function here (BIP-84, ``m/84'/0'/0'/0/{index}``) over the
  same ``derive``; its address encoding lives with the key's public half.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from bitcoinlib.keys import HDKey
from eth_account.hdaccount.mnemonic import VALID_WORD_COUNTS, Mnemonic
from eth_account.types import Language
from eth_keys.datatypes import PublicKey
from eth_typing import ChecksumAddress

from croupier.chains.keys import SigningKey
from croupier.treasury.errors import InvalidDerivationIndex, InvalidMnemonic, KeystoreCorrupt
from croupier.treasury.secret import Secret

MNEMONIC_WORD_COUNT = 24  # 256 bits of entropy
HARDENED_OFFSET = 2**31
MAX_CHILD_INDEX = HARDENED_OFFSET - 1
MAX_PATH_DEPTH = 10
SEED_MIN_BYTES = 16  # BIP-32: a seed is 128 to 512 bits
SEED_MAX_BYTES = 64

BIP44_PURPOSE = 44
ETH_COIN_TYPE = 60
DEPOSIT_ACCOUNT = 0
HOT_WALLET_ACCOUNT = 1
EXTERNAL_CHAIN = 0

_PATH_RE = re.compile(rf"^m(/[0-9]{{1,10}}'?){{0,{MAX_PATH_DEPTH}}}$")
_ENGLISH = Mnemonic(Language.ENGLISH)


def new_mnemonic() -> Secret[str]:
    """A fresh 24-word English mnemonic from the operating system's CSPRNG."""
    return Secret(_ENGLISH.generate(MNEMONIC_WORD_COUNT))


def normalise_mnemonic(mnemonic: Secret[str]) -> Secret[str]:
    """The mnemonic in BIP-39 form (NFKD, lower case, single spaces), or ``InvalidMnemonic``.

    The error says which word position or which rule failed and never quotes a word, so
    a typo in an imported mnemonic does not end up in a terminal scrollback or a log.
    """
    decomposed = unicodedata.normalize("NFKD", mnemonic.reveal()).lower()
    words = decomposed.split()
    if len(words) not in VALID_WORD_COUNTS:
        raise InvalidMnemonic(
            f"a BIP-39 mnemonic has {', '.join(map(str, VALID_WORD_COUNTS))} words; "
            f"this one has {len(words)}"
        )
    for position, word in enumerate(words, start=1):
        if word not in _ENGLISH.wordlist:
            raise InvalidMnemonic(f"word {position} is not in the BIP-39 English wordlist")
    sentence = " ".join(words)
    if not _ENGLISH.is_mnemonic_valid(sentence):
        raise InvalidMnemonic(
            "the mnemonic's checksum does not match: a word is wrong or out of order"
        )
    return Secret(sentence)


def mnemonic_to_seed(mnemonic: Secret[str], passphrase: Secret[str] | None = None) -> Secret[bytes]:
    """BIP-39 seed (64 bytes, PBKDF2-HMAC-SHA512) from a validated mnemonic."""
    sentence = normalise_mnemonic(mnemonic).reveal()
    salt = passphrase.reveal() if passphrase is not None else ""
    return Secret(Mnemonic.to_seed(sentence, salt))


def check_seed(seed: Secret[bytes]) -> Secret[bytes]:
    """The seed itself if its length is a valid BIP-32 seed length, else ``KeystoreCorrupt``."""
    if not SEED_MIN_BYTES <= len(seed) <= SEED_MAX_BYTES:
        raise KeystoreCorrupt(
            f"a BIP-32 seed is {SEED_MIN_BYTES} to {SEED_MAX_BYTES} bytes; "
            f"the stored one is {len(seed)}"
        )
    return seed


def check_index(index: int) -> int:
    """A non-hardened BIP-32 child index, or ``InvalidDerivationIndex``."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_CHILD_INDEX:
        raise InvalidDerivationIndex(
            f"a derivation index is an integer in 0..{MAX_CHILD_INDEX}; got {index!r}"
        )
    return index


def eth_path(index: int, *, account: int = DEPOSIT_ACCOUNT) -> str:
    """The BIP-44 Ethereum path of key ``index`` in ``account`` (deposit addresses by default)."""
    return (
        f"m/{BIP44_PURPOSE}'/{ETH_COIN_TYPE}'/{check_index(account)}'/{EXTERNAL_CHAIN}/"
        f"{check_index(index)}"
    )


@dataclass(frozen=True)
class DerivedKey:
    """One node of the tree: its path, the secret halves redacted, the public halves plain."""

    path: str
    private_key: SigningKey
    public_key: bytes  # SEC1 compressed, 33 bytes
    xprv: Secret[str]
    xpub: str

    @cached_property
    def eth_address(self) -> ChecksumAddress:
        """The EIP-55 checksummed Ethereum address of this key."""
        address: ChecksumAddress = PublicKey.from_compressed_bytes(
            self.public_key
        ).to_checksum_address()
        return address


def derive(seed: Secret[bytes], path: str) -> DerivedKey:
    """Derive the key at ``path`` (``m/44'/60'/0'/0/7``; ``'`` marks hardened) from ``seed``."""
    node = HDKey.from_seed(check_seed(seed).reveal(), witness_type="legacy")
    for index, hardened in _parse_path(path):
        node = node.child_private(index=index, hardened=hardened)
    assert len(node.private_byte) == 32 and len(node.public_byte) == 33
    return DerivedKey(
        path=path,
        private_key=SigningKey(node.private_byte),
        public_key=node.public_byte,
        xprv=Secret(node.wif_private()),
        xpub=node.wif_public(),
    )


def _parse_path(path: str) -> list[tuple[int, bool]]:
    if not _PATH_RE.match(path):
        raise InvalidDerivationIndex(
            f"a derivation path looks like m/44'/60'/0'/0/7 (at most {MAX_PATH_DEPTH} "
            f"levels); got {path!r}"
        )
    steps = []
    for part in path.split("/")[1:]:
        hardened = part.endswith("'")
        steps.append((check_index(int(part.rstrip("'"))), hardened))
    return steps
