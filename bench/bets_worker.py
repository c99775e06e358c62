"""One worker process of ``bench.bets``: the real registry and the yardstick entities, together.

``bench.bets`` starts ``--workers`` of these and runs BOTH of its phases against them,
so the no-op limit and the bets are measured on the same topology, and neither the
bench's clients nor its other workers share this process's GIL (a production worker
does not share its process with API clients either). Settings come from the
``CROUPIER_*`` environment; runs until SIGTERM/SIGINT.

    python -m bench.bets_worker
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from bench.noop import NoopEntityWorkflow, nothing
from croupier.core.settings import Settings
from croupier.ledger.db import make_engine
from croupier.workers import registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.client import connect

NOOP_QUEUE = "bench-noop"
BETS_QUEUE = "bench-bets"
# Printed once both workers poll; the bench waits for it from every process.
READY_LINE = "bench worker polling"


async def serve() -> None:
    settings = Settings()
    assert settings.database_url is not None, "the bench passes CROUPIER_DATABASE_URL"
    engine = make_engine(settings.database_url, pool_size=ACTIVITY_THREADS)
    client = await connect(settings.temporal_address, settings.temporal_namespace, timeout_s=60)
    deps = registry.WorkerDeps(settings=settings, engine=engine, temporal=client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            sessions = build_worker(client, BETS_QUEUE, deps, executor)
            noop = Worker(
                client,
                task_queue=NOOP_QUEUE,
                workflows=[NoopEntityWorkflow],
                activities=[nothing],
                activity_executor=executor,
                max_concurrent_activities=ACTIVITY_THREADS,
            )
            async with sessions, noop:
                print(READY_LINE, flush=True)
                await stop.wait()
    finally:
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(serve())
