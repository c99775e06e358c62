"""Request and response bodies of the play routes, with the examples /docs shows.

Amounts are decimal strings of minor units (wei, satoshi, token base units), never
numbers: JSON numbers lose precision above 2**53. Multipliers are exact fractions
("99/50") with a decimal rendering next to them for people.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from croupier.activities.betting import BetResult, CreditResult, RevealedSeeds, SeedView
from croupier.betting.bets import BetRecord
from croupier.games.verifier import MULTIPLIER_DECIMAL_PLACES, decimal_places
from croupier.ledger.balances import Balance, StatementLine
from croupier.workflows.mines import MinesView

MAX_PARAMS = 8
MinorUnits = Annotated[
    str,
    Field(
        pattern=r"^[1-9][0-9]{0,77}$",
        description="a positive amount in minor units (wei, satoshi, ...), as a decimal string",
        examples=["1000000000000000"],
    ),
]
CurrencyCode = Annotated[
    str, Field(min_length=2, max_length=10, description="ETH, BTC or USDT", examples=["ETH"])
]
ParamValue = str | int | list[int]
Params = Annotated[
    dict[Annotated[str, Field(max_length=32)], ParamValue],
    Field(max_length=MAX_PARAMS, description="the game's parameters; see docs/provably-fair.md"),
]


class BetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "game": "dice",
                    "currency": "ETH",
                    "amount": "1000000000000000",
                    "params": {"target": "50.50", "direction": "over"},
                },
                {
                    "game": "limbo",
                    "currency": "USDT",
                    "amount": "5000000",
                    "params": {"target": "2.50"},
                },
                {
                    "game": "plinko",
                    "currency": "BTC",
                    "amount": "10000",
                    "params": {"rows": 16, "risk": "high"},
                },
            ]
        },
    )

    game: Annotated[str, Field(min_length=1, max_length=32, examples=["dice"])]
    currency: CurrencyCode
    amount: MinorUnits
    params: Params


class OpenMinesRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"currency": "ETH", "amount": "1000000000000000", "mines": 3}]
        },
    )

    currency: CurrencyCode
    amount: MinorUnits
    mines: Annotated[int, Field(ge=1, le=24, description="mines hidden among the 25 tiles")]


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"tile": 12}]})

    tile: Annotated[int, Field(ge=0, le=24, description="0..24, row by row on the 5x5 board")]


class CashOutRequest(BaseModel):
    """No fields: the body is empty (``{}``)."""

    model_config = ConfigDict(extra="forbid")


class RotateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"currency": "ETH"}]})

    currency: CurrencyCode


class ClientSeedRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"currency": "ETH", "client_seed": "my-lucky-seed"}]},
    )

    currency: CurrencyCode
    client_seed: Annotated[
        str, Field(min_length=1, max_length=64, description="1-64 printable ASCII, no spaces")
    ]


class CreditRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"currency": "ETH", "amount": "1000000000000000000"}]},
    )

    currency: CurrencyCode
    amount: MinorUnits


class VerifyRequest(BaseModel):
    """Seeded games (dice, limbo, plinko, mines) take the server seed, client seed and
    nonce; crash takes the round's game hash and the published salt. ``params`` are
    the game's parameters; with the bet's choice in them the multiplier is computed too.

    Walking a crash hash chain to its published terminating hash takes up to a million
    hashings, so it is left to ``croupier verify`` on the player's own machine."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "server_seed": "5f" * 32,
                    "client_seed": "my-lucky-seed",
                    "nonce": 7,
                    "params": {"target": "50.50", "direction": "over"},
                }
            ]
        },
    )

    params: Params = Field(default_factory=dict)
    server_seed: Annotated[str, Field(max_length=64)] | None = None
    client_seed: Annotated[str, Field(max_length=64)] | None = None
    nonce: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    game_hash: Annotated[str, Field(max_length=64)] | None = None
    salt: Annotated[str, Field(max_length=128)] | None = None


class SeedsResponse(BaseModel):
    """A seed pair as the player may see it while it is active: its hash, never the seed."""

    seed_pair_id: uuid.UUID
    server_seed_hash: str
    client_seed: str
    nonce: int = Field(description="the nonce of the next bet")

    @classmethod
    def of(cls, seeds: SeedView) -> SeedsResponse:
        return cls(
            seed_pair_id=uuid.UUID(seeds.seed_pair_id),
            server_seed_hash=seeds.server_seed_hash,
            client_seed=seeds.client_seed,
            nonce=seeds.nonce,
        )


class FairnessResponse(BaseModel):
    currency: str
    active: SeedsResponse


class RevealedSeedsResponse(BaseModel):
    seed_pair_id: uuid.UUID
    server_seed: str
    server_seed_hash: str
    client_seed: str
    bets: int = Field(description="bets played with the pair: nonces 0 to bets - 1")

    @classmethod
    def of(cls, revealed: RevealedSeeds) -> RevealedSeedsResponse:
        return cls(
            seed_pair_id=uuid.UUID(revealed.seed_pair_id),
            server_seed=revealed.server_seed,
            server_seed_hash=revealed.server_seed_hash,
            client_seed=revealed.client_seed,
            bets=revealed.bets,
        )


class RotationResponse(BaseModel):
    currency: str
    revealed: RevealedSeedsResponse
    active: SeedsResponse


class BetResponse(BaseModel):
    """A bet with everything needed to verify it: POST the seeds, nonce and params to
    ``/verify/{game}`` once ``server_seed`` is revealed (after a rotation)."""

    id: uuid.UUID
    game: str
    currency: str
    amount: str
    params: dict[str, Any]
    status: str = Field(description="open (a mines game in play) or settled")
    outcome: dict[str, Any] | None
    multiplier: str | None = Field(description="exact payout multiplier, e.g. 99/50")
    multiplier_decimal: str | None
    payout: str | None = Field(description="minor units paid back (0 for a loss)")
    seed_pair_id: uuid.UUID
    server_seed_hash: str
    server_seed: str | None = Field(description="null until the seed pair is rotated out")
    client_seed: str
    nonce: int
    created_at: datetime
    settled_at: datetime | None

    @classmethod
    def of_result(cls, bet: BetResult, server_seed: str | None = None) -> BetResponse:
        return cls(
            id=uuid.UUID(bet.bet_id),
            game=bet.game,
            currency=bet.currency,
            amount=bet.amount,
            params=bet.params,
            status=bet.status,
            outcome=bet.outcome,
            multiplier=bet.multiplier,
            multiplier_decimal=_decimal(bet.multiplier),
            payout=bet.payout,
            seed_pair_id=uuid.UUID(bet.seed.seed_pair_id),
            server_seed_hash=bet.seed.server_seed_hash,
            server_seed=server_seed,
            client_seed=bet.seed.client_seed,
            nonce=bet.seed.nonce,
            created_at=bet.created_at,
            settled_at=bet.settled_at,
        )

    @classmethod
    def of_record(cls, bet: BetRecord) -> BetResponse:
        return cls.of_result(BetResult.of(bet), server_seed=bet.server_seed)


class MinesResponse(BaseModel):
    """A mines game. ``multiplier`` is what cashing out pays now; once the game is over,
    ``bet.outcome.mines`` shows where the mines were."""

    id: uuid.UUID
    status: str = Field(description="playing, won or lost")
    mines: int
    picks: list[int]
    multiplier: str
    multiplier_decimal: str
    ended_by: str | None = Field(description="cash_out, mine, cleared or timeout")
    bet: BetResponse

    @classmethod
    def of(cls, view: MinesView) -> MinesResponse:
        return cls(
            id=uuid.UUID(view.bet_id),
            status=view.status,
            mines=view.mines,
            picks=list(view.picks),
            multiplier=view.multiplier,
            multiplier_decimal=_decimal(view.multiplier) or "0",
            ended_by=view.ended_by,
            bet=BetResponse.of_result(view.bet),
        )


class BalanceResponse(BaseModel):
    currency: str
    available: str = Field(description="what a bet or withdrawal may use, in minor units")
    pending: str = Field(description="reserved by holds (withdrawals in progress)")
    posted: str

    @classmethod
    def of(cls, currency: str, balance: Balance | None) -> BalanceResponse:
        if balance is None:
            return cls(currency=currency, available="0", pending="0", posted="0")
        return cls(
            currency=currency,
            available=str(balance.available),
            pending=str(balance.pending),
            posted=str(balance.posted),
        )


class BalancesResponse(BaseModel):
    balances: list[BalanceResponse]


class StatementLineResponse(BaseModel):
    transfer_id: str
    type: str
    change: str = Field(description="signed minor units: positive credits the player")
    reference_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, line: StatementLine) -> StatementLineResponse:
        return cls(
            transfer_id=line.transfer_id,
            type=line.type.value,
            change=str(line.change),
            reference_id=line.reference_id,
            created_at=line.created_at,
        )


class StatementResponse(BaseModel):
    currency: str
    lines: list[StatementLineResponse]
    next_cursor: str | None = Field(description="pass as ?cursor= for older lines")


class CreditResponse(BaseModel):
    currency: str
    amount: str
    available: str

    @classmethod
    def of(cls, credit: CreditResult) -> CreditResponse:
        return cls(currency=credit.currency, amount=credit.amount, available=credit.balance)


def _decimal(multiplier: str | None) -> str | None:
    if multiplier is None:
        return None
    return decimal_places(Fraction(multiplier), MULTIPLIER_DECIMAL_PLACES)
