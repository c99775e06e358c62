"""The async Temporal client, from sync activities.

Activities that touch the database and a chain node are sync and run on the worker's
thread pool; the few that also start or signal workflows (the deposit scanner hands
deposits over, a withdrawal queues its send) reach the client's event loop through this
bridge. The calling thread blocks on the result, the loop stays free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio.client import Client

from croupier.core.errors import ConfigurationError

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 30.0


_NOT_CONFIGURED = (
    "these activities start or signal workflows: build the worker's activities inside "
    "its event loop with WorkerDeps.temporal set"
)


class TemporalBridge:
    """A Temporal client bound to the event loop it was created on."""

    def __init__(self, client: Client | None) -> None:
        self._client = client
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    @property
    def client(self) -> Client:
        if self._client is None or self._loop is None:
            raise ConfigurationError(_NOT_CONFIGURED)
        return self._client

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> T:
        """Run ``coroutine`` on the client's loop and wait for it (from a worker thread)."""
        if self._client is None or self._loop is None:
            coroutine.close()
            raise ConfigurationError(_NOT_CONFIGURED)
        assert not _on_loop(self._loop), "a sync activity must not run on the event loop"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
