"""``croupier up``: the whole platform on one machine, on embedded defaults.

Order matters: PostgreSQL, then Temporal, then migrations, then Anvil, then the
worker and the API. Shutdown runs the same list backwards, so nothing outlives us.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from croupier.core.local_secrets import read_or_create_secret
from croupier.core.settings import Settings
from croupier.ledger import migrate
from croupier.ledger.db import check_database, redact
from croupier.workers import devstack
from croupier.workers.doctor import run_health_check
from croupier.workers.processes import ManagedProcess, ensure_port_free
from croupier.workflows.health import HealthCheckResult

LOCAL_HOST = "127.0.0.1"
DEV_PASSPHRASE_FILE = "keystore-passphrase"  # noqa: S105 (a file name)
STYLES = {"temporal": "magenta", "anvil": "yellow", "worker": "cyan", "api": "green"}


@dataclass(frozen=True)
class StackPorts:
    temporal_host: str
    temporal: int
    ui: int
    api: int
    anvil: int


def stack_ports(settings: Settings) -> StackPorts:
    host, _, port = settings.temporal_address.rpartition(":")
    return StackPorts(
        host, int(port), settings.temporal_ui_port, settings.api_port, settings.anvil_port
    )


def check_ports(settings: Settings, ports: StackPorts, *, with_anvil: bool) -> None:
    ensure_port_free(
        ports.temporal_host,
        ports.temporal,
        what="Temporal frontend",
        variable="CROUPIER_TEMPORAL_ADDRESS",
    )
    ensure_port_free(
        ports.temporal_host, ports.ui, what="Temporal Web UI", variable="CROUPIER_TEMPORAL_UI_PORT"
    )
    ensure_port_free(settings.api_host, ports.api, what="API", variable="CROUPIER_API_PORT")
    if with_anvil:
        ensure_port_free(LOCAL_HOST, ports.anvil, what="Anvil RPC", variable="CROUPIER_ANVIL_PORT")


class Stack:
    """Starts services in order and stops them in reverse on exit."""

    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.children: list[ManagedProcess] = []
        self._exit = ExitStack()
        self._print_lock = threading.Lock()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.console.print("[bold]stopping[/] every service croupier up started ...")
        self._exit.close()
        self.console.print("[bold green]stopped[/]: no child process left running")

    def sink(self, name: str, line: str) -> None:
        with self._print_lock:
            self.console.print(
                f"[{STYLES.get(name, 'white')}]{name:>8}[/] | {line}",
                markup=True,
                highlight=False,
                soft_wrap=True,
                emoji=False,
            )

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> ManagedProcess:
        child = ManagedProcess(name, argv, env=env, sink=self.sink).start()
        self.children.append(child)
        self._exit.callback(child.stop)
        self.console.print(f"[bold]started[/] {name} (pid {child.pid})")
        return child

    def database(self) -> str:
        url = self.settings.database_url
        if url is None:
            embedded = devstack.EmbeddedPostgres(self.settings.data_dir.resolve() / "pg")
            self.console.print(
                "[bold]starting[/] embedded PostgreSQL under "
                f"{embedded.pgdata} (set CROUPIER_DATABASE_URL to use your own)"
            )
            server_url = embedded.start()
            self._exit.callback(embedded.stop)
            url = devstack.application_database(server_url)
        version = check_database(url, connect_timeout_s=self.settings.database_connect_timeout_s)
        self.console.print(f"[bold]PostgreSQL[/] {version} at {redact(url)}")
        return url

    def first_dead_child(self) -> ManagedProcess | None:
        return next((child for child in self.children if not child.alive()), None)


def _child_env(settings: Settings, database_url: str, eth_rpc_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["CROUPIER_DATABASE_URL"] = database_url
    env["CROUPIER_TEMPORAL_ADDRESS"] = settings.temporal_address
    if eth_rpc_url is not None:
        env["CROUPIER_ETH_RPC_URL"] = eth_rpc_url
        # Anvil traces calls, so deposits from contract wallets are found too.
        env.setdefault("CROUPIER_ETH_INTERNAL_TRANSFERS", "true")
    else:
        # No chain to scan: a scanner would only retry against nothing, loudly.
        env["CROUPIER_DEPOSIT_SCANNER_ENABLED"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _dev_keystore_env(settings: Settings, console: Console) -> dict[str, str]:
    """A local keystore for the dev stack when none is configured.

    Deposit addresses and withdrawals need the HD seed. On a laptop with no
    ``CROUPIER_KEYSTORE_PASSPHRASE``, ``up`` keeps a random passphrase in ``data_dir``
    and a keystore with a fresh random seed beside it: fine for Anvil's play money,
    never for real funds (``croupier keys init`` with your own passphrase is for those).
    """
    if settings.keystore_backend != "local" or settings.keystore_passphrase is not None:
        return {}
    from pydantic import SecretStr

    from croupier.treasury.hd import mnemonic_to_seed, new_mnemonic
    from croupier.treasury.keystore import KEYSTORE_FILE_NAME, keystore_from_settings

    data_dir = settings.data_dir.resolve()
    passphrase = read_or_create_secret(
        data_dir / DEV_PASSPHRASE_FILE, variable="CROUPIER_KEYSTORE_PASSPHRASE"
    )
    if not (data_dir / KEYSTORE_FILE_NAME).exists():
        dev = settings.model_copy(update={"keystore_passphrase": SecretStr(passphrase)})
        keystore_from_settings(dev).store_seed(mnemonic_to_seed(new_mnemonic()))
        console.print(
            f"[yellow]dev keystore[/] created in {data_dir} with a random seed "
            "(play money only; see `croupier keys init` for real funds)"
        )
    return {"CROUPIER_KEYSTORE_PASSPHRASE": passphrase}


def _wait_for_stop(stack: Stack) -> int:
    """Block until Ctrl-C / SIGTERM (exit 0) or until a child dies (exit 1)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        dead = stack.first_dead_child()
        if dead is not None:
            stack.console.print(
                f"[bold red]{dead.name} exited[/] with status {dead.returncode()}; shutting down"
            )
            return 1
    return 0


def run_up(settings: Settings, console: Console) -> int:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    anvil = devstack.anvil_binary()
    ports = stack_ports(settings)
    check_ports(settings, ports, with_anvil=anvil is not None)
    started = time.monotonic()
    with Stack(settings, console) as stack:
        database_url = stack.database()
        temporal = stack.spawn(
            "temporal",
            devstack.temporal_dev_server_argv(
                ip=ports.temporal_host,
                port=ports.temporal,
                ui_port=ports.ui,
                db_file=data_dir / "temporal.sqlite",
            ),
        )
        temporal.wait_for_port(ports.temporal_host, ports.temporal)
        console.print("[bold]migrating[/] the database ...")
        migrate.upgrade(database_url)
        eth_rpc_url = _start_anvil(stack, anvil, ports.anvil)
        env = _child_env(settings, database_url, eth_rpc_url)
        env.update(_dev_keystore_env(settings, console))
        cli = [sys.executable, "-m", "croupier.workers.cli"]
        stack.spawn("worker", [*cli, "worker"], env)
        api = stack.spawn("api", [*cli, "api"], env)
        api_url = f"http://{settings.api_host}:{ports.api}"
        api.wait_for_http(f"{api_url}/healthz")
        probe = asyncio.run(
            run_health_check(settings.model_copy(update={"database_url": database_url}))
        )
        console.print(_summary(settings, ports, eth_rpc_url, probe, time.monotonic() - started))
        return _wait_for_stop(stack)


def _summary(
    settings: Settings,
    ports: StackPorts,
    eth_rpc_url: str | None,
    probe: HealthCheckResult,
    elapsed_s: float,
) -> Panel:
    api_url = f"http://{settings.api_host}:{ports.api}"
    ethereum = eth_rpc_url or "not started (no Anvil: install Node, then make install)"
    database = probe.database
    lines = [
        f"API docs     {api_url}/docs",
        f"API health   {api_url}/healthz",
        f"Temporal UI  http://{ports.temporal_host}:{ports.ui}",
        f"Temporal     {settings.temporal_address} (queue {settings.temporal_task_queue})",
        f"Ethereum     {ethereum}",
        f"Database     {database.database} on PostgreSQL {database.server_version}",
        f"Up in {elapsed_s:.1f}s; a worker answered a health check. Ctrl-C stops everything.",
    ]
    return Panel.fit("\n".join(lines), title="croupier is up", border_style="green")


def _start_anvil(stack: Stack, anvil: Path | None, port: int) -> str | None:
    if anvil is None:
        stack.console.print(
            "[yellow]Anvil not found[/] (needs Node; `make install` adds it): "
            "running without a local Ethereum chain"
        )
        return None
    process = stack.spawn("anvil", devstack.anvil_argv(anvil, host=LOCAL_HOST, port=port))
    process.wait_for_port(LOCAL_HOST, port)
    return f"http://{LOCAL_HOST}:{port}"
