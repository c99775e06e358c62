"""The Temporal worker process: connects, lists what it runs, polls until told to stop."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from croupier.core.settings import Settings
from croupier.ledger.db import check_database, make_engine
from croupier.workers import registry
from croupier.workers.logs import get_logger
from croupier.workers.metrics import start_worker_metrics, temporal_runtime
from croupier.workers.schedules import ensure_schedules
from croupier.workflows.client import connect
from croupier.workflows.deposit_scanner import ensure_deposit_scanner

log = get_logger(__name__)

# Sync activities (database, chain I/O) run on this many threads per worker process.
ACTIVITY_THREADS = 32


def build_worker(
    client: Client, task_queue: str, deps: registry.WorkerDeps, executor: ThreadPoolExecutor
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=registry.workflows(),
        activities=registry.activities(deps),
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight tasks and exit."""
    if settings.database_url is None:
        raise ValueError("the worker needs CROUPIER_DATABASE_URL")
    check_database(settings.database_url, connect_timeout_s=settings.database_connect_timeout_s)
    engine = make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        connect_timeout_s=settings.database_connect_timeout_s,
    )
    runtime = temporal_runtime(settings)
    if runtime is not None:
        # Before the first client: every client and worker of the process uses the default.
        Runtime.set_default(runtime)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await ensure_schedules(client, settings)
    metrics_server = start_worker_metrics(settings, engine)
    deps = registry.WorkerDeps(settings=settings, engine=engine, temporal=client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, settings.temporal_task_queue, deps, executor)
        async with worker:
            if settings.deposit_scanner_enabled:
                await ensure_deposit_scanner(client, settings.temporal_task_queue)
                # Bitcoin only with a bitcoind configured, as the dev stack without Anvil.
                if settings.btc_rpc_url is not None:
                    await ensure_deposit_scanner(client, settings.temporal_task_queue, "bitcoin")
            log.info(
                "worker polling",
                task_queue=settings.temporal_task_queue,
                temporal=settings.temporal_address,
            )
            await stop.wait()
            log.info("worker stopping")
    if metrics_server is not None:
        metrics_server.shutdown()
    engine.dispose()
