"""``croupier audit verify``: prove the staff audit log is whole, or name its first bad row.

Walks the hash chain in one database snapshot and recomputes every row's hash. Exit
status 0 when intact, 1 at the first edited, removed or replaced row (or when the log
ends before an ``--anchor`` taken earlier). ``--json`` prints one object for scripts;
its ``head_seq``/``head_hash`` make the next run's anchor: publish them somewhere the
database's administrators cannot rewrite, and cutting rows off the end shows too.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from croupier.core.settings import get_settings
from croupier.workers.commands.database import command_engine

app = typer.Typer(help="The staff audit log.", no_args_is_help=True)
console = Console()

CHAIN_BROKEN = 1


@app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="SEQ:HASH from an earlier run; that row must still match"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Walk the audit log's hash chain; exit 1 naming the first row that breaks it."""
    from croupier.compliance.audit import Anchor, verify_chain

    expected = None if anchor is None else Anchor.parse(anchor)
    with command_engine(get_settings()) as engine:
        report = verify_chain(engine, anchor=expected)
    broken = report.first_break
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "intact": report.intact,
                    "rows_checked": report.rows_checked,
                    "head_seq": report.head_seq,
                    "head_hash": report.head_hash,
                    "first_broken_seq": None if broken is None else broken.seq,
                    "reason": None if broken is None else broken.reason,
                }
            )
            + "\n"
        )
    elif broken is None:
        head = "empty" if report.head_seq is None else f"head {report.head_seq}:{report.head_hash}"
        console.print(f"[green]ok[/]: {report.rows_checked} audit rows chain intact ({head})")
    else:
        console.print(
            f"[red]broken[/]: audit row {broken.seq}: {broken.reason} "
            f"({report.rows_checked} rows read)",
            highlight=False,
        )
    if broken is not None:
        raise typer.Exit(CHAIN_BROKEN)
