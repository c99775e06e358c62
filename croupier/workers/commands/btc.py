"""``croupier btc watch-addresses``: tell a Bitcoin node's wallet again what to watch.

Everything croupier reads of Bitcoin balances and coins (deposit reconciliation,
consolidation, the cold check, the hot wallet's coins) comes from the node's watch-only
wallet, which sees only the addresses imported into it. Addresses are imported as they
are issued, without a rescan, so a wallet that was lost or recreated sees none of them.
This command imports every stored Bitcoin deposit address, the configured cold
addresses and each ``--address`` given (the hot wallet's: ``croupier keys address
--chain bitcoin --account hot-wallet``), with a rescan, so the coins they already hold
are seen again.

The rescan starts at ``--rescan-from`` (unix time; 0 is genesis), by default at the
earliest moment a coin could have arrived: when the first deposit address was issued,
or ``CROUPIER_BTC_COLD_RESCAN_FROM`` when a cold address is configured and that is
earlier. bitcoind rescans once per import call of up to 500 addresses. Importing an
address the wallet already watches changes nothing, so the command is safe to repeat.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from croupier.core.settings import Settings, get_settings
from croupier.workers.commands.database import command_engine

if TYPE_CHECKING:
    from croupier.chains.bitcoin.client import BitcoinClient

# Addresses per import call: one rescan each on bitcoind, one step of the progress bar.
IMPORT_BATCH = 500

app = typer.Typer(help="The Bitcoin node's watch-only wallet.", no_args_is_help=True)
console = Console()


@dataclass(frozen=True)
class WatchPlan:
    """What one run imports, and from when the node rescans."""

    deposit_addresses: list[str]
    cold_addresses: list[str]
    given_addresses: list[str]
    rescan_from: int

    def counts(self) -> dict[str, int]:
        """How many of each, and the rescan time: what ``--json`` prints."""
        return {
            "imported": len(self.addresses),
            "deposit_addresses": len(self.deposit_addresses),
            "cold_addresses": len(self.cold_addresses),
            "given_addresses": len(self.given_addresses),
            "rescan_from": self.rescan_from,
        }

    @property
    def addresses(self) -> list[str]:
        """Each address once, in the order listed."""
        return list(
            dict.fromkeys(self.deposit_addresses + self.cold_addresses + self.given_addresses)
        )


@app.command("watch-addresses")
def watch_addresses(
    given: Annotated[
        list[str] | None,
        typer.Option(
            "--address",
            help="another address to watch, such as the hot wallet's; repeatable",
        ),
    ] = None,
    rescan_from: Annotated[
        int | None,
        typer.Option(
            "--rescan-from",
            min=0,
            help="unix time the node rescans blocks from (0: genesis); default: when the "
            "first deposit address was issued",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Import every stored Bitcoin deposit address, the cold addresses and each --address
    into the node's watch-only wallet, rescanning for the coins they already hold."""
    # Imported here: bitcoinlib is not every command's cost.
    from croupier.chains.bitcoin.addresses import parse_address
    from croupier.chains.bitcoin.client import BitcoinClient

    settings = get_settings()
    client = BitcoinClient.from_settings(settings)
    client.ensure_network()  # a node of another network would watch nothing of ours
    extra = [parse_address(text, client.network).text for text in given or []]
    plan = _plan(settings, client, extra, rescan_from)
    _import(client, plan.addresses, plan.rescan_from, quiet=as_json)
    if as_json:
        sys.stdout.write(json.dumps(plan.counts()) + "\n")
        return
    since = datetime.fromtimestamp(plan.rescan_from, UTC).isoformat()
    console.print(
        f"[green]ok[/]: the node watches {len(plan.addresses)} address(es) "
        f"({len(plan.deposit_addresses)} deposit, {len(plan.cold_addresses)} cold, "
        f"{len(plan.given_addresses)} given), rescanned from {since}",
        highlight=False,
        soft_wrap=True,
    )


def _plan(
    settings: Settings, client: BitcoinClient, given: list[str], rescan_from: int | None
) -> WatchPlan:
    from croupier.payments.addresses import first_issued_at, watched_addresses
    from croupier.workers.btc_watch import cold_addresses

    with command_engine(settings) as engine:
        deposits = watched_addresses(engine, client.chain)
        first_issued = first_issued_at(engine, client.chain)
    cold = cold_addresses(settings, client.chain)
    if rescan_from is None:
        starts = [] if first_issued is None else [int(first_issued.timestamp())]
        if cold:
            starts.append(settings.btc_cold_rescan_from)
        # Nothing stored or configured: only the given addresses, of unknown age.
        rescan_from = min(starts, default=0)
    return WatchPlan(deposits, cold, given, rescan_from)


def _import(client: BitcoinClient, addresses: list[str], rescan_from: int, *, quiet: bool) -> None:
    with Progress(
        TextColumn("importing addresses"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        disable=quiet,
    ) as progress:
        task = progress.add_task("import", total=len(addresses))
        for start in range(0, len(addresses), IMPORT_BATCH):
            batch = addresses[start : start + IMPORT_BATCH]
            client.watch(batch, rescan_from=rescan_from)
            progress.advance(task, len(batch))
