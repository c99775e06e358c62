"""``croupier keys``: create the HD master seed and show the addresses it derives.

Treasury modules are imported inside the commands: they pull in bitcoinlib, which
every other ``croupier`` command should not pay for.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from croupier.core.errors import InvalidInput
from croupier.core.settings import get_settings

if TYPE_CHECKING:
    from croupier.treasury.secret import Secret

MAX_MNEMONIC_FILE_BYTES = 4096

app = typer.Typer(
    help="Custody of the HD master seed: create it, show the addresses it derives.",
    no_args_is_help=True,
)
console = Console()


class KeyAccount(StrEnum):
    """Which BIP-44 account an index lives in."""

    DEPOSIT = "deposit"
    HOT_WALLET = "hot-wallet"


@app.command()
def init(
    mnemonic_file: Annotated[
        Path | None,
        typer.Option(
            "--mnemonic-file",
            help="import the BIP-39 mnemonic in this file instead of generating a new one",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Create the HD master seed in the configured keystore (never overwrites one)."""
    from croupier.treasury.hd import mnemonic_to_seed, new_mnemonic
    from croupier.treasury.keystore import keystore_from_settings
    from croupier.treasury.signer import HDSigner

    keystore = keystore_from_settings(get_settings())
    generated = mnemonic_file is None
    mnemonic = new_mnemonic() if mnemonic_file is None else _read_mnemonic(mnemonic_file)
    seed = mnemonic_to_seed(mnemonic)
    keystore.store_seed(seed)
    console.print(f"[green]ok[/]: HD master seed stored in {keystore.location}")
    console.print(f"deposit address 0: {HDSigner(seed).eth_address(0)}")
    if generated:
        console.print(
            "\n[bold red]Write these words down now and keep them offline.[/] They are "
            "shown only this once; they restore every key, and anyone who reads them "
            "controls every address.\n"
        )
        console.print(mnemonic.reveal(), markup=False, highlight=False, soft_wrap=True)


class KeyChain(StrEnum):
    """Which chain's address a key is shown as."""

    ETHEREUM = "ethereum"
    BITCOIN = "bitcoin"


@app.command()
def address(
    index: Annotated[int, typer.Option("--index", min=0, help="derivation index")],
    account: Annotated[
        KeyAccount, typer.Option("--account", help="deposit addresses or the hot wallet")
    ] = KeyAccount.DEPOSIT,
    chain: Annotated[
        KeyChain,
        typer.Option("--chain", help="Ethereum, or Bitcoin on CROUPIER_BTC_NETWORK"),
    ] = KeyChain.ETHEREUM,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Show the address at a derivation index (unlocks the keystore)."""
    from croupier.chains.bitcoin.addresses import bip84_path
    from croupier.chains.bitcoin.network import BtcNetwork
    from croupier.treasury.hd import DEPOSIT_ACCOUNT, HOT_WALLET_ACCOUNT, eth_path
    from croupier.treasury.keystore import keystore_from_settings
    from croupier.treasury.signer import HDSigner

    settings = get_settings()
    account_number = HOT_WALLET_ACCOUNT if account is KeyAccount.HOT_WALLET else DEPOSIT_ACCOUNT
    signer = HDSigner.from_keystore(keystore_from_settings(settings))
    if chain is KeyChain.BITCOIN:
        network = BtcNetwork(settings.btc_network)
        path = bip84_path(network, index, account=account_number)
        shown = signer.btc_address(index, network, account=account_number)
    else:
        path = eth_path(index, account=account_number)
        shown = signer.eth_address(index, account=account_number)
    if as_json:
        fields = {"index": index, "account": account.value, "path": path, "address": shown}
        sys.stdout.write(json.dumps(fields) + "\n")
        return
    console.print(f"{account.value} {index} ({path}): {shown}")


def _read_mnemonic(path: Path) -> Secret[str]:
    from croupier.treasury.secret import Secret

    try:
        with path.open("rb") as file:
            content = file.read(MAX_MNEMONIC_FILE_BYTES + 1)
    except OSError as error:
        raise InvalidInput(f"cannot read --mnemonic-file {path}: {error.strerror}") from None
    if len(content) > MAX_MNEMONIC_FILE_BYTES:
        raise InvalidInput(f"--mnemonic-file {path} is larger than a mnemonic can be")
    try:
        return Secret(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"--mnemonic-file {path} is not UTF-8 text") from None
