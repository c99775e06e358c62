"""Idempotency-Key: a retry returns the first result, a changed request is refused.

Proven through a test-only route that writes a row, as a money route will: the row
count shows whether the action really ran once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text

from croupier.api.idempotency import IdempotencyStore, Idempotent, request_fingerprint
from croupier.api.rbac import ROUTE_ACCESS, only
from croupier.core.errors import Conflict, ServiceUnavailable
from croupier.identity.roles import Role
from tests.integration.api.conftest import Api, ApiFactory, bearer

NOTES_PATH = "/test-only/notes"


class NoteRequest(BaseModel):
    text: str = Field(max_length=100)


class NoteResponse(BaseModel):
    note_id: int
    text: str


class Gate:
    """Holds the action of a request until the test lets it go."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()


@pytest.fixture(scope="module")
def notes_table(engine: Engine) -> str:
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS test_idempotent_notes "
                "(id bigserial PRIMARY KEY, user_id uuid NOT NULL, text text NOT NULL)"
            )
        )
    return "test_idempotent_notes"


def notes_router(engine: Engine, gates: dict[str, Gate]) -> APIRouter:
    router = APIRouter()

    @router.post(NOTES_PATH, status_code=201, response_model=NoteResponse)
    async def create_note(body: NoteRequest, idempotent: Idempotent) -> JSONResponse:
        async def write() -> NoteResponse:
            if body.text in gates:
                gates[body.text].entered.set()
                await gates[body.text].release.wait()
            if body.text == "refuse":
                raise Conflict("notes saying 'refuse' are refused")
            if body.text == "database down":
                raise ServiceUnavailable("pretend the database is down")
            with engine.begin() as conn:
                note_id = conn.execute(
                    text(
                        "INSERT INTO test_idempotent_notes (user_id, text) "
                        "VALUES (:user_id, :text) RETURNING id"
                    ),
                    {"user_id": idempotent.user_id, "text": body.text},
                ).scalar_one()
            return NoteResponse(note_id=note_id, text=body.text)

        return await idempotent.run(body, write, status_code=201)

    return router


class NotesApi:
    def __init__(self, api: Api, gates: dict[str, Gate]) -> None:
        self.api = api
        self.gates = gates

    async def post(self, token: str, key: str | bytes | None, note: str) -> httpx.Response:
        headers = [(name.encode(), value.encode()) for name, value in bearer(token).items()]
        if key is not None:
            headers.append((b"Idempotency-Key", key if isinstance(key, bytes) else key.encode()))
        return await self.api.client.post(NOTES_PATH, json={"text": note}, headers=headers)


@pytest_asyncio.fixture
async def notes(
    api_factory: ApiFactory, engine: Engine, notes_table: str
) -> AsyncIterator[NotesApi]:
    gates: dict[str, Gate] = {}
    async with api_factory() as api:
        api.app.include_router(notes_router(engine, gates))
        api.app.state.route_access = {**ROUTE_ACCESS, ("POST", NOTES_PATH): only(Role.PLAYER)}
        yield NotesApi(api, gates)


def count_notes(engine: Engine, note: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM test_idempotent_notes WHERE text = :text"),
                {"text": note},
            ).scalar_one()
        )


async def test_a_retry_with_the_same_key_returns_the_first_result_and_writes_once(
    notes: NotesApi, engine: Engine
) -> None:
    token = (await notes.api.player())["access_token"]
    key, note = str(uuid.uuid4()), f"note-{uuid.uuid4()}"

    first = await notes.post(token, key, note)
    retry = await notes.post(token, key, note)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["idempotent-replayed"] == "true"
    assert count_notes(engine, note) == 1


async def test_the_same_key_with_a_different_body_is_409(notes: NotesApi, engine: Engine) -> None:
    token = (await notes.api.player())["access_token"]
    key = str(uuid.uuid4())
    await notes.post(token, key, "first body")

    conflict = await notes.post(token, key, "second body")

    assert conflict.status_code == 409
    assert conflict.json()["type"] == "/problems/idempotency_conflict"
    assert count_notes(engine, "second body") == 0


async def test_keys_belong_to_one_user(notes: NotesApi, engine: Engine) -> None:
    key, note = str(uuid.uuid4()), f"note-{uuid.uuid4()}"
    ann = (await notes.api.player())["access_token"]
    bob = (await notes.api.player())["access_token"]

    first = await notes.post(ann, key, note)
    second = await notes.post(bob, key, note)

    assert first.json()["note_id"] != second.json()["note_id"]
    assert count_notes(engine, note) == 2


@pytest.mark.parametrize(
    "key", [None, "", "has space", "ключ".encode(), "x" * 256, "a/b", "tab\there"]
)
async def test_a_missing_or_malformed_key_is_422(notes: NotesApi, key: str | bytes | None) -> None:
    token = (await notes.api.player())["access_token"]

    response = await notes.post(token, key, "never written")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid_idempotency_key"


async def test_a_retry_while_the_first_still_runs_is_409_and_runs_nothing(
    notes: NotesApi, engine: Engine
) -> None:
    token = (await notes.api.player())["access_token"]
    key, note = str(uuid.uuid4()), f"slow-{uuid.uuid4()}"
    gate = notes.gates[note] = Gate()

    first = asyncio.create_task(notes.post(token, key, note))
    await gate.entered.wait()
    concurrent = await notes.post(token, key, note)
    gate.release.set()
    completed = await first

    assert concurrent.status_code == 409
    assert concurrent.json()["type"] == "/problems/idempotent_request_in_progress"
    assert completed.status_code == 201
    assert count_notes(engine, note) == 1


async def test_a_final_refusal_is_replayed_but_a_transient_failure_is_not(notes: NotesApi) -> None:
    token = (await notes.api.player())["access_token"]
    refused_key, failed_key = str(uuid.uuid4()), str(uuid.uuid4())

    refused = await notes.post(token, refused_key, "refuse")
    refused_again = await notes.post(token, refused_key, "refuse")
    failed = await notes.post(token, failed_key, "database down")
    failed_again = await notes.post(token, failed_key, "database down")

    assert refused.status_code == refused_again.status_code == 409
    assert refused_again.json() == refused.json()
    assert refused_again.headers["idempotent-replayed"] == "true"
    assert failed.status_code == failed_again.status_code == 503
    assert "idempotent-replayed" not in failed_again.headers


async def test_an_expired_key_may_be_used_for_a_new_request(
    notes: NotesApi, engine: Engine
) -> None:
    player = await notes.api.player()
    key = str(uuid.uuid4())
    await notes.post(player["access_token"], key, "old request")

    notes.api.clock.advance(timedelta(hours=24))
    token = (await notes.api.login(player["email"]))["access_token"]
    reused = await notes.post(token, key, "new request")

    assert reused.status_code == 201
    assert count_notes(engine, "new request") == 1


async def test_a_claim_abandoned_by_a_dead_process_is_taken_over_after_the_lock_timeout(
    notes: NotesApi, engine: Engine
) -> None:
    player = await notes.api.player()
    me = await notes.api.client.get("/me", headers=bearer(player["access_token"]))
    key, note = str(uuid.uuid4()), f"orphan-{uuid.uuid4()}"
    runtime = notes.api.runtime
    store = IdempotencyStore(
        engine,
        notes.api.clock,
        ttl=runtime.idempotency_ttl,
        lock_timeout=runtime.idempotency_lock_timeout,
    )
    fingerprint = request_fingerprint("POST", NOTES_PATH, NoteRequest(text=note))
    assert store.claim(uuid.UUID(me.json()["id"]), key, fingerprint) is None

    while_locked = await notes.post(player["access_token"], key, note)
    notes.api.clock.advance(runtime.idempotency_lock_timeout)
    after_timeout = await notes.post(player["access_token"], key, note)

    assert while_locked.status_code == 409
    assert after_timeout.status_code == 201
    assert count_notes(engine, note) == 1
