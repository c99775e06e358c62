"""Request and response bodies of the payment routes.

Amounts are decimal strings of minor units (wei, token base units), never JSON numbers,
which lose precision above 2**53; ``*_decimal`` fields render them for people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from croupier.activities.addresses import AssignedAddress
from croupier.api.fields import MinorUnits, Reason
from croupier.core.money import Currency, format_decimal
from croupier.payments.deposits import DepositRecord
from croupier.workflows.withdrawal import WithdrawalView

CurrencyCode = Annotated[
    str, Field(min_length=2, max_length=10, description="ETH or USDT", examples=["ETH"])
]


class DepositAddressResponse(BaseModel):
    currency: str
    chain: str
    address: str

    @classmethod
    def of(cls, currency: Currency, assigned: AssignedAddress) -> DepositAddressResponse:
        return cls(currency=currency.value, chain=assigned.chain, address=assigned.address)


class DepositResponse(BaseModel):
    id: str
    currency: str
    amount: str
    amount_decimal: str
    status: str
    tx_hash: str
    address: str
    confirmations: int
    confirmations_required: int
    created_at: datetime
    credited_at: datetime | None
    # Why your limits hold (or held) it: a stable code and a sentence.
    hold_code: str | None = None
    hold_reason: str | None = None

    @classmethod
    def of(cls, record: DepositRecord) -> DepositResponse:
        return cls(
            id=record.id,
            currency=record.currency.value,
            amount=str(record.amount),
            amount_decimal=format_decimal(record.amount, record.currency),
            status=record.status.value,
            tx_hash=record.tx_hash,
            address=record.address,
            confirmations=record.confirmations,
            confirmations_required=record.confirmations_required,
            created_at=record.created_at,
            credited_at=record.credited_at,
            hold_code=record.hold_code,
            hold_reason=record.hold_reason,
        )


class DepositList(BaseModel):
    deposits: list[DepositResponse]


class WithdrawalRequestBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "currency": "ETH",
                    "amount": "50000000000000000",
                    "address": "0x52908400098527886E0F7030069857D2E4169EE7",
                }
            ]
        },
    )

    currency: CurrencyCode
    amount: MinorUnits
    address: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            description="the destination; a mixed-case Ethereum address must carry a valid "
            "EIP-55 checksum",
        ),
    ]


class EmptyBody(BaseModel):
    """What a request without a body fingerprints as, for its Idempotency-Key."""

    model_config = ConfigDict(extra="forbid")


class DecisionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "source of funds verified"}]},
    )

    reason: Reason


class WithdrawalResponse(BaseModel):
    id: str
    status: str
    currency: str
    amount: str
    fee: str | None
    address: str
    review_reasons: list[str]
    decided_by: str | None
    decision_reason: str | None
    tx_hash: str | None
    requested_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, view: WithdrawalView) -> WithdrawalResponse:
        return cls(
            id=view.withdrawal_id,
            status=view.status,
            currency=view.currency,
            amount=view.amount,
            fee=view.fee,
            address=view.to_address,
            review_reasons=list(view.review_reasons),
            decided_by=view.decided_by,
            decision_reason=view.decision_reason,
            tx_hash=view.tx_hash,
            requested_at=view.requested_at,
            updated_at=view.updated_at,
        )
