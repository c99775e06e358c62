"""Responsible-gambling limits applied where bets are settled.

``croupier.betting`` knows nothing of compliance; its ``Settler`` takes a guard. This
module builds that guard from the compliance rules, so a self-excluded or cooling-off
player, or one whose loss limit the stake would cross, is refused inside the same
transaction that would have taken the stake. Withdrawals never pass through here.
"""

from __future__ import annotations

from sqlalchemy import Connection

from croupier.betting.bets import net_loss
from croupier.betting.settlement import BetGuard, SeededBet
from croupier.compliance.limits import check_bet, gambling_restrictions
from croupier.core.clock import Clock


def responsible_gambling_guard(clock: Clock) -> BetGuard:
    def guard(conn: Connection, bet: SeededBet) -> None:
        restrictions = gambling_restrictions(conn, bet.user_id)
        now = clock.now()
        losses = {
            period: net_loss(conn, bet.user_id, bet.currency, now - period.window)
            for period in restrictions.loss_periods(bet.currency)
        }
        check_bet(
            restrictions,
            now=now,
            currency=bet.currency,
            stake_minor=bet.amount,
            net_loss_minor=losses,
        )

    return guard
