"""``/bets``: place a dice, limbo or plinko bet; read any of one's bets back."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from croupier.api.auth.models import problem_responses
from croupier.api.idempotency import Idempotent
from croupier.api.play.models import BetRequest, BetResponse
from croupier.api.play.runtime import PlayLimit, Sessions, action_id
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.betting.bets import BetRecord, get_bet
from croupier.betting.errors import BetNotFound
from croupier.betting.limits import check_stake
from croupier.betting.settlement import validate_bet
from croupier.core.money import Currency
from croupier.games.errors import InvalidBet
from croupier.games.mines import Mines
from croupier.workflows.session import PlaceBet

router = APIRouter(tags=["bets"])
State = Annotated[AppState, Depends(app_state)]


@router.post(
    "/bets",
    status_code=201,
    response_model=BetResponse,
    responses=problem_responses(401, 403, 409, 422, 429),
    dependencies=[PlayLimit],
)
async def place_bet(
    body: BetRequest, claims: Claims, idempotent: Idempotent, sessions: Sessions, state: State
) -> JSONResponse:
    """Bet on dice, limbo or plinko; the answer is the settled bet.

    The outcome comes from your seed pair (``GET /fairness``) and the next nonce. A
    retry with the same ``Idempotency-Key`` returns this bet, never a second one.
    """

    async def settle() -> BetResponse:
        currency = Currency.parse(body.currency)
        check_bet(state, body.game, body.amount, currency, dict(body.params))
        result = await sessions.place_bet(
            claims.user_id,
            currency,
            PlaceBet(
                bet_id=str(action_id(claims.user_id, idempotent.key)),
                game=body.game,
                amount=body.amount,
                params=body.params,
            ),
        )
        return BetResponse.of_result(result)

    return await idempotent.run(body, settle, status_code=201)


@router.get(
    "/bets/{bet_id}", response_model=BetResponse, responses=problem_responses(401, 403, 404)
)
async def read_bet(bet_id: uuid.UUID, claims: Claims, state: State) -> BetResponse:
    """One of your bets, with its seeds, nonce and parameters (the server seed once
    revealed), so ``POST /verify/{game}`` can recompute it."""
    return BetResponse.of_record(await own_bet(state, claims.user_id, bet_id))


def check_bet(
    state: AppState, game: str, amount: str, currency: Currency, params: dict[str, Any]
) -> None:
    """Refuse at once what the session would refuse, against the live settings."""
    if game == Mines.name:
        raise InvalidBet("mines is played move by move: open a game with POST /mines")
    validate_bet(game, params, complete=True)
    check_stake(
        game,
        amount,
        currency,
        max_bet=state.settings.max_bet_minor_units(currency),
        games_enabled=state.settings.games_enabled,
    )


async def own_bet(state: AppState, user_id: uuid.UUID, bet_id: uuid.UUID) -> BetRecord:
    """The caller's bet; someone else's is as unknown as a bet that does not exist."""
    try:
        bet = await run_in_threadpool(get_bet, state.engine, bet_id)
    except BetNotFound:
        raise BetNotFound(f"you have no bet {bet_id}") from None
    if bet.user_id != user_id:
        raise BetNotFound(f"you have no bet {bet_id}")
    return bet
