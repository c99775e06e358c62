"""``/deposits``: the player's deposit address and their deposits (pending to credited)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from croupier.activities.addresses import AssignedAddress
from croupier.api.auth.models import problem_responses
from croupier.api.auth.runtime import auth_runtime
from croupier.api.payments.models import DepositAddressResponse, DepositList, DepositResponse
from croupier.api.payments.runtime import Payments, State
from croupier.api.rbac import Claims
from croupier.compliance.limits import gambling_restrictions
from croupier.payments.addresses import find_deposit_address
from croupier.payments.deposits import MAX_PAGE_SIZE, list_deposits
from croupier.payments.rules import PaymentRules

router = APIRouter(tags=["deposits"])
DEFAULT_PAGE_SIZE = 50


@router.get(
    "/deposits/address",
    response_model=DepositAddressResponse,
    responses=problem_responses(401, 403, 422),
)
async def deposit_address(
    currency: Annotated[str, Query(min_length=2, max_length=10, examples=["ETH"])],
    claims: Claims,
    state: State,
    payments: Payments,
    request: Request,
) -> DepositAddressResponse:
    """Your address for deposits of ``currency`` (ETH and USDT share one on Ethereum).

    It is yours for good: derived from the casino's HD seed at your own index, so send
    as often as you like. A deposit shows in ``GET /deposits`` once it is in a block,
    and is credited after the required confirmations, unless your own limits hold it
    (``held``, with the reason) until they admit it. While you are self-excluded or
    cooling off, no address is given (403 ``self_excluded`` / ``cooling_off``).
    """
    chosen = PaymentRules(state.settings).depositable(currency)
    now = auth_runtime(request).clock.now()
    await run_in_threadpool(_refuse_if_excluded, state.engine, claims.user_id, now)
    found = await run_in_threadpool(
        find_deposit_address, state.engine, claims.user_id, chosen.chain
    )
    if found is None:
        assigned = await payments.deposit_address(claims.user_id, chosen.chain)
    else:
        assigned = AssignedAddress(str(found.user_id), found.chain, found.address, found.hd_index)
    return DepositAddressResponse.of(chosen, assigned)


def _refuse_if_excluded(engine: Engine, user_id: uuid.UUID, now: datetime) -> None:
    """A self-excluded or cooling-off player is given no address to deposit to (coins
    sent to one they already know are held, not credited: see the Deposit workflow)."""
    with engine.connect() as conn:
        refusal = gambling_restrictions(conn, user_id).blocking_exclusion(now)
    if refusal is not None:
        raise refusal


@router.get("/deposits", response_model=DepositList, responses=problem_responses(401, 403))
async def deposits(
    claims: Claims,
    state: State,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> DepositList:
    """Your deposits, newest first: pending, confirming, credited, orphaned or dust."""
    records = await run_in_threadpool(
        lambda: list_deposits(state.engine, claims.user_id, limit=limit)
    )
    return DepositList(deposits=[DepositResponse.of(record) for record in records])
