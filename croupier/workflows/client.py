"""One way to connect to Temporal, shared by the API and the workers."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from croupier.core.errors import ServiceUnavailable

DATA_CONVERTER = pydantic_data_converter


async def connect(address: str, namespace: str, *, timeout_s: float = 10.0) -> Client:
    """Connect with the project's data converter, retrying until ``timeout_s`` elapses.

    The retry covers the seconds a freshly started dev server needs before it answers.
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await Client.connect(address, namespace=namespace, data_converter=DATA_CONVERTER)
        except (RuntimeError, RPCError) as error:
            if asyncio.get_running_loop().time() >= deadline:
                raise ServiceUnavailable(
                    f"cannot reach Temporal at {address} (namespace {namespace!r}) "
                    f"within {timeout_s:.0f}s: {error}"
                ) from None
            await asyncio.sleep(0.25)
