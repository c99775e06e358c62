"""The ``croupier`` command line.

Every failure the user can cause ends in one line on stderr (``croupier: error: ...``)
and a non-zero status: 2 for bad input or configuration, 1 for an unreachable service.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from croupier.core.errors import CroupierError, InvalidInput, ServiceUnavailable
from croupier.core.settings import Settings, get_settings
from croupier.workers import logs
from croupier.workers.commands import audit, btc, crash, keys, reconcile, users, verify

app = typer.Typer(
    name="croupier",
    help="Croupier: the money core of an online crypto casino.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

USAGE_ERROR = 2
SERVICE_ERROR = 1


def _settings() -> Settings:
    settings = get_settings()
    logs.configure(settings.log_level, json=settings.log_json)
    return settings


def _require_database(settings: Settings) -> str:
    if settings.database_url is None:
        raise InvalidInput(
            "CROUPIER_DATABASE_URL is not set; expected a PostgreSQL URL such as "
            "postgresql://user@host:5432/croupier (`croupier up` sets it for its children)"
        )
    return settings.database_url


@app.command()
def up() -> None:
    """Run the whole platform here: PostgreSQL, Temporal (+ UI), Anvil, worker and API."""
    from croupier.workers.up import run_up

    raise typer.Exit(run_up(_settings(), console))


@app.command()
def worker() -> None:
    """Run a Temporal worker against existing Temporal and PostgreSQL."""
    from croupier.workers.worker import run_worker

    settings = _settings()
    _require_database(settings)
    asyncio.run(run_worker(settings))


@app.command()
def api() -> None:
    """Serve the HTTP API (uvicorn) against existing Temporal and PostgreSQL."""
    import uvicorn

    from croupier.api.app import create_app

    settings = _settings()
    _require_database(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=True,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations up to the latest revision."""
    from croupier.ledger import migrate as migrations
    from croupier.ledger.db import check_database

    settings = _settings()
    url = _require_database(settings)
    check_database(url, connect_timeout_s=settings.database_connect_timeout_s)
    migrations.upgrade(url)
    revisions = ", ".join(sorted(migrations.current_revisions(url))) or "(no migrations yet)"
    console.print(f"database at revision {revisions}")


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Prove Temporal, a worker and PostgreSQL work together by running a HealthCheck workflow."""
    from croupier.workers.doctor import run_health_check

    result = asyncio.run(run_health_check(_settings()))
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "worker_reached": result.worker_reached,
                    "database": result.database.database,
                    "server_version": result.database.server_version,
                }
            )
            + "\n"
        )
        return
    console.print(
        f"[green]ok[/]: a worker ran the health check against database "
        f"{result.database.database} (PostgreSQL {result.database.server_version})"
    )


app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.command(name="verify")(verify.verify)
app.command(name="reconcile")(reconcile.reconcile)
app.add_typer(audit.app, name="audit")
app.add_typer(crash.app, name="crash")
app.add_typer(btc.app, name="btc")


def _fail(message: str, status: int) -> None:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    sys.stderr.write(f"croupier: error: {first_line}\n")
    sys.exit(status)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app, turning every expected failure into one line."""
    try:
        status = app(args=argv, standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("aborted", 130)
    except NoArgsIsHelpError as error:
        error.show()
        sys.exit(USAGE_ERROR)
    except ClickException as error:
        _fail(error.format_message(), USAGE_ERROR)
    except ServiceUnavailable as error:
        _fail(str(error), SERVICE_ERROR)
    except CroupierError as error:
        message = str(error)
        # Configuration errors may name several variables; keep them on one line.
        _fail("; ".join(message.splitlines()), USAGE_ERROR)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
