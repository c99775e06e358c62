"""One way to connect to Temporal, shared by the API and the workers."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import CompositePayloadConverter, DataConverter
from temporalio.service import RPCError

from croupier.core.errors import ServiceUnavailable

# Built once: the pydantic JSON encoder holds the cache of type adapters (the compiled
# schema of each payload type, costly to build).
_ENCODINGS = tuple(PydanticPayloadConverter().converters.values())


class SharedPydanticPayloadConverter(CompositePayloadConverter):
    """Temporal's ``PydanticPayloadConverter``, with every instance sharing one set of
    encoders.

    The SDK builds a payload converter twice per workflow activation and once per
    workflow run. Each stock pydantic one starts with an empty type-adapter cache, so
    every activation paid for building one and every run re-compiled the schemas of
    its payload types. The encoders hold no state but that cache (thread-safe).
    """

    def __init__(self) -> None:
        super().__init__(*_ENCODINGS)


DATA_CONVERTER = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)


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
