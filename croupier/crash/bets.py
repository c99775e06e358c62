"""Crash bets: the stake is taken when the bet is placed, the result comes at the crash.

A bet is a row of betting's ``bets`` table (game ``crash``, ``round_id`` = the round's
key) and a stake transfer ``bet-<id>-stake``, written in one transaction. Both are
keyed by the bet id, so placing the same bet twice writes nothing the second time;
placing it in another round is an ``IdempotencyConflict`` (the round is part of it).

A new bet passes a guard first, in the same transaction (as betting's ``Settler`` does):
responsible-gambling limits live outside this package, and the activity layer provides
them. A bet placed already is not asked again: its stake is taken, and refusing its
replay would leave that stake with a bet the round never heard of.

A stake splitter (betting's ``StakeSplitter``; promotions provide it) may take part of
the stake from a second account of the player; the round's settlement then pays the
win back through the same splitter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from croupier.betting.bets import BetRecord, BetStatus, find_bet, record_bet
from croupier.betting.movements import BetAccounts, StakeSplitter, bet_accounts, take_stake
from croupier.core.money import Currency, check_minor_units
from croupier.crash.errors import BettingClosed
from croupier.crash.rounds import RoundKey, RoundStatus, select_round
from croupier.games.crash import Crash
from croupier.ledger.connections import Bind, transaction

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


# Called with the stake's connection before a NEW bet stakes anything; raises a typed
# error to refuse it.
CrashBetGuard = Callable[[Connection, CrashBet], None]


def allow_every_bet(conn: Connection, bet: CrashBet) -> None:
    """The guard that enforces no player restrictions (tests, tools)."""


def place_bet(
    bind: Bind,
    bet: CrashBet,
    guard: CrashBetGuard = allow_every_bet,
    splitter: StakeSplitter | None = None,
) -> BetAccounts:
    """Take the stake and record the open bet, or refuse (``InsufficientFunds``, a
    settled round, whatever ``guard`` or ``splitter`` refuses). ``splitter`` splits a
    new bet's stake (a placed one's again as it did); settle the round with it. Returns
    the accounts the bet moves money between."""
    with transaction(bind) as conn:
        round_ = select_round(conn, bet.round, lock="share")
        if round_.status is not RoundStatus.OPEN:
            raise BettingClosed(f"round {bet.round.id} is settled; bet on the next one")
        new = find_bet(conn, bet.id) is None
        if new:
            guard(conn, bet)
        record = bet.record()
        accounts = bet_accounts(conn, bet.user_id, bet.currency)
        split = None
        if splitter is not None:
            split = (splitter.stake if new else splitter.staked)(conn, record, accounts)
        take_stake(conn, record, accounts, split)
        record_bet(conn, record)
    return accounts
