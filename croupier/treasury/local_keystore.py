"""The embedded keystore: the HD seed encrypted at rest in one JSON file.

Encryption: scrypt (parameters and salt stored in the file) stretches the passphrase
into 64 bytes; the first 32 are an AES-256-GCM key, the last 32 key an HMAC over a
fixed label, stored as ``passphrase_check``. The check lets a wrong passphrase be told
apart from an altered file (GCM alone fails the same way for both) without weakening
anything: an attacker with the file can already test guesses against the GCM tag. The
header (format, version, KDF, cipher) is GCM associated data, so it cannot be edited
without detection either.

Writes are atomic and never clobber: the file is written to a temporary name (mode
0600, fsynced) and hard-linked into place, which fails if a keystore appeared
meanwhile; a crash leaves either no keystore or a complete one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from croupier.core.errors import ConfigurationError
from croupier.treasury.errors import (
    KeystoreCorrupt,
    KeystoreExists,
    KeystoreInsecure,
    SeedNotFound,
    WrongPassphrase,
)
from croupier.treasury.hd import SEED_MAX_BYTES, SEED_MIN_BYTES, check_seed
from croupier.treasury.secret import Secret

FORMAT = "croupier-keystore"
VERSION = 1
SCRYPT_N = 2**17  # OWASP's minimum for scrypt; about 0.25 s and 128 MiB per unlock
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_N_RANGE = (2**14, 2**20)  # what a stored file may ask for: bounded, so a
SCRYPT_R_RANGE = (1, 16)  # tampered file cannot make unlocking eat the machine
SCRYPT_P_RANGE = (1, 4)
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
CHECK_BYTES_RANGE = (32, 32)  # an HMAC-SHA256
GCM_TAG_BYTES = 16
CIPHERTEXT_BYTES_RANGE = (SEED_MIN_BYTES + GCM_TAG_BYTES, SEED_MAX_BYTES + GCM_TAG_BYTES)
MIN_PASSPHRASE_CHARS = 12
MAX_FILE_BYTES = 64 * 1024
FILE_MODE = 0o600
DIR_MODE = 0o700
_CHECK_LABEL = b"croupier-keystore-passphrase-check"


class LocalKeyStore:
    """The seed in ``path``, encrypted under ``passphrase``."""

    def __init__(self, path: Path, passphrase: Secret[str]) -> None:
        self._path = path
        self._passphrase = passphrase

    @property
    def location(self) -> str:
        return str(self._path)

    def __repr__(self) -> str:
        return f"LocalKeyStore({self.location!r})"

    def load_seed(self) -> Secret[bytes]:
        document = self._read_document()
        header = _parse_header(document, self._path)
        derived = _stretch(self._passphrase, header)
        expected_check = _hex_field(document, "passphrase_check", self._path, CHECK_BYTES_RANGE)
        if not hmac.compare_digest(_passphrase_check(derived), expected_check):
            raise WrongPassphrase(
                f"CROUPIER_KEYSTORE_PASSPHRASE does not unlock the keystore at {self._path} "
                "(wrong passphrase, or the file's KDF parameters were altered)"
            )
        ciphertext = _hex_field(document, "ciphertext", self._path, CIPHERTEXT_BYTES_RANGE)
        nonce = bytes.fromhex(header["cipher"]["nonce"])
        try:
            seed = AESGCM(derived[:KEY_BYTES]).decrypt(nonce, ciphertext, _associated_data(header))
        except InvalidTag:
            raise KeystoreCorrupt(
                f"the keystore at {self._path} failed authentication: it was altered or "
                "damaged; restore it from backup"
            ) from None
        return check_seed(Secret(seed))

    def store_seed(self, seed: Secret[bytes]) -> None:
        check_seed(seed)
        if len(self._passphrase) < MIN_PASSPHRASE_CHARS:
            raise ConfigurationError(
                f"CROUPIER_KEYSTORE_PASSPHRASE must be at least {MIN_PASSPHRASE_CHARS} "
                "characters to protect a new keystore"
            )
        if self._path.exists():
            raise _exists(self._path)
        document = _encrypt(seed, self._passphrase)
        _write_new_file(self._path, json.dumps(document, indent=2).encode() + b"\n")

    def _read_document(self) -> dict[str, Any]:
        try:
            file_stat = self._path.stat()
        except FileNotFoundError:
            raise SeedNotFound(
                f"no keystore at {self._path}; create one with `croupier keys init`"
            ) from None
        if file_stat.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeystoreInsecure(
                f"the keystore at {self._path} is accessible to other users "
                f"(mode {stat.S_IMODE(file_stat.st_mode):04o}); run chmod 600 on it"
            )
        if file_stat.st_size > MAX_FILE_BYTES:
            raise KeystoreCorrupt(f"the keystore at {self._path} is larger than a keystore can be")
        try:
            document = json.loads(self._path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            raise KeystoreCorrupt(f"the keystore at {self._path} is not valid JSON") from None
        if not isinstance(document, dict):
            raise KeystoreCorrupt(f"the keystore at {self._path} is not a JSON object")
        return document


def _encrypt(seed: Secret[bytes], passphrase: Secret[str]) -> dict[str, Any]:
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": {
            "name": "scrypt",
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": secrets.token_hex(SALT_BYTES),
        },
        "cipher": {"name": "aes-256-gcm", "nonce": secrets.token_hex(NONCE_BYTES)},
    }
    derived = _stretch(passphrase, header)
    ciphertext = AESGCM(derived[:KEY_BYTES]).encrypt(
        bytes.fromhex(header["cipher"]["nonce"]), seed.reveal(), _associated_data(header)
    )
    return {
        **header,
        "passphrase_check": _passphrase_check(derived).hex(),
        "ciphertext": ciphertext.hex(),
    }


def _stretch(passphrase: Secret[str], header: dict[str, Any]) -> bytes:
    kdf = header["kdf"]
    return Scrypt(
        salt=bytes.fromhex(kdf["salt"]), length=2 * KEY_BYTES, n=kdf["n"], r=kdf["r"], p=kdf["p"]
    ).derive(passphrase.reveal().encode("utf-8"))


def _passphrase_check(derived: bytes) -> bytes:
    return hmac.new(derived[KEY_BYTES:], _CHECK_LABEL, hashlib.sha256).digest()


def _associated_data(header: dict[str, Any]) -> bytes:
    covered = {key: header[key] for key in ("format", "version", "kdf", "cipher")}
    return json.dumps(covered, sort_keys=True, separators=(",", ":")).encode()


def _parse_header(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """The header, validated: known format, bounded KDF cost, well-formed salt and nonce."""

    def corrupt(reason: str) -> KeystoreCorrupt:
        return KeystoreCorrupt(f"the keystore at {path} is malformed: {reason}")

    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise corrupt(f"expected format {FORMAT!r} version {VERSION}")
    kdf, cipher = document.get("kdf"), document.get("cipher")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise corrupt("expected an scrypt KDF")
    if not isinstance(cipher, dict) or cipher.get("name") != "aes-256-gcm":
        raise corrupt("expected an aes-256-gcm cipher")
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    if not (
        _power_of_two_in(n, SCRYPT_N_RANGE)
        and _int_in(r, SCRYPT_R_RANGE)
        and _int_in(p, SCRYPT_P_RANGE)
    ):
        raise corrupt("scrypt parameters out of range")
    if not _is_hex(kdf.get("salt"), SALT_BYTES, 64):
        raise corrupt("bad scrypt salt")
    if not _is_hex(cipher.get("nonce"), NONCE_BYTES, NONCE_BYTES):
        raise corrupt("bad AES-GCM nonce")
    return {"format": FORMAT, "version": VERSION, "kdf": kdf, "cipher": cipher}


def _hex_field(
    document: dict[str, Any], name: str, path: Path, length_bytes: tuple[int, int]
) -> bytes:
    value = document.get(name)
    if not _is_hex(value, *length_bytes):
        raise KeystoreCorrupt(f"the keystore at {path} is malformed: bad {name}")
    assert isinstance(value, str)
    return bytes.fromhex(value)


def _int_in(value: object, bounds: tuple[int, int]) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]
    )


def _power_of_two_in(value: object, bounds: tuple[int, int]) -> bool:
    return _int_in(value, bounds) and isinstance(value, int) and value & (value - 1) == 0


def _is_hex(value: object, min_bytes: int, max_bytes: int) -> bool:
    if not isinstance(value, str) or not min_bytes * 2 <= len(value) <= max_bytes * 2:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return len(value) % 2 == 0


def _exists(path: Path) -> KeystoreExists:
    return KeystoreExists(
        f"a keystore already exists at {path}; refusing to overwrite it (move it away "
        "first if you really mean to replace the seed)"
    )


def _write_new_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically, mode 0600, failing if ``path`` exists."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise _exists(path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
