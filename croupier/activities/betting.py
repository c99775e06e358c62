"""Betting activities: thin adapters from workflow payloads to ``croupier.betting``.

The session and mines workflows run these as local activities: a bet settles inside
the workflow task that received it, without a round trip through an activity task
queue. Every one is idempotent by a business key (bet id, rotation id, credit id), so
a worker killed mid-call and a retry on another worker settle once.

Payloads carry amounts as decimal strings of minor units and ids as strings; the
server seed never appears in one until its pair is revealed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.bonus import WageringProgress
from croupier.activities.bonus_funding import BonusFunding
from croupier.activities.failures import maps_business_failures
from croupier.activities.gambling_guard import responsible_gambling_guard
from croupier.betting import seed_pairs
from croupier.betting.bets import BetRecord, SeedRef
from croupier.betting.errors import FaucetDisabled
from croupier.betting.sealing import SeedSealer
from croupier.betting.settlement import SeededBet, Settler
from croupier.core.clock import Clock
from croupier.core.money import Currency, parse_minor_units
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.balances import balance
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import transfer
from croupier.ledger.requests import TransferRequest


@dataclass(frozen=True)
class SeedView:
    """A seed pair as workflows and players may see it: never the unrevealed seed.
    ``nonce`` is the nonce of the bet at hand, or the next one for a session."""

    seed_pair_id: str
    server_seed_hash: str
    client_seed: str
    nonce: int

    def advanced(self) -> SeedView:
        return SeedView(self.seed_pair_id, self.server_seed_hash, self.client_seed, self.nonce + 1)


@dataclass(frozen=True)
class OpenSession:
    user_id: str
    currency: str


@dataclass(frozen=True)
class BetInput:
    bet_id: str
    user_id: str
    game: str
    currency: str
    amount: str
    params: dict[str, Any]
    seed: SeedView
    created_at: datetime
    # The player's active bonus, as the session knew it when the bet was placed (a
    # mines game: opened): its stake and payout then split with the bonus account and
    # the settled bet counts toward wagering.
    bonus_id: str | None = None


@dataclass(frozen=True)
class BetResult:
    """A bet as stored; ``outcome``, ``multiplier`` (an exact fraction such as "99/50"),
    ``payout`` and ``settled_at`` are None while it is open."""

    bet_id: str
    user_id: str
    game: str
    currency: str
    amount: str
    params: dict[str, Any]
    status: str
    seed: SeedView
    created_at: datetime
    outcome: dict[str, Any] | None = None
    multiplier: str | None = None
    payout: str | None = None
    settled_at: datetime | None = None
    # Set when the bet was wagered under a bonus (its session reports it onward).
    wagering: WageringProgress | None = None

    @classmethod
    def of(cls, bet: BetRecord) -> BetResult:
        assert bet.seed is not None, "session bets are seeded"
        return cls(
            bet_id=str(bet.id),
            user_id=str(bet.user_id),
            game=bet.game,
            currency=bet.currency.value,
            amount=str(bet.amount),
            params=dict(bet.params),
            status=bet.status.value,
            seed=SeedView(
                str(bet.seed.seed_pair_id),
                bet.seed.server_seed_hash,
                bet.seed.client_seed,
                bet.seed.nonce,
            ),
            created_at=bet.created_at,
            outcome=None if bet.outcome is None else dict(bet.outcome),
            multiplier=None if bet.multiplier is None else str(bet.multiplier),
            payout=None if bet.payout is None else str(bet.payout),
            settled_at=bet.settled_at,
        )


@dataclass(frozen=True)
class RevealResult:
    """``safe``: the game goes on, cashing out now pays ``multiplier``. Otherwise
    ``bet`` is the lost, settled bet."""

    safe: bool
    multiplier: str
    bet: BetResult | None = None


@dataclass(frozen=True)
class RotateInput:
    rotation_id: str
    user_id: str
    currency: str
    seed_pair_id: str
    client_seed: str | None = None


@dataclass(frozen=True)
class RevealedSeeds:
    seed_pair_id: str
    server_seed: str
    server_seed_hash: str
    client_seed: str
    bets: int


@dataclass(frozen=True)
class RotationResult:
    revealed: RevealedSeeds
    active: SeedView


@dataclass(frozen=True)
class CreditInput:
    credit_id: str
    user_id: str
    currency: str
    amount: str


@dataclass(frozen=True)
class CreditResult:
    credit_id: str
    currency: str
    amount: str
    balance: str


@dataclass
class BettingActivities:
    """Bound to the worker's engine, seed sealer and clock (no globals)."""

    engine: Engine
    sealer: SeedSealer
    clock: Clock
    dev_faucet_enabled: bool = False
    settler: Settler = field(init=False)

    def __post_init__(self) -> None:
        self.settler = Settler(
            self.engine, self.sealer, self.clock, responsible_gambling_guard(self.clock)
        )

    @activity.defn(name="betting.open_session")
    @maps_business_failures
    def open_session(self, request: OpenSession) -> SeedView:
        """The player's active seed pair and next nonce, creating the pair if needed."""
        pair = seed_pairs.open_pair(
            self.engine,
            self.sealer,
            uuid.UUID(request.user_id),
            Currency.parse(request.currency),
            self.clock,
        )
        return SeedView(str(pair.id), pair.server_seed_hash, pair.client_seed, pair.next_nonce)

    @activity.defn(name="betting.settle")
    @maps_business_failures
    def settle(self, request: BetInput) -> BetResult:
        if request.bonus_id is None:
            return BetResult.of(self.settler.settle(_seeded_bet(request)))
        funding = BonusFunding()
        settled = self.settler.settle(_seeded_bet(request), funding)
        return replace(BetResult.of(settled), wagering=funding.progress)

    @activity.defn(name="betting.open_game")
    @maps_business_failures
    def open_game(self, request: BetInput) -> BetResult:
        funding = None if request.bonus_id is None else BonusFunding()
        return BetResult.of(self.settler.open(_seeded_bet(request), funding))

    @activity.defn(name="betting.reveal")
    @maps_business_failures
    def reveal(self, request: BetInput) -> RevealResult:
        funding = None if request.bonus_id is None else BonusFunding()
        revealed = self.settler.reveal(_seeded_bet(request), funding)
        lost = None
        if revealed.bet is not None:
            progress = None if funding is None else funding.progress
            lost = replace(BetResult.of(revealed.bet), wagering=progress)
        return RevealResult(safe=revealed.safe, multiplier=str(revealed.multiplier), bet=lost)

    @activity.defn(name="betting.rotate_seeds")
    @maps_business_failures
    def rotate_seeds(self, request: RotateInput) -> RotationResult:
        rotation = seed_pairs.rotate(
            self.engine,
            self.sealer,
            user_id=uuid.UUID(request.user_id),
            currency=Currency.parse(request.currency),
            pair_id=uuid.UUID(request.seed_pair_id),
            rotation_id=uuid.UUID(request.rotation_id),
            client_seed=request.client_seed,
            clock=self.clock,
        )
        old, new = rotation.revealed, rotation.active
        return RotationResult(
            revealed=RevealedSeeds(
                str(old.id), old.server_seed, old.server_seed_hash, old.client_seed, old.bets
            ),
            active=SeedView(str(new.id), new.server_seed_hash, new.client_seed, new.next_nonce),
        )

    @activity.defn(name="betting.dev_credit")
    @maps_business_failures
    def dev_credit(self, request: CreditInput) -> CreditResult:
        """Free test funds from the promotions account; refused unless the worker's own
        settings enable the faucet, whatever the caller says."""
        if not self.dev_faucet_enabled:
            raise FaucetDisabled("the dev faucet is disabled on this worker")
        currency = Currency.parse(request.currency)
        cash = player_account(self.engine, request.user_id, AccountKind.PLAYER_CASH, currency)
        funding = system_account(self.engine, AccountKind.PROMOTIONS, currency)
        transfer(
            self.engine,
            TransferRequest(
                id=f"faucet-{request.credit_id}",
                debit_account_id=funding.id,
                credit_account_id=cash.id,
                amount=parse_minor_units(request.amount),
                currency=currency,
                type=TransferType.ADJUSTMENT,
                reference_id=f"faucet-{request.credit_id}",
                metadata={"reason": "dev faucet"},
            ),
        )
        return CreditResult(
            credit_id=request.credit_id,
            currency=currency.value,
            amount=request.amount,
            balance=str(balance(self.engine, cash.id).available),
        )


def _seeded_bet(request: BetInput) -> SeededBet:
    seed = request.seed
    return SeededBet(
        id=uuid.UUID(request.bet_id),
        user_id=uuid.UUID(request.user_id),
        game=request.game,
        currency=Currency.parse(request.currency),
        amount=parse_minor_units(request.amount),
        params=request.params,
        seed=SeedRef(
            uuid.UUID(seed.seed_pair_id), seed.server_seed_hash, seed.client_seed, seed.nonce
        ),
        created_at=request.created_at,
    )
