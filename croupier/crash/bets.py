"""Crash bets: the stake is taken when the bet is placed, the result comes at the crash.

A bet is a row of betting's ``bets`` table (game ``crash``, ``round_id`` = the round's
key) and a stake transfer ``bet-<id>-stake``, written in one transaction. Both are
keyed by the bet id, so placing the same bet twice writes nothing the second time;
placing it in another round is an ``IdempotencyConflict`` (the round is part of it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from croupier.betting.bets import BetRecord, BetStatus, record_bet
from croupier.betting.movements import BetAccounts, bet_accounts, stake_request
from croupier.core.money import Currency, check_minor_units
from croupier.crash.errors import BettingClosed
from croupier.crash.rounds import RoundKey, RoundStatus, select_round
from croupier.games.crash import Crash
from croupier.ledger.connections import Bind, transaction
from croupier.ledger.posting import transfer

# Bets one round takes: each is an update and an activity in the round's history (about
# six events), and all of them settle in one batch. 1,000 keeps a run near 10,000 events.
MAX_BETS_PER_ROUND = 1000


@dataclass(frozen=True, slots=True)
class CrashBet:
    id: uuid.UUID
    user_id: uuid.UUID
    currency: Currency
    amount: int
    round: RoundKey
    placed_at: datetime  # the workflow's clock; also picks the bets partition

    def __post_init__(self) -> None:
        check_minor_units(self.amount)
        assert self.placed_at.tzinfo is not None, "placed_at must be timezone-aware"

    def record(self) -> BetRecord:
        """The open bet row; params stay empty until a cash-out names its target."""
        return BetRecord(
            id=self.id,
            user_id=self.user_id,
            game=Crash.name,
            currency=self.currency,
            amount=self.amount,
            params={},
            created_at=self.placed_at,
            status=BetStatus.OPEN,
            round_id=self.round.id,
        )


def place_bet(bind: Bind, bet: CrashBet) -> BetAccounts:
    """Take the stake and record the open bet, or refuse (``InsufficientFunds``, a
    settled round). Returns the accounts the bet moves money between."""
    with transaction(bind) as conn:
        round_ = select_round(conn, bet.round, lock="share")
        if round_.status is not RoundStatus.OPEN:
            raise BettingClosed(f"round {bet.round.id} is settled; bet on the next one")
        record = bet.record()
        accounts = bet_accounts(conn, bet.user_id, bet.currency)
        transfer(conn, stake_request(record, accounts))
        record_bet(conn, record)
    return accounts
