"""Betting through the real stack: the app (create_app) over real PostgreSQL, the
Temporal dev server and the session's in-process worker (fixture ``worker``).

The API fixtures are the API suite's own (re-exported here), so a player is
registered, logged in and funded exactly as in production, through HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from httpx import Response

from tests.integration.api.conftest import (  # noqa: F401 (fixtures)
    Api,
    api,
    api_factory,
    api_settings,
    bearer,
)

FUNDS_WEI = 10 * 10**18


class Player:
    """A signed-in player and the requests a test makes on their behalf."""

    def __init__(self, app_client: Api, tokens: dict[str, Any]) -> None:
        self.api = app_client
        self.user_id: uuid.UUID | None = None
        self.headers = bearer(str(tokens["access_token"]))

    async def post(self, path: str, body: dict[str, Any], *, key: str | None = None) -> Response:
        headers = {**self.headers, "Idempotency-Key": key or str(uuid.uuid4())}
        return await self.api.client.post(path, json=body, headers=headers)

    async def get(self, path: str, **params: Any) -> Response:
        return await self.api.client.get(path, params=params, headers=self.headers)

    async def credit(self, amount: int, currency: str = "ETH") -> Response:
        return await self.post("/dev/credit", {"currency": currency, "amount": str(amount)})

    async def bet(
        self, game: str, params: dict[str, Any], amount: int = 10**15, *, key: str | None = None
    ) -> Response:
        body = {"game": game, "currency": "ETH", "amount": str(amount), "params": params}
        return await self.post("/bets", body, key=key)

    async def available(self, currency: str = "ETH") -> int:
        response = await self.get("/balances")
        assert response.status_code == 200, response.text
        (line,) = [b for b in response.json()["balances"] if b["currency"] == currency]
        return int(line["available"])


@pytest_asyncio.fixture
async def player(api: Api, worker: str) -> AsyncIterator[Player]:  # noqa: F811
    """A fresh player with 10 ETH from the faucet."""
    me = Player(api, await api.player())
    me_response = await me.get("/me")
    me.user_id = uuid.UUID(me_response.json()["id"])
    credited = await me.credit(FUNDS_WEI)
    assert credited.status_code == 200, credited.text
    yield me
