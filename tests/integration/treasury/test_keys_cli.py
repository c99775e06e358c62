"""``croupier keys`` as an operator runs it: a real process, settings from the environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from croupier.chains.bitcoin.network import BtcNetwork
from croupier.treasury.hd import HOT_WALLET_ACCOUNT, mnemonic_to_seed
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PASSPHRASE = "a long enough passphrase"
TIMEOUT_S = 60


def _croupier(
    cwd: Path, *args: str, passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CROUPIER_")}
    env["CROUPIER_DATA_DIR"] = str(cwd / "data")
    if passphrase is not None:
        env["CROUPIER_KEYSTORE_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "croupier.workers.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _words(output: str) -> list[str]:
    """The one output line that is 24 lower-case words: the mnemonic."""
    lines = [line for line in output.splitlines() if re.fullmatch(r"([a-z]+ ){23}[a-z]+", line)]
    assert len(lines) == 1, output
    return lines[0].split()


def test_init_shows_a_new_mnemonic_once_and_addresses_derive_from_it(tmp_path: Path) -> None:
    created = _croupier(tmp_path, "keys", "init")
    words = _words(created.stdout)

    shown = _croupier(tmp_path, "keys", "address", "--index", "3", "--json")

    assert created.returncode == 0, created.stderr
    assert "shown only this once" in created.stdout
    expected = HDSigner(mnemonic_to_seed(Secret(" ".join(words)))).eth_address(3)
    assert json.loads(shown.stdout) == {
        "index": 3,
        "account": "deposit",
        "path": "m/44'/60'/0'/0/3",
        "address": expected,
    }
    assert " ".join(words) not in shown.stdout + shown.stderr


def test_address_shows_the_bitcoin_hot_wallet_address_the_sender_uses(tmp_path: Path) -> None:
    mnemonic_file = tmp_path / "mnemonic.txt"
    mnemonic_file.write_text(ANVIL_MNEMONIC + "\n")
    _croupier(tmp_path, "keys", "init", "--mnemonic-file", str(mnemonic_file))

    shown = _croupier(
        tmp_path,
        "keys",
        "address",
        "--index",
        "2",
        "--account",
        "hot-wallet",
        "--chain",
        "bitcoin",
        "--json",
    )

    assert shown.returncode == 0, shown.stderr
    signer = HDSigner(mnemonic_to_seed(Secret(ANVIL_MNEMONIC)))
    expected = signer.btc_address(2, BtcNetwork.REGTEST, account=HOT_WALLET_ACCOUNT)
    assert json.loads(shown.stdout) == {
        "index": 2,
        "account": "hot-wallet",
        "path": f"m/84'/1'/{HOT_WALLET_ACCOUNT}'/0/2",
        "address": expected,
    }
    assert expected.startswith("bcrt1q")


def test_init_refuses_to_replace_an_existing_seed(tmp_path: Path) -> None:
    first = _croupier(tmp_path, "keys", "init")

    second = _croupier(tmp_path, "keys", "init")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 2
    assert second.stderr.startswith("croupier: error: a keystore already exists")
    assert not _words_in(second.stdout)


def test_an_imported_mnemonic_is_never_echoed(tmp_path: Path) -> None:
    mnemonic_file = tmp_path / "mnemonic.txt"
    mnemonic_file.write_text(ANVIL_MNEMONIC + "\n")

    imported = _croupier(tmp_path, "keys", "init", "--mnemonic-file", str(mnemonic_file))
    shown = _croupier(tmp_path, "keys", "address", "--index", "0")

    assert imported.returncode == 0, imported.stderr
    assert "test test" not in imported.stdout + imported.stderr
    assert ANVIL_ADDRESS_0 in imported.stdout
    assert ANVIL_ADDRESS_0 in shown.stdout


def test_an_invalid_mnemonic_file_creates_no_keystore(tmp_path: Path) -> None:
    mnemonic_file = tmp_path / "mnemonic.txt"
    mnemonic_file.write_text(ANVIL_MNEMONIC.replace("junk", "jnuk"))

    refused = _croupier(tmp_path, "keys", "init", "--mnemonic-file", str(mnemonic_file))

    assert refused.returncode == 2
    assert refused.stderr == ("croupier: error: word 12 is not in the BIP-39 English wordlist\n")
    assert not (tmp_path / "data" / "keystore.json").exists()


@pytest.mark.parametrize("command", [["keys", "init"], ["keys", "address", "--index", "0"]])
def test_without_a_passphrase_the_error_names_the_variable(
    tmp_path: Path, command: list[str]
) -> None:
    refused = _croupier(tmp_path, *command, passphrase=None)

    assert refused.returncode == 2
    assert refused.stderr.startswith("croupier: error: CROUPIER_KEYSTORE_PASSPHRASE is not set")


def _words_in(output: str) -> bool:
    return bool(re.search(r"([a-z]+ ){23}[a-z]+", output))
