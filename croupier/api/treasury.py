"""``/admin/refills``: ask cold storage to refill the hot wallet, approve it twice, submit
the transaction signed offline, follow it.

Cold keys are never on these machines. A refill (raised here by treasury staff, or by the
Sweep when the hot wallet falls below its floor) needs approvals from two different
treasury staff; then someone signs the transfer offline, broadcasts it and submits its
hash here, and the Refill workflow follows it to its confirmations and books it. These
routes only start, signal, update and query that workflow.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from croupier.api.auth.models import problem_responses
from croupier.api.fields import MinorUnits, Reason
from croupier.api.idempotency import Idempotent
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.core.money import Currency, format_decimal, parse_minor_units
from croupier.sweeps.errors import NoHotWalletPolicy
from croupier.sweeps.keys import refill_id_for
from croupier.workflows.refill import RefillView
from croupier.workflows.treasury_client import TreasuryClient

router = APIRouter(tags=["treasury"])


def treasury_client(request: Request) -> TreasuryClient:
    state = app_state(request)
    return TreasuryClient(state.temporal, state.settings.temporal_task_queue)


Treasury = Annotated[TreasuryClient, Depends(treasury_client)]
State = Annotated[AppState, Depends(app_state)]


class RefillRequestBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"currency": "ETH", "amount": "5000000000000000000", "reason": "payday payouts"}
            ]
        },
    )

    currency: str = Field(min_length=2, max_length=10, examples=["ETH"])
    amount: MinorUnits
    reason: Reason


class RefillDecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class RefillTransactionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tx_hash: str = Field(
        pattern=r"^(0x)?[0-9a-fA-F]{64}$",
        description="the hash of the transfer from the cold address, signed offline and "
        "broadcast: 0x and 64 hex digits on Ethereum, 64 hex digits (the txid) on Bitcoin",
    )


class RefillResponse(BaseModel):
    id: str
    chain: str
    currency: str
    amount: str
    amount_decimal: str
    status: str = Field(
        description="requested, awaiting_approval, awaiting_transaction, confirming, "
        "completed, expired or refused"
    )
    requested_by: str
    reason: str
    approvals: list[str] = Field(description="staff ids, in order; two distinct are needed")
    ignored_approvals: int = Field(description="repeat approvals by the same person")
    cold_address: str | None
    hot_address: str | None
    tx_hash: str | None
    confirmations: int
    expires_at: datetime | None
    refusal_code: str | None
    refusal: str | None

    @classmethod
    def of(cls, view: RefillView) -> RefillResponse:
        return cls(
            id=view.refill_id,
            chain=view.chain,
            currency=view.currency,
            amount=view.amount,
            amount_decimal=format_decimal(int(view.amount), Currency(view.currency)),
            status=view.status,
            requested_by=view.requested_by,
            reason=view.reason,
            approvals=list(view.approvals),
            ignored_approvals=view.ignored_approvals,
            cold_address=view.cold_address,
            hot_address=view.hot_address,
            tx_hash=view.tx_hash,
            confirmations=view.confirmations,
            expires_at=view.expires_at,
            refusal_code=view.refusal_code,
            refusal=view.refusal,
        )


@router.post(
    "/admin/refills",
    status_code=201,
    response_model=RefillResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 409, 422),
)
async def raise_refill(
    body: RefillRequestBody,
    claims: Claims,
    idempotent: Idempotent,
    state: State,
    treasury: Treasury,
) -> JSONResponse:
    """Ask for ``amount`` of ``currency`` from the cold wallet into the hot wallet. One
    refill per currency is open at a time (409 otherwise)."""
    currency = Currency.parse(body.currency)
    amount = parse_minor_units(body.amount)
    if currency.value not in state.settings.treasury_hot_wallets:
        raise NoHotWalletPolicy(f"{currency} has no hot wallet limits or cold address")
    refill_id = refill_id_for(claims.user_id, idempotent.key)

    async def start() -> RefillResponse:
        view = await treasury.raise_refill(
            refill_id,
            claims.user_id,
            chain=currency.chain,
            currency=currency,
            amount=amount,
            reason=body.reason,
        )
        return RefillResponse.of(view)

    return await idempotent.run(body, start, status_code=201)


@router.get(
    "/admin/refills/{refill_id}",
    response_model=RefillResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 404),
)
async def read_refill(refill_id: uuid.UUID, treasury: Treasury) -> RefillResponse:
    return RefillResponse.of(await treasury.refill(refill_id))


@router.post(
    "/admin/refills/{refill_id}/approve",
    status_code=202,
    response_model=RefillResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def approve_refill(
    refill_id: uuid.UUID,
    body: RefillDecisionBody,
    claims: Claims,
    idempotent: Idempotent,
    treasury: Treasury,
) -> JSONResponse:
    """Approve a refill (signal ``approve``). Two different treasury staff must approve;
    approving twice yourself is refused (409 ``refill_already_approved_by_you``)."""

    async def approve() -> RefillResponse:
        view = await treasury.approve_refill(refill_id, claims.user_id, body.reason)
        return RefillResponse.of(view)

    return await idempotent.run(body, approve, status_code=202)


@router.post(
    "/admin/refills/{refill_id}/tx",
    response_model=RefillResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def submit_refill_transaction(
    refill_id: uuid.UUID,
    body: RefillTransactionBody,
    claims: Claims,
    idempotent: Idempotent,
    treasury: Treasury,
) -> JSONResponse:
    """The approved refill's transaction, signed offline and broadcast: accepted only if
    the node has it and it moves exactly the approved amount from the cold address to
    the hot wallet (422 otherwise); then followed to its confirmations."""

    async def submit() -> RefillResponse:
        view = await treasury.submit_transaction(refill_id, claims.user_id, body.tx_hash)
        return RefillResponse.of(view)

    return await idempotent.run(body, submit)
