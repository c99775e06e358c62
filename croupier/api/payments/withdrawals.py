"""``/withdrawals``: request one, follow it, cancel it; ``/admin/withdrawals``: decide.

A request is checked here first (currency, minimum, address checksum: a 422 with
nothing held), then the Withdrawal workflow checks the daily limit and holds the funds
before this route answers: a refusal there (insufficient funds, over the limit) is a
4xx with nothing held too. The withdrawal id is derived from the ``Idempotency-Key``,
so a retried request finds the first withdrawal.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from croupier.api.auth.models import problem_responses
from croupier.api.idempotency import Idempotent
from croupier.api.payments.models import (
    DecisionBody,
    EmptyBody,
    WithdrawalRequestBody,
    WithdrawalResponse,
)
from croupier.api.payments.runtime import Payments, State
from croupier.api.rbac import Claims
from croupier.core.money import parse_minor_units
from croupier.identity.roles import Role
from croupier.payments.errors import WithdrawalNotFound
from croupier.payments.keys import withdrawal_id_for
from croupier.payments.rules import PaymentRules
from croupier.workflows.withdrawal import WithdrawalView

router = APIRouter(tags=["withdrawals"])


@router.post(
    "/withdrawals",
    status_code=202,
    response_model=WithdrawalResponse,
    responses=problem_responses(401, 403, 409, 422),
)
async def request_withdrawal(
    body: WithdrawalRequestBody,
    claims: Claims,
    idempotent: Idempotent,
    state: State,
    payments: Payments,
) -> JSONResponse:
    """Withdraw ``amount`` (minor units) of ``currency`` to ``address``.

    Answers once the amount plus the withdrawal fee is held: the status is then
    ``approved`` (sent automatically), ``awaiting_approval`` (compliance reviews it) or
    ``paused_by_circuit_breaker``. Follow it with ``GET /withdrawals/{id}``.
    """
    checked = PaymentRules(state.settings).check_request(
        body.currency, parse_minor_units(body.amount), body.address
    )
    withdrawal_id = withdrawal_id_for(claims.user_id, idempotent.key)

    async def submit() -> WithdrawalResponse:
        view = await payments.request_withdrawal(withdrawal_id, claims.user_id, checked)
        return WithdrawalResponse.of(view)

    return await idempotent.run(body, submit, status_code=202)


@router.get(
    "/withdrawals/{withdrawal_id}",
    response_model=WithdrawalResponse,
    responses=problem_responses(401, 403, 404),
)
async def read_withdrawal(
    withdrawal_id: uuid.UUID, claims: Claims, payments: Payments
) -> WithdrawalResponse:
    """A withdrawal in its current state, as its workflow sees it."""
    view = await _visible(payments, withdrawal_id, claims.user_id, claims.role)
    return WithdrawalResponse.of(view)


@router.post(
    "/withdrawals/{withdrawal_id}/cancel",
    response_model=WithdrawalResponse,
    responses=problem_responses(401, 403, 404, 409),
)
async def cancel_withdrawal(
    withdrawal_id: uuid.UUID, claims: Claims, idempotent: Idempotent, payments: Payments
) -> JSONResponse:
    """Cancel your withdrawal while it waits for a decision; the hold is released."""

    async def cancel() -> WithdrawalResponse:
        view = await payments.cancel_withdrawal(withdrawal_id, claims.user_id)
        return WithdrawalResponse.of(view)

    return await idempotent.run(EmptyBody(), cancel)


@router.post(
    "/admin/withdrawals/{withdrawal_id}/approve",
    status_code=202,
    response_model=WithdrawalResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def approve_withdrawal(
    withdrawal_id: uuid.UUID,
    body: DecisionBody,
    claims: Claims,
    idempotent: Idempotent,
    payments: Payments,
) -> JSONResponse:
    """Approve a withdrawal that awaits compliance (signal ``approve``); it is then sent."""
    return await _decide(withdrawal_id, body, claims, idempotent, payments, approve=True)


@router.post(
    "/admin/withdrawals/{withdrawal_id}/reject",
    status_code=202,
    response_model=WithdrawalResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reject_withdrawal(
    withdrawal_id: uuid.UUID,
    body: DecisionBody,
    claims: Claims,
    idempotent: Idempotent,
    payments: Payments,
) -> JSONResponse:
    """Reject a withdrawal that awaits compliance (signal ``reject``); its hold is released."""
    return await _decide(withdrawal_id, body, claims, idempotent, payments, approve=False)


async def _decide(
    withdrawal_id: uuid.UUID,
    body: DecisionBody,
    claims: Claims,
    idempotent: Idempotent,
    payments: Payments,
    *,
    approve: bool,
) -> JSONResponse:
    async def decide() -> WithdrawalResponse:
        view = await payments.decide_withdrawal(
            withdrawal_id, approve=approve, staff_id=claims.user_id, reason=body.reason
        )
        return WithdrawalResponse.of(view)

    return await idempotent.run(body, decide, status_code=202)


async def _visible(
    payments: Payments, withdrawal_id: uuid.UUID, user_id: uuid.UUID, role: Role
) -> WithdrawalView:
    """The withdrawal if the caller may see it: a player only their own (someone else's
    is as unknown as one that does not exist); staff any."""
    view = await payments.withdrawal(withdrawal_id)
    if role is Role.PLAYER and view.user_id != str(user_id):
        raise WithdrawalNotFound("no such withdrawal")
    return view
