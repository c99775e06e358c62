"""The local keystore: encrypted at rest, unlocked only by its passphrase, never overwritten."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from croupier.core.errors import ConfigurationError
from croupier.treasury.errors import (
    KeystoreCorrupt,
    KeystoreExists,
    KeystoreInsecure,
    SeedNotFound,
    WrongPassphrase,
)
from croupier.treasury.hd import mnemonic_to_seed, new_mnemonic
from croupier.treasury.local_keystore import SCRYPT_N, LocalKeyStore
from croupier.treasury.secret import Secret

PASSPHRASE = Secret("a long enough passphrase")


@pytest.fixture
def seed() -> Secret[bytes]:
    return mnemonic_to_seed(new_mnemonic())


@pytest.fixture
def keystore_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "keystore.json"


@pytest.fixture
def stored(keystore_path: Path, seed: Secret[bytes]) -> Path:
    LocalKeyStore(keystore_path, PASSPHRASE).store_seed(seed)
    return keystore_path


def _edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _flip_hex_digit(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def test_a_stored_seed_loads_back_with_the_same_passphrase(
    stored: Path, seed: Secret[bytes]
) -> None:
    assert LocalKeyStore(stored, Secret("a long enough passphrase")).load_seed() == seed


def test_the_file_holds_no_plaintext_and_records_its_kdf_parameters(
    stored: Path, seed: Secret[bytes]
) -> None:
    document = json.loads(stored.read_text())

    assert seed.reveal().hex() not in stored.read_text()
    assert document["kdf"] == {
        "name": "scrypt",
        "n": SCRYPT_N,
        "r": 8,
        "p": 1,
        "salt": document["kdf"]["salt"],
    }
    assert document["cipher"]["name"] == "aes-256-gcm"


def test_the_keystore_file_is_private_to_its_owner_and_no_temporary_is_left(stored: Path) -> None:
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert [path.name for path in stored.parent.iterdir()] == ["keystore.json"]


def test_a_wrong_passphrase_is_reported_as_such(stored: Path, seed: Secret[bytes]) -> None:
    with pytest.raises(WrongPassphrase, match="CROUPIER_KEYSTORE_PASSPHRASE does not unlock") as e:
        LocalKeyStore(stored, Secret("another long passphrase")).load_seed()

    assert str(stored) in str(e.value)
    assert seed.reveal().hex() not in str(e.value)


def test_altered_ciphertext_is_detected(stored: Path) -> None:
    _edit(stored, lambda doc: doc.update(ciphertext=_flip_hex_digit(doc["ciphertext"])))

    with pytest.raises(KeystoreCorrupt, match="failed authentication"):
        LocalKeyStore(stored, PASSPHRASE).load_seed()


def test_an_altered_nonce_is_detected(stored: Path) -> None:
    _edit(stored, lambda doc: doc["cipher"].update(nonce=_flip_hex_digit(doc["cipher"]["nonce"])))

    with pytest.raises(KeystoreCorrupt, match="failed authentication"):
        LocalKeyStore(stored, PASSPHRASE).load_seed()


def test_a_kdf_cost_beyond_the_limit_is_refused_before_any_work(stored: Path) -> None:
    _edit(stored, lambda doc: doc["kdf"].update(n=2**30))

    with pytest.raises(KeystoreCorrupt, match="scrypt parameters out of range"):
        LocalKeyStore(stored, PASSPHRASE).load_seed()


@pytest.mark.parametrize("content", ["not json", "[]", '{"format": "other"}'])
def test_a_file_that_is_not_a_keystore_is_refused(keystore_path: Path, content: str) -> None:
    keystore_path.parent.mkdir(parents=True)
    keystore_path.write_text(content)
    keystore_path.chmod(0o600)

    with pytest.raises(KeystoreCorrupt, match=str(keystore_path)):
        LocalKeyStore(keystore_path, PASSPHRASE).load_seed()


def test_an_existing_keystore_is_never_overwritten(stored: Path, seed: Secret[bytes]) -> None:
    with pytest.raises(KeystoreExists, match="refusing to overwrite"):
        LocalKeyStore(stored, PASSPHRASE).store_seed(mnemonic_to_seed(new_mnemonic()))

    assert LocalKeyStore(stored, PASSPHRASE).load_seed() == seed


def test_two_racing_initialisations_leave_exactly_one_keystore(keystore_path: Path) -> None:
    seeds = [mnemonic_to_seed(new_mnemonic()) for _ in range(2)]

    def initialise(seed: Secret[bytes]) -> str:
        try:
            LocalKeyStore(keystore_path, PASSPHRASE).store_seed(seed)
        except KeystoreExists:
            return "refused"
        return "stored"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(initialise, seeds))

    assert sorted(outcomes) == ["refused", "stored"]
    assert LocalKeyStore(keystore_path, PASSPHRASE).load_seed() == seeds[outcomes.index("stored")]
    assert [path.name for path in keystore_path.parent.iterdir()] == ["keystore.json"]


def test_a_keystore_readable_by_others_is_refused(stored: Path) -> None:
    stored.chmod(0o644)

    with pytest.raises(KeystoreInsecure, match="chmod 600"):
        LocalKeyStore(stored, PASSPHRASE).load_seed()


def test_a_missing_keystore_says_how_to_create_one(keystore_path: Path) -> None:
    with pytest.raises(SeedNotFound, match="croupier keys init"):
        LocalKeyStore(keystore_path, PASSPHRASE).load_seed()


def test_a_short_passphrase_cannot_protect_a_new_keystore(
    keystore_path: Path, seed: Secret[bytes]
) -> None:
    with pytest.raises(ConfigurationError, match="at least 12 characters"):
        LocalKeyStore(keystore_path, Secret("short")).store_seed(seed)

    assert not keystore_path.exists()
