"""``/fairness``: see the active seed pair, rotate it (revealing the old server seed),
or choose a client seed (which rotates too). Rotations go through the session, so they
are ordered with bets: no bet ever straddles two pairs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from croupier.activities.betting import RotationResult, SeedView
from croupier.api.auth.models import problem_responses
from croupier.api.idempotency import Idempotent
from croupier.api.play.models import (
    ClientSeedRequest,
    FairnessResponse,
    RevealedSeedsResponse,
    RotateRequest,
    RotationResponse,
    SeedsResponse,
)
from croupier.api.play.runtime import PlayLimit, Sessions, action_id
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.betting.seed_pairs import active_pair
from croupier.core.money import Currency
from croupier.games.seeds import check_client_seed
from croupier.workflows.session import RotateSeeds

router = APIRouter(tags=["fairness"])
State = Annotated[AppState, Depends(app_state)]


@router.get(
    "/fairness", response_model=FairnessResponse, responses=problem_responses(401, 403, 422)
)
async def fairness(
    currency: Annotated[str, Query(min_length=2, max_length=10, examples=["ETH"])],
    claims: Claims,
    sessions: Sessions,
    state: State,
) -> FairnessResponse:
    """Your active pair in ``currency``: the hash of the server seed your next bets use,
    your client seed and the next nonce. A first call creates the pair."""
    code = Currency.parse(currency)
    pair = await run_in_threadpool(active_pair, state.engine, claims.user_id, code)
    if pair is not None:
        seeds = SeedView(str(pair.id), pair.server_seed_hash, pair.client_seed, pair.next_nonce)
    else:
        seeds = (await sessions.open_session(claims.user_id, code)).seeds
    return FairnessResponse(currency=code.value, active=SeedsResponse.of(seeds))


@router.post(
    "/fairness/rotate",
    response_model=RotationResponse,
    responses=problem_responses(401, 403, 409, 422, 429),
    dependencies=[PlayLimit],
)
async def rotate(
    body: RotateRequest, claims: Claims, idempotent: Idempotent, sessions: Sessions
) -> JSONResponse:
    """Reveal the current server seed (verify every bet it played) and start a new pair
    with the same client seed. Refused while a mines game is in play."""

    async def rotate_() -> RotationResponse:
        currency = Currency.parse(body.currency)
        rotation_id = str(action_id(claims.user_id, idempotent.key))
        result = await sessions.rotate_seeds(claims.user_id, currency, RotateSeeds(rotation_id))
        return _rotation(currency, result)

    return await idempotent.run(body, rotate_)


@router.post(
    "/fairness/client-seed",
    response_model=RotationResponse,
    responses=problem_responses(401, 403, 409, 422, 429),
    dependencies=[PlayLimit],
)
async def set_client_seed(
    body: ClientSeedRequest, claims: Claims, idempotent: Idempotent, sessions: Sessions
) -> JSONResponse:
    """Choose your client seed. The pair rotates: the old server seed is revealed and
    a new one (its hash shown) is paired with your seed."""

    async def rotate_() -> RotationResponse:
        currency = Currency.parse(body.currency)
        client_seed = check_client_seed(body.client_seed)
        rotation_id = str(action_id(claims.user_id, idempotent.key))
        result = await sessions.rotate_seeds(
            claims.user_id, currency, RotateSeeds(rotation_id, client_seed=client_seed)
        )
        return _rotation(currency, result)

    return await idempotent.run(body, rotate_)


def _rotation(currency: Currency, result: RotationResult) -> RotationResponse:
    return RotationResponse(
        currency=currency.value,
        revealed=RevealedSeedsResponse.of(result.revealed),
        active=SeedsResponse.of(result.active),
    )
