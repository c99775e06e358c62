"""``/mines``: open a game, reveal tiles, cash out; each move is an Update of the
game's own workflow (``mines-<bet id>``), keyed by the move's Idempotency-Key."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from croupier.api.auth.models import problem_responses
from croupier.api.idempotency import Idempotent
from croupier.api.play.bets import own_bet
from croupier.api.play.models import CashOutRequest, MinesResponse, OpenMinesRequest, RevealRequest
from croupier.api.play.runtime import PlayLimit, Sessions, action_id
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.betting.errors import BetNotFound
from croupier.betting.limits import check_stake
from croupier.betting.settlement import validate_bet
from croupier.core.money import Currency
from croupier.games.mines import Mines
from croupier.workflows.session import OpenMines

router = APIRouter(tags=["mines"])
State = Annotated[AppState, Depends(app_state)]
MINES_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429)


@router.post(
    "/mines",
    status_code=201,
    response_model=MinesResponse,
    responses=MINES_PROBLEMS,
    dependencies=[PlayLimit],
)
async def open_game(
    body: OpenMinesRequest, claims: Claims, idempotent: Idempotent, sessions: Sessions, state: State
) -> JSONResponse:
    """Stake a mines game; then reveal tiles one by one and cash out when you like.

    A game left untouched for the inactivity timeout cashes out by itself (or, with no
    tile revealed, is lost).
    """

    async def open_() -> MinesResponse:
        currency = Currency.parse(body.currency)
        validate_bet(Mines.name, {"mines": body.mines}, complete=False)
        check_stake(
            Mines.name,
            body.amount,
            currency,
            max_bet=state.settings.max_bet_minor_units(currency),
            games_enabled=state.settings.games_enabled,
        )
        view = await sessions.open_mines(
            claims.user_id,
            currency,
            OpenMines(
                bet_id=str(action_id(claims.user_id, idempotent.key)),
                amount=body.amount,
                mines=body.mines,
            ),
        )
        return MinesResponse.of(view)

    return await idempotent.run(body, open_, status_code=201)


@router.get("/mines/{bet_id}", response_model=MinesResponse, responses=MINES_PROBLEMS)
async def read_game(
    bet_id: uuid.UUID, claims: Claims, sessions: Sessions, state: State
) -> MinesResponse:
    await _own_game(state, claims.user_id, bet_id)
    return MinesResponse.of(await sessions.mines_state(bet_id))


@router.post(
    "/mines/{bet_id}/reveal",
    response_model=MinesResponse,
    responses=MINES_PROBLEMS,
    dependencies=[PlayLimit],
)
async def reveal(
    bet_id: uuid.UUID,
    body: RevealRequest,
    claims: Claims,
    idempotent: Idempotent,
    sessions: Sessions,
    state: State,
) -> JSONResponse:
    """Reveal one tile: safe (the multiplier grows) or a mine (the game is lost)."""

    async def reveal_() -> MinesResponse:
        await _own_game(state, claims.user_id, bet_id)
        move_id = str(action_id(claims.user_id, idempotent.key))
        return MinesResponse.of(await sessions.reveal(bet_id, body.tile, move_id))

    return await idempotent.run(body, reveal_)


@router.post(
    "/mines/{bet_id}/cashout",
    response_model=MinesResponse,
    responses=MINES_PROBLEMS,
    dependencies=[PlayLimit],
)
async def cash_out(
    bet_id: uuid.UUID,
    body: CashOutRequest,
    claims: Claims,
    idempotent: Idempotent,
    sessions: Sessions,
    state: State,
) -> JSONResponse:
    """Take the payout of the tiles revealed so far."""

    async def cash_out_() -> MinesResponse:
        await _own_game(state, claims.user_id, bet_id)
        move_id = str(action_id(claims.user_id, idempotent.key))
        return MinesResponse.of(await sessions.cash_out(bet_id, move_id))

    return await idempotent.run(body, cash_out_)


async def _own_game(state: AppState, user_id: uuid.UUID, bet_id: uuid.UUID) -> None:
    bet = await own_bet(state, user_id, bet_id)
    if bet.game != Mines.name:
        raise BetNotFound(f"you have no mines game {bet_id}")
