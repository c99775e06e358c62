"""``croupier crash``: publish a hash chain, start and stop the shared crash rounds.

The rounds are one workflow (``crash-round``) that continues as new per round. An
operator starts it once (``croupier crash start``, safe to repeat: a running one is
left alone) after a chain exists (``croupier crash chain``); it then runs by itself,
across worker and server restarts, until ``croupier crash stop``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from croupier.core.errors import InvalidInput
from croupier.core.settings import Settings, get_settings
from croupier.games.hashchain import MAX_CHAIN_LENGTH
from croupier.workers.commands.database import command_engine

# About 12 days of 10-second rounds; generating and storing it takes a few seconds.
DEFAULT_CHAIN_LENGTH = 100_000

app = typer.Typer(help="The shared crash rounds: hash chains, start, stop.", no_args_is_help=True)
console = Console()


@app.command("chain")
def chain(
    length: Annotated[
        int,
        typer.Option("--length", min=1, max=MAX_CHAIN_LENGTH, help="rounds in the new chain"),
    ] = DEFAULT_CHAIN_LENGTH,
    salt: Annotated[
        str | None,
        typer.Option(
            "--salt",
            help="the salt every round is hashed with; best a value nobody knew before the "
            "chain was published, such as a future Bitcoin block hash (default: random)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Generate and store a hash chain; print its terminating hash and salt to publish.
    Rounds move on to it when the chains before it are used up."""
    from croupier.crash.chain import create_chain, generate_salt

    with command_engine(get_settings()) as engine:
        created = create_chain(engine, length, salt=salt if salt is not None else generate_salt())
    published = {
        "chain_id": created.id,
        "length": created.length,
        "terminating_hash": created.terminating_hash,
        "salt": created.salt,
    }
    if as_json:
        sys.stdout.write(json.dumps(published) + "\n")
        return
    console.print(f"chain {created.id}: {created.length} rounds")
    console.print(f"terminating hash: [bold]{created.terminating_hash}[/]")
    console.print(f"salt: [bold]{created.salt}[/]")
    console.print("publish both before the chain's first round is played")


@app.command("start")
def start(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Start the crash rounds where play stopped (a running game is left as it is)."""
    from croupier.crash.rounds import next_round_to_play

    settings = get_settings()
    with command_engine(settings) as engine:
        first = next_round_to_play(engine)  # refuses early when no chain exists
    run_id = asyncio.run(_start(settings))
    if as_json:
        sys.stdout.write(json.dumps({"workflow_id": "crash-round", "run_id": run_id}) + "\n")
        return
    console.print(f"crash rounds running (from {first.id} unless already running), run {run_id}")


@app.command("stop")
def stop(
    staff_id: Annotated[str, typer.Option("--staff-id", help="who decides")],
    reason: Annotated[str, typer.Option("--reason", help="why, for the audit trail")],
) -> None:
    """Let the current round finish and settle, then start no other."""
    if not staff_id.strip() or not reason.strip():
        raise InvalidInput("--staff-id and --reason must not be empty")
    asyncio.run(_stop(get_settings(), staff_id.strip(), reason.strip()))
    console.print("the crash rounds stop after the current round settles")


async def _start(settings: Settings) -> str:
    from croupier.workflows.client import connect
    from croupier.workflows.crash_rounds import CrashRounds

    client = await connect(settings.temporal_address, settings.temporal_namespace)
    return await CrashRounds(client).start(settings.temporal_task_queue)


async def _stop(settings: Settings, staff_id: str, reason: str) -> None:
    from croupier.workflows.client import connect
    from croupier.workflows.crash import StopRounds
    from croupier.workflows.crash_rounds import CrashRounds

    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await CrashRounds(client).stop(StopRounds(staff_id=staff_id, reason=reason))
