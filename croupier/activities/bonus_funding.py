"""Bonus wagering applied where bets are staked and settled.

``croupier.betting`` and ``croupier.crash`` know nothing of bonuses; betting's
``Settler`` and crash's ``place_bet`` / ``settle_round`` take a stake splitter. This
module builds one from ``croupier.bonus.wagering``: inside the bet's transaction it
refuses a stake above the bonus's max bet, spends cash first and then bonus, pays a win
back pro rata and counts the settled bet toward wagering. The session passes it only
for a player with an active bonus (and a mines game only if its session knew of one),
so other bets run no extra query.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection

from croupier.activities.bonus import WageringProgress
from croupier.betting.bets import BetRecord
from croupier.betting.movements import BetAccounts, StakeSplit
from croupier.bonus.wagering import Funding, WageredBet, fund_bet, settle_staked

# Opposite dice bets this close together are a hedge (see croupier.bonus.patterns).
HEDGE_WINDOW = timedelta(seconds=60)


class BonusFunding:
    """A stake splitter for one call of a settlement (one bet, or a crash round's bets).

    Afterwards ``funded`` holds the bets staked under a bonus (bet id -> bonus id) and
    ``wagering`` where each bonus's wagering stands after the settled ones.
    """

    def __init__(self, hedge_window: timedelta = HEDGE_WINDOW) -> None:
        self._hedge_window = hedge_window
        self.funded: dict[str, str] = {}
        self.wagering: dict[str, WageringProgress] = {}

    @property
    def progress(self) -> WageringProgress | None:
        """Where the bonus stands after the one bet this splitter saw (None: the player
        had no active bonus after all)."""
        return next(iter(self.wagering.values()), None)

    def stake(self, conn: Connection, bet: BetRecord, accounts: BetAccounts) -> StakeSplit | None:
        funding = fund_bet(
            conn,
            WageredBet(
                bet_id=bet.id,
                user_id=bet.user_id,
                game=bet.game,
                currency=bet.currency,
                stake=bet.amount,
                payout=bet.payout,
                params=bet.params,
                placed_at=bet.created_at,
                settled_at=bet.settled_at,
                cash_account_id=accounts.player_cash_id,
            ),
            hedge_window=self._hedge_window,
        )
        return self._split(bet, funding)

    def staked(self, conn: Connection, bet: BetRecord, accounts: BetAccounts) -> StakeSplit | None:
        return self._split(bet, settle_staked(conn, bet.id, bet.payout, bet.settled_at))

    def _split(self, bet: BetRecord, funding: Funding | None) -> StakeSplit | None:
        if funding is None:
            return None
        bonus_id = str(funding.bonus_id)
        self.funded[str(bet.id)] = bonus_id
        if funding.settled:
            self.wagering[bonus_id] = WageringProgress(
                bonus_id, str(funding.wagered), str(funding.required)
            )
        split = funding.split
        return StakeSplit(
            funding.bonus_account_id,
            split.stake_bonus,
            split.payout_bonus,
            funding.payout_account_id,
        )
