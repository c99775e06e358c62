"""A cap on the body of the KYC upload, enforced while it streams in.

FastAPI parses a form before any dependency runs (authentication included), so the
cap must sit in front of the route: a declared ``Content-Length`` over the cap is
refused before a byte is read, and a body that grows past it (chunked, or lying about
its length) is cut off at that point. The refusal is a 413 problem like every other
error, which Starlette's own body limit (plain text) would not give.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class UploadSizeLimit:
    def __init__(self, app: ASGIApp, *, method: str, path: str, max_bytes: int) -> None:
        assert max_bytes > 0
        self._app = app
        self._method = method
        self._path = path
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != self._method
            or scope["path"] != self._path
        ):
            await self._app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
                raise self._too_large()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    raise self._too_large()
            return message

        await self._app(scope, limited_receive, send)

    def _too_large(self) -> HTTPException:
        return HTTPException(413, f"the request body is larger than {self._max_bytes} bytes")
