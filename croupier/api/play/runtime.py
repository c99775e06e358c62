"""What the play routes share: the session client, the caller's action ids, rate limits.

Action ids: a bet, rotation, credit or mines move is named by
``uuid5(namespace, "<user id>:<Idempotency-Key>")``. The same key from the same player
always names the same action, which is then the Temporal update id, the bet's primary
key and its ledger transfer ids: a retried request can only ever find its first result.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from croupier.api.auth.runtime import rate_limiter
from croupier.api.ratelimit import RateRule, client_ip
from croupier.api.rbac import Claims
from croupier.api.state import app_state
from croupier.core.settings import Settings
from croupier.workflows.sessions import SessionClient

ACTION_NAMESPACE = uuid.UUID("6b1f4d9e-3c0a-5d7b-8e21-9a4c7f3b2d10")


@dataclass(frozen=True, slots=True)
class PlayRuntime:
    bets_per_user: RateRule
    bets_per_ip: RateRule
    verify_per_ip: RateRule

    @classmethod
    def from_settings(cls, settings: Settings) -> PlayRuntime:
        window = timedelta(seconds=settings.bet_window_s)
        return cls(
            bets_per_user=RateRule(
                "bets-user", settings.bet_requests_per_user, window, "bet requests from this player"
            ),
            bets_per_ip=RateRule(
                "bets-ip", settings.bet_requests_per_ip, window, "bet requests from this address"
            ),
            verify_per_ip=RateRule(
                "verify-ip",
                settings.verify_requests_per_ip,
                window,
                "verifications from this address",
            ),
        )


def install(app: FastAPI, settings: Settings) -> None:
    app.state.play = PlayRuntime.from_settings(settings)


def play_runtime(request: Request) -> PlayRuntime:
    runtime = request.app.state.play
    assert isinstance(runtime, PlayRuntime)
    return runtime


def session_client(request: Request) -> SessionClient:
    state = app_state(request)
    return SessionClient(state.temporal, state.settings.temporal_task_queue, state.settings)


def action_id(user_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    return uuid.uuid5(ACTION_NAMESPACE, f"{user_id}:{idempotency_key}")


async def limit_play(request: Request, claims: Claims) -> None:
    """Count one play request against the player's and the address's limits."""
    runtime = play_runtime(request)
    limiter = rate_limiter(request)
    await run_in_threadpool(limiter.hit, runtime.bets_per_user, str(claims.user_id))
    await run_in_threadpool(limiter.hit, runtime.bets_per_ip, client_ip(request))


async def limit_verify(request: Request) -> None:
    limiter = rate_limiter(request)
    await run_in_threadpool(limiter.hit, play_runtime(request).verify_per_ip, client_ip(request))


Sessions = Annotated[SessionClient, Depends(session_client)]
PlayLimit = Depends(limit_play)
VerifyLimit = Depends(limit_verify)
