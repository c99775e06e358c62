"""``Idempotency-Key`` for requests that change state, with Stripe's semantics.

A client sends a key it generated (a UUID is ideal) with a state-changing request.
The first request with a key runs; its response (status and body) is stored in
PostgreSQL under (user, key) with a fingerprint of the request. A retry with the same
key and the same request gets the stored response back, marked with the header
``Idempotent-Replayed: true``, and runs nothing. The same key with a different request
is ``IdempotencyConflict`` (409); a retry while the first is still running is
``IdempotentRequestInProgress`` (409, retry later).

What is stored: successes and final 4xx problems (a refused bet stays refused for its
key). Not stored: 429 and 5xx, and crashes; the key is released so a retry runs again.
A first request that died without releasing its key (the process was killed) is taken
over after ``idempotency_lock_timeout_s``; the downstream business keys (workflow ids,
transfer ids) keep even that re-run from moving money twice. Keys expire after
``idempotency_key_ttl_s``; a later request may reuse an expired key, and the
LedgerMaintenance schedule deletes expired ones (``croupier.identity.request_records``).

Usage in a route::

    @router.post("/bets")
    async def place_bet(body: BetRequest, idempotent: Idempotent) -> JSONResponse:
        return await idempotent.run(body, lambda: start_bet(body), status_code=201)
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.api import problems
from croupier.api.auth.runtime import auth_runtime
from croupier.api.rbac import Claims
from croupier.api.state import app_state
from croupier.core.clock import Clock
from croupier.core.errors import Conflict, CroupierError, IdempotencyConflict, InvalidInput
from croupier.identity.tables import idempotency_keys

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255
# Insert-or-read rounds before a claim gives up on a key whose row keeps vanishing.
CLAIM_ATTEMPTS = 3
# The alphabet of business keys (croupier.core.ids), so a key can become part of one.
_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid_idempotency_key"


class IdempotentRequestInProgress(Conflict):
    code = "idempotent_request_in_progress"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: Any


def parse_key(raw: str | None) -> str:
    if raw is None:
        raise InvalidIdempotencyKey(f"this route needs an {HEADER} header (a UUID is ideal)")
    if not _KEY_RE.match(raw):
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1-{MAX_KEY_CHARS} characters of A-Z a-z 0-9 _ . : -"
        )
    return raw


def request_fingerprint(method: str, path: str, payload: BaseModel) -> bytes:
    """sha256 over the method, the concrete path and the validated body in canonical JSON.

    Hashing the parsed model rather than raw bytes makes key order and whitespace
    irrelevant: a retry that re-serialises the same request still matches.
    """
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).digest()


def is_final(status_code: int) -> bool:
    """Outcomes worth replaying: success and refusals that a retry would not change."""
    return status_code < 400 or (status_code < 500 and status_code != 429)


class IdempotencyStore:
    def __init__(
        self, engine: Engine, clock: Clock, *, ttl: timedelta, lock_timeout: timedelta
    ) -> None:
        assert timedelta(0) < lock_timeout < ttl
        self._engine = engine
        self._clock = clock
        self._ttl = ttl
        self._lock_timeout = lock_timeout

    def claim(self, user_id: uuid.UUID, key: str, fingerprint: bytes) -> StoredResponse | None:
        """``None``: the caller owns the key now and must run the request, then
        ``complete`` or ``release``. Otherwise the stored response to replay."""
        now = self._clock.now()
        where = (idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
        with self._engine.begin() as conn:
            # The key's row can vanish between the insert that found it and the read
            # that locks it (maintenance purged it, or its first request released it):
            # then the key is free again, and the next insert takes it.
            for _ in range(CLAIM_ATTEMPTS):
                inserted = conn.execute(
                    pg_insert(idempotency_keys)
                    .values(
                        user_id=user_id, key=key, request_fingerprint=fingerprint, created_at=now
                    )
                    .on_conflict_do_nothing()
                    .returning(idempotency_keys.c.key)
                ).first()
                if inserted is not None:
                    return None
                row = conn.execute(select(idempotency_keys).where(*where).with_for_update()).first()
                if row is not None:
                    break
            else:
                raise IdempotentRequestInProgress(
                    f"{HEADER} {key!r} is being claimed and released at once; retry in a moment"
                )
            if row.created_at <= now - self._ttl:
                self._restart(conn, where, fingerprint, now)
                return None
            if row.request_fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"{HEADER} {key!r} was already used for a different request; "
                    "use a new key for a new request"
                )
            if row.response_status is not None:
                return StoredResponse(row.response_status, row.response_body)
            if row.created_at <= now - self._lock_timeout:
                self._restart(conn, where, fingerprint, now)
                return None
        raise IdempotentRequestInProgress(
            f"a request with {HEADER} {key!r} is still running; retry in a moment"
        )

    def complete(self, user_id: uuid.UUID, key: str, response: StoredResponse) -> None:
        assert is_final(response.status_code)
        with self._engine.begin() as conn:
            conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
                .values(
                    response_status=response.status_code,
                    response_body=response.body,
                    completed_at=self._clock.now(),
                )
            )

    def release(self, user_id: uuid.UUID, key: str) -> None:
        """Forget an unfinished claim, so a retry runs the request afresh."""
        with self._engine.begin() as conn:
            conn.execute(
                idempotency_keys.delete().where(
                    idempotency_keys.c.user_id == user_id,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.completed_at.is_(None),
                )
            )

    @staticmethod
    def _restart(conn: Any, where: tuple[Any, ...], fingerprint: bytes, now: datetime) -> None:
        conn.execute(
            update(idempotency_keys)
            .where(*where)
            .values(
                request_fingerprint=fingerprint,
                response_status=None,
                response_body=None,
                created_at=now,
                completed_at=None,
            )
        )


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """One request's key, bound to its caller and route; ``run`` executes it at most once."""

    key: str
    user_id: uuid.UUID
    method: str
    path: str
    store: IdempotencyStore

    async def run(
        self,
        payload: BaseModel,
        action: Callable[[], Awaitable[BaseModel]],
        *,
        status_code: int = 200,
    ) -> JSONResponse:
        fingerprint = request_fingerprint(self.method, self.path, payload)
        stored = await run_in_threadpool(self.store.claim, self.user_id, self.key, fingerprint)
        if stored is not None:
            return _replay(stored)
        try:
            result = await action()
        except CroupierError as error:
            await self._settle_failure(problems.problem_for(error))
            raise
        except BaseException:
            await run_in_threadpool(self.store.release, self.user_id, self.key)
            raise
        body = result.model_dump(mode="json")
        await run_in_threadpool(
            self.store.complete, self.user_id, self.key, StoredResponse(status_code, body)
        )
        return JSONResponse(body, status_code=status_code)

    async def _settle_failure(self, problem: problems.Problem) -> None:
        if is_final(problem.status):
            stored = StoredResponse(problem.status, problem.model_dump())
            await run_in_threadpool(self.store.complete, self.user_id, self.key, stored)
        else:
            await run_in_threadpool(self.store.release, self.user_id, self.key)


def _replay(stored: StoredResponse) -> JSONResponse:
    media_type = problems.PROBLEM_MEDIA_TYPE if stored.status_code >= 400 else "application/json"
    return JSONResponse(
        stored.body,
        status_code=stored.status_code,
        media_type=media_type,
        headers={REPLAYED_HEADER: "true"},
    )


def idempotent_request(
    request: Request,
    claims: Claims,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="a key you generate per request (a UUID); a retry reuses it",
            examples=["5f0c2b8e-1b7e-4c7a-9a4e-2d7f9c1e6b3a"],
        ),
    ] = None,
) -> IdempotentRequest:
    runtime = auth_runtime(request)
    return IdempotentRequest(
        key=parse_key(idempotency_key),
        user_id=claims.user_id,
        method=request.method,
        path=request.url.path,
        store=IdempotencyStore(
            app_state(request).engine,
            runtime.clock,
            ttl=runtime.idempotency_ttl,
            lock_timeout=runtime.idempotency_lock_timeout,
        ),
    )


Idempotent = Annotated[IdempotentRequest, Depends(idempotent_request)]
