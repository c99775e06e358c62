"""``/admin/deposits``: compliance's queue of held deposits, and releasing one.

A deposit the player's limits refuse is held by its Deposit workflow (confirmed, not
credited). Compliance lists them here and may release one: the route sends the
workflow's ``release`` signal with the staff member's id (from the token) and reason;
the workflow credits the deposit and writes the audit row in the credit's transaction.
The route moves no money itself.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from croupier.api.auth.models import problem_responses
from croupier.api.idempotency import Idempotent
from croupier.api.payments.models import DecisionBody, DepositResponse
from croupier.api.payments.runtime import Payments, State
from croupier.api.rbac import Claims
from croupier.payments.deposits import MAX_PAGE_SIZE, DepositRecord, get_deposit, held_deposits
from croupier.payments.errors import DepositNotHeld
from croupier.payments.states import DepositStatus

router = APIRouter(tags=["admin"])
DEFAULT_PAGE_SIZE = 50
DepositId = Annotated[str, Path(min_length=1, max_length=200, examples=["deposit-eth-0xab-0"])]


class HeldDepositResponse(DepositResponse):
    """A deposit as staff see it: whose it is, besides what the player sees."""

    user_id: uuid.UUID

    @classmethod
    def of(cls, record: DepositRecord) -> HeldDepositResponse:
        return cls(**DepositResponse.of(record).model_dump(), user_id=record.user_id)


class HeldDepositList(BaseModel):
    deposits: list[HeldDepositResponse]


@router.get(
    "/admin/deposits/held",
    response_model=HeldDepositList,
    responses=problem_responses(401, 403, 422),
)
async def list_held_deposits(
    state: State,
    user_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> HeldDepositList:
    """Deposits held by their player's limits (``hold_code`` says which), oldest first;
    ``user_id`` narrows it to one player."""
    records = await run_in_threadpool(
        lambda: held_deposits(state.engine, user_id=user_id, limit=limit)
    )
    return HeldDepositList(deposits=[HeldDepositResponse.of(record) for record in records])


@router.post(
    "/admin/deposits/{deposit_id}/release",
    status_code=202,
    response_model=HeldDepositResponse,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def release_deposit(
    deposit_id: DepositId,
    body: DecisionBody,
    claims: Claims,
    idempotent: Idempotent,
    state: State,
    payments: Payments,
) -> JSONResponse:
    """Credit a held deposit now, whatever the player's limits say (signal ``release``):
    for a self-excluded player, so they can withdraw it. Answers once the workflow has
    the release, with the deposit as it then stands (``credited`` a moment later)."""

    async def release() -> HeldDepositResponse:
        record = await run_in_threadpool(get_deposit, state.engine, deposit_id)
        if record.status is not DepositStatus.HELD:
            raise DepositNotHeld(f"deposit {deposit_id} is {record.status.value}, not held")
        await payments.release_deposit(deposit_id, staff_id=claims.user_id, reason=body.reason)
        released = await run_in_threadpool(get_deposit, state.engine, deposit_id)
        return HeldDepositResponse.of(released)

    return await idempotent.run(body, release, status_code=202)
