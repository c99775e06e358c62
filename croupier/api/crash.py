"""``/crash``: the shared crash round, a bet in it, and cashing that bet out.

The routes move no money: a bet and a cash-out are Updates to the round workflow,
which takes the stake in the ledger before it accepts a bet and decides a cash-out by
its own clock. The bet id is ``uuid5(user id, Idempotency-Key)`` (as for every play
route), so a retried request finds its first bet and never places a second.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from croupier.api.auth.models import problem_responses
from croupier.api.auth.runtime import auth_runtime
from croupier.api.idempotency import Idempotent
from croupier.api.play.models import CurrencyCode, MinorUnits
from croupier.api.play.runtime import PlayLimit, action_id
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.betting.limits import check_stake
from croupier.core.clock import Clock
from croupier.core.money import Currency
from croupier.games.crash import Crash
from croupier.workflows.crash import (
    CashedOut,
    CashOutRequest,
    PlaceCrashBet,
    PlacedCrashBet,
    PlayedRound,
    RoundView,
)
from croupier.workflows.crash_rounds import CrashRounds

router = APIRouter(prefix="/crash", tags=["crash"])
State = Annotated[AppState, Depends(app_state)]


def crash_rounds(state: State) -> CrashRounds:
    return CrashRounds(state.temporal)


Rounds = Annotated[CrashRounds, Depends(crash_rounds)]


class CrashBetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"currency": "ETH", "amount": "1000000000000000"}]},
    )

    currency: CurrencyCode
    amount: MinorUnits


class CrashBetResponse(BaseModel):
    bet_id: uuid.UUID
    round_id: str
    currency: str
    amount: str
    placed_at: datetime

    @classmethod
    def of(cls, placed: PlacedCrashBet) -> CrashBetResponse:
        return cls(
            bet_id=uuid.UUID(placed.bet_id),
            round_id=placed.round_id,
            currency=placed.currency,
            amount=placed.amount,
            placed_at=placed.placed_at,
        )


class CashOutResponse(BaseModel):
    """The cash-out is final; the payout reaches the balance when the round settles."""

    bet_id: uuid.UUID
    round_id: str
    currency: str
    amount: str
    multiplier: str
    payout: str

    @classmethod
    def of(cls, cashed: CashedOut) -> CashOutResponse:
        return cls(
            bet_id=uuid.UUID(cashed.bet_id),
            round_id=cashed.round_id,
            currency=cashed.currency,
            amount=cashed.amount,
            multiplier=cashed.multiplier,
            payout=cashed.payout,
        )


class _CashOutCall(BaseModel):
    """What a cash-out request is, for its Idempotency-Key fingerprint."""

    bet_id: uuid.UUID


class CrashCurve(BaseModel):
    """Draw ``multiplier(t) = floor(100 * e^(growth_per_ms * t)) / 100`` from ``started_at``."""

    formula: str
    growth_per_ms: str
    max_multiplier: str


class CrashChain(BaseModel):
    """Published before the chain's first round: every game hash leads back to it."""

    terminating_hash: str
    salt: str


class PreviousRound(BaseModel):
    round_id: str
    crash_point: str
    game_hash: str
    ended_at: datetime

    @classmethod
    def of(cls, played: PlayedRound) -> PreviousRound:
        return cls(
            round_id=played.round_id,
            crash_point=played.crash_point,
            game_hash=played.game_hash,
            ended_at=played.ended_at,
        )


class CrashRoundResponse(BaseModel):
    round_id: str
    chain_id: int
    round_number: int
    phase: str
    server_time: datetime
    betting_closes_at: datetime | None
    started_at: datetime | None
    crashed_at: datetime | None
    crash_point: str | None
    curve: CrashCurve
    chain: CrashChain
    bet_count: int
    stopping: bool
    previous: PreviousRound | None

    @classmethod
    def of(cls, view: RoundView, clock: Clock) -> CrashRoundResponse:
        return cls(
            round_id=view.round_id,
            chain_id=view.chain_id,
            round_number=view.round_number,
            phase=view.phase,
            server_time=clock.now(),
            betting_closes_at=view.betting_closes_at,
            started_at=view.started_at,
            crashed_at=view.crashed_at,
            crash_point=view.crash_point,
            curve=CrashCurve(
                formula=view.formula,
                growth_per_ms=view.growth_per_ms,
                max_multiplier=view.max_multiplier,
            ),
            chain=CrashChain(terminating_hash=view.terminating_hash, salt=view.salt),
            bet_count=view.bet_count,
            stopping=view.stopping,
            previous=None if view.previous is None else PreviousRound.of(view.previous),
        )


@router.get("/current", response_model=CrashRoundResponse, responses=problem_responses(404))
async def current(request: Request, rounds: Rounds) -> CrashRoundResponse:
    """The round being played: its phase and times, the curve to draw, the chain it is
    drawn from, and the previous round's crash point and game hash to verify it."""
    view = await rounds.current()
    return CrashRoundResponse.of(view, auth_runtime(request).clock)


@router.post(
    "/bets",
    status_code=201,
    response_model=CrashBetResponse,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
    dependencies=[PlayLimit],
)
async def place_bet(
    body: CrashBetRequest, claims: Claims, idempotent: Idempotent, rounds: Rounds, state: State
) -> JSONResponse:
    """Bet on the current round while its betting window is open: the stake leaves your
    balance before the bet is accepted. One bet per player per round. Your own limits
    apply as to every game: 403 ``self_excluded``, ``cooling_off`` or
    ``loss_limit_reached`` (a cash-out of a bet already placed is never refused)."""

    async def place() -> CrashBetResponse:
        currency = Currency.parse(body.currency)
        check_stake(
            Crash.name,
            body.amount,
            currency,
            max_bet=state.settings.max_bet_minor_units(currency),
            games_enabled=state.settings.games_enabled,
        )
        placed = await rounds.place_bet(
            PlaceCrashBet(
                bet_id=str(action_id(claims.user_id, idempotent.key)),
                user_id=str(claims.user_id),
                currency=currency.value,
                amount=body.amount,
            )
        )
        return CrashBetResponse.of(placed)

    return await idempotent.run(body, place, status_code=201)


@router.post(
    "/bets/{bet_id}/cashout",
    response_model=CashOutResponse,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
    dependencies=[PlayLimit],
)
async def cash_out(
    bet_id: uuid.UUID, claims: Claims, idempotent: Idempotent, rounds: Rounds
) -> JSONResponse:
    """Cash out at the multiplier of the instant the round receives this, if the round
    has not crashed by then (by its clock, not yours)."""

    async def cash() -> CashOutResponse:
        cashed = await rounds.cash_out(
            CashOutRequest(bet_id=str(bet_id), user_id=str(claims.user_id))
        )
        return CashOutResponse.of(cashed)

    return await idempotent.run(_CashOutCall(bet_id=bet_id), cash)
