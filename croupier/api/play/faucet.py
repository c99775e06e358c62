"""``POST /dev/credit``: free test funds, so a dev stack can be played before deposits
exist. Off unless ``CROUPIER_DEV_FAUCET_ENABLED`` is true (on the API and the worker
alike); off, the route answers 404 as if it did not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from croupier.api.auth.models import problem_responses
from croupier.api.idempotency import Idempotent
from croupier.api.play.models import CreditRequest, CreditResponse
from croupier.api.play.runtime import PlayLimit, Sessions, action_id
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.betting.errors import FaucetDisabled
from croupier.core.money import Currency
from croupier.workflows.session import DevCredit

router = APIRouter(tags=["dev"])
State = Annotated[AppState, Depends(app_state)]


@router.post(
    "/dev/credit",
    response_model=CreditResponse,
    responses=problem_responses(401, 403, 404, 422, 429),
    dependencies=[PlayLimit],
)
async def credit(
    body: CreditRequest, claims: Claims, idempotent: Idempotent, sessions: Sessions, state: State
) -> JSONResponse:
    """Credit test funds to your cash (dev stacks only)."""
    if not state.settings.dev_faucet_enabled:
        raise FaucetDisabled("the dev faucet is disabled (CROUPIER_DEV_FAUCET_ENABLED)")

    async def credit_() -> CreditResponse:
        currency = Currency.parse(body.currency)
        credit_id = str(action_id(claims.user_id, idempotent.key))
        result = await sessions.dev_credit(
            claims.user_id, currency, DevCredit(credit_id, body.amount)
        )
        return CreditResponse.of(result)

    return await idempotent.run(body, credit_)
