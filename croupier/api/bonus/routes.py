"""``/bonuses``: offers, a player's bonuses with their wagering progress, claims and
forfeits; ``/bonuses/vip``: VIP level and accrued cashback and rakeback;
``/admin/bonuses``: a staff grant, written to the audit log.

A claim is written to the database first (the abuse rules are decided there, in one
transaction), then its Bonus workflow is started; a retry with the same
Idempotency-Key finds the claim (its id derives from the key) and starts the same
workflow, which Temporal dedupes by id.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from croupier.activities.bonus import BonusView
from croupier.api.auth.models import problem_responses
from croupier.api.auth.runtime import auth_runtime
from croupier.api.bonus.models import (
    BonusesResponse,
    BonusResponse,
    ClaimBody,
    OfferResponse,
    StaffGrantBody,
    VipLevelResponse,
    VipResponse,
)
from croupier.api.idempotency import Idempotent
from croupier.api.play.runtime import action_id
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.bonus.claims import ClaimRequest, claim_bonus, grant_by_staff
from croupier.bonus.errors import BonusNotFound
from croupier.bonus.offers import OFFERS, offer_named
from croupier.bonus.records import BonusRecord, get_bonus, player_bonuses
from croupier.bonus.rewards import RewardTerms, vip_status
from croupier.core.money import Currency
from croupier.workflows.bonus import BonusInput, BonusWorkflow, Forfeit, workflow_id
from croupier.workflows.refusals import answered

router = APIRouter(tags=["bonuses"])
State = Annotated[AppState, Depends(app_state)]
CALL_TIMEOUT_S = 10.0


@router.get("/bonuses", response_model=BonusesResponse, responses=problem_responses(401, 403))
async def list_bonuses(claims: Claims, state: State) -> BonusesResponse:
    """The offers, and your latest bonuses with their wagering progress."""
    records = await run_in_threadpool(player_bonuses, state.engine, claims.user_id)
    views = [await _progress(state.temporal, record) for record in records]
    return BonusesResponse(
        offers=[OfferResponse.of(offer) for offer in OFFERS.values()],
        bonuses=[BonusResponse.of(view) for view in views],
    )


@router.get("/bonuses/vip", response_model=VipResponse, responses=problem_responses(401, 403))
async def vip(claims: Claims, state: State, request: Request) -> VipResponse:
    """Your VIP level per currency (from lifetime wagered volume; it sets your rakeback
    percent of the house edge), and the cashback and rakeback the running period has
    earned so far, paid in cash after it ends."""
    settings = state.settings
    terms = RewardTerms(cashback_percent=settings.bonus_cashback_percent)
    now = auth_runtime(request).clock.now()

    def standing() -> list[VipLevelResponse]:
        return [
            VipLevelResponse.of(
                vip_status(
                    state.engine,
                    claims.user_id,
                    currency,
                    terms,
                    now=now,
                    period_s=settings.bonus_reward_period_s,
                )
            )
            for currency in Currency
        ]

    levels = await run_in_threadpool(standing)
    return VipResponse(cashback_percent=terms.cashback_percent, levels=levels)


@router.post(
    "/bonuses",
    status_code=201,
    response_model=BonusResponse,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def claim(
    body: ClaimBody, claims: Claims, idempotent: Idempotent, state: State, request: Request
) -> JSONResponse:
    """Claim an offer. A deposit match waits for your next qualifying deposit; a free
    bet is credited to your bonus balance at once."""

    async def claim_() -> BonusResponse:
        bonus_request = _claim_request(
            request, state, action_id(claims.user_id, idempotent.key), claims.user_id, body
        )
        bonus = await run_in_threadpool(claim_bonus, state.engine, bonus_request)
        await _start(state, bonus)
        return BonusResponse.of(BonusView.of(bonus))

    return await idempotent.run(body, claim_, status_code=201)


@router.post(
    "/bonuses/{bonus_id}/forfeit",
    status_code=202,
    response_model=BonusResponse,
    responses=problem_responses(401, 403, 404),
)
async def forfeit(bonus_id: uuid.UUID, claims: Claims, state: State) -> BonusResponse:
    """Give the bonus up: what is left of it returns to the casino (a bonus whose
    wagering is already complete is released to you instead)."""
    bonus = await _own_bonus(state, claims.user_id, bonus_id)
    if bonus.status.open:
        handle = state.temporal.get_workflow_handle(workflow_id(str(bonus.id)))
        await answered(
            lambda: handle.signal(BonusWorkflow.forfeit, Forfeit("cancelled")),
            timeout_s=CALL_TIMEOUT_S,
            not_found=BonusNotFound(f"bonus {bonus_id} has no running workflow"),
        )
    return BonusResponse.of(BonusView.of(bonus))


@router.post(
    "/admin/bonuses",
    status_code=201,
    response_model=BonusResponse,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def staff_grant(
    body: StaffGrantBody, claims: Claims, idempotent: Idempotent, state: State, request: Request
) -> JSONResponse:
    """Grant a player a bonus (support goodwill, VIP care); recorded in the audit log."""

    async def grant_() -> BonusResponse:
        bonus_id = action_id(claims.user_id, idempotent.key)
        claim_request = _claim_request(
            request,
            state,
            bonus_id,
            body.user_id,
            ClaimBody(offer=body.offer, currency=body.currency),
        )
        bonus = await run_in_threadpool(
            lambda: grant_by_staff(
                state.engine, claim_request, staff_id=claims.user_id, reason=body.reason
            )
        )
        await _start(state, bonus)
        return BonusResponse.of(BonusView.of(bonus))

    return await idempotent.run(body, grant_, status_code=201)


def _claim_request(
    request: Request, state: AppState, bonus_id: uuid.UUID, user_id: uuid.UUID, body: ClaimBody
) -> ClaimRequest:
    return ClaimRequest(
        bonus_id=bonus_id,
        user_id=user_id,
        offer=offer_named(body.offer),
        currency=Currency.parse(body.currency),
        claimed_at=auth_runtime(request).clock.now(),
        cooldown=timedelta(seconds=state.settings.bonus_claim_cooldown_s),
        game_weights=dict(state.settings.bonus_game_weights),
        device_fingerprint=body.device_fingerprint,
    )


async def _start(state: AppState, bonus: BonusRecord) -> None:
    bonus_id = str(bonus.id)
    await answered(
        lambda: state.temporal.start_workflow(
            BonusWorkflow.run,
            BonusInput(
                bonus_id=bonus_id, user_id=str(bonus.user_id), currency=bonus.currency.value
            ),
            id=workflow_id(bonus_id),
            task_queue=state.settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=(
                f"{bonus.offer} bonus of player {bonus.user_id} in {bonus.currency.value}"
            ),
        ),
        timeout_s=CALL_TIMEOUT_S,
        not_found=BonusNotFound(f"bonus {bonus_id} could not be started"),
    )


async def _progress(client: Client, bonus: BonusRecord) -> BonusView:
    """An open bonus as its workflow sees it (wagering reported after each bet); an
    ended one, or one whose workflow cannot answer now, as the database holds it."""
    stored = BonusView.of(bonus)
    if not bonus.status.open:
        return stored
    try:
        view = await client.get_workflow_handle(workflow_id(stored.bonus_id)).query(
            BonusWorkflow.progress, rpc_timeout=timedelta(seconds=CALL_TIMEOUT_S)
        )
    except RPCError:
        return stored
    return view or stored


async def _own_bonus(state: AppState, user_id: uuid.UUID, bonus_id: uuid.UUID) -> BonusRecord:
    bonus = await run_in_threadpool(get_bonus, state.engine, bonus_id)
    if bonus.user_id != user_id:
        raise BonusNotFound(f"bonus {bonus_id} does not exist")
    return bonus
