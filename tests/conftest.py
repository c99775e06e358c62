"""Session-wide services for the test suite, started once and torn down at the end.

- PostgreSQL: ``CROUPIER_DATABASE_URL`` if set (a fresh database is created on that
  server), otherwise an embedded ``pgserver`` instance in a temporary directory.
- Temporal: the real dev server from the installed ``temporal`` binary (headless, a
  free port, in-memory), and Temporal's time-skipping test server for long timers.
- Anvil: the real local Ethereum node from the project's npm install.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from croupier.core.settings import Settings
from croupier.ledger import migrate
from croupier.ledger.db import check_database, drop_database, ensure_database, make_engine
from croupier.workers import devstack, registry
from croupier.workers.processes import ManagedProcess, free_port
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows import search_attributes
from croupier.workflows.client import DATA_CONVERTER, connect

LOCAL_HOST = "127.0.0.1"


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server URL: the configured one, or an embedded server for the session."""
    configured = os.environ.get("CROUPIER_DATABASE_URL")
    if configured:
        check_database(configured)
        yield configured
        return
    embedded = devstack.EmbeddedPostgres(
        tmp_path_factory.mktemp("pg") / "data", delete_on_stop=True
    )
    yield embedded.start()
    embedded.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, fully migrated database for this test session, dropped afterwards."""
    name = f"croupier_test_{uuid.uuid4().hex[:12]}"
    url = ensure_database(postgres_server_url, name)
    migrate.upgrade(url)
    yield url
    drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=20)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def temporal_address() -> Iterator[str]:
    """A real Temporal dev server (headless, in memory) for the whole session."""
    port = free_port()
    server = ManagedProcess(
        "temporal",
        devstack.temporal_dev_server_argv(ip=LOCAL_HOST, port=port, ui_port=None, db_file=None),
    ).start()
    server.wait_for_port(LOCAL_HOST, port)
    yield f"{LOCAL_HOST}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def settings(
    database_url: str, temporal_address: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=database_url,
        temporal_address=temporal_address,
        temporal_task_queue=f"test-{uuid.uuid4().hex[:8]}",
        jwt_secret=secrets.token_urlsafe(48),
        data_dir=tmp_path_factory.mktemp("data"),
        # Betting tests fund players through the dev faucet, as a dev stack would.
        dev_faucet_enabled=True,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_client(temporal_address: str) -> Client:
    return await connect(temporal_address, "default", timeout_s=30)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def worker(temporal_client: Client, settings: Settings, engine: Engine) -> AsyncIterator[str]:
    """An in-process worker running every registered workflow and activity; yields its queue."""
    deps = registry.WorkerDeps(settings=settings, engine=engine, temporal=temporal_client)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        running = build_worker(temporal_client, settings.temporal_task_queue, deps, executor)
        async with running:
            yield settings.temporal_task_queue


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the installed binary (no download).

    One per test module: its clock only moves forward, and a module that skips days
    (KYC expiry, the 24-hour limit delay) must not push the next module's workflows past
    the months the partitioned tables have been created for.
    """
    env = await start_time_skipping_env()
    yield env
    await env.shutdown()


async def start_time_skipping_env() -> WorkflowEnvironment:
    """A time-skipping test server with Croupier's search attributes registered.

    Beware ``handle.result()`` on it: it lets the server skip to its next deadline, and
    an activity without a schedule-to-close timeout leaves one at the workflow's run
    timeout (ten years). A module that stores ``workflow.now()`` starts its own server
    and drives time with ``env.sleep`` (see tests/workflows/test_crash_round.py).
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=str(devstack.temporal_test_server_binary()),
    )
    # The test server knows no custom search attributes until told, as a real cluster.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                for key in search_attributes.ALL
            },
        )
    )
    return env


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    binary = devstack.anvil_binary()
    if binary is None:
        if shutil.which("node") is None:
            pytest.skip("Node is not installed on this machine, so Anvil cannot be")
        pytest.fail("Anvil is missing although Node is present: run `make install`")
    return binary


@pytest.fixture(scope="session")
def anvil_url(anvil_binary: Path) -> Iterator[str]:
    """A real Anvil node on a free port for the session."""
    with devstack.running_anvil(anvil_binary) as url:
        yield url
