"""The credited deposit a pending deposit match takes when it asks, rather than being
told: the Deposit workflow signals the player's pending match once it credits a deposit,
but a deposit credited before the match's workflow exists finds nobody listening. The
activation then looks the deposit up itself, under the same rules as a signalled one.

A deposit qualifies a match at most once: ``bonuses.deposit_id`` is unique
(``0004_bonus_deposit_once``), so the same deposit arriving twice (looked up and
signalled), or offered to a later bonus, grants once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, exists, select

from croupier.bonus.offers import offer_named
from croupier.bonus.records import BonusRecord
from croupier.bonus.tables import bonuses
from croupier.payments.states import DepositStatus
from croupier.payments.tables import deposits


@dataclass(frozen=True, slots=True)
class QualifyingDeposit:
    deposit_id: str
    amount: int
    from_address: str | None


def credited_since_claim(conn: Connection, bonus: BonusRecord) -> QualifyingDeposit | None:
    """The player's first deposit in the bonus's currency credited within its deposit
    window (from the claim to ``expires_at``), large enough to qualify and not yet
    taken by any bonus; None if there is none."""
    offer = offer_named(bonus.offer)
    taken = exists().where(bonuses.c.deposit_id == deposits.c.id)
    row = conn.execute(
        select(deposits.c.id, deposits.c.amount, deposits.c.from_address)
        .where(
            deposits.c.user_id == bonus.user_id,
            deposits.c.currency == bonus.currency.value,
            deposits.c.status == DepositStatus.CREDITED.value,
            deposits.c.credited_at >= bonus.claimed_at,
            deposits.c.credited_at <= bonus.expires_at,
            deposits.c.amount >= offer.min_deposit(bonus.currency),
            ~taken,
        )
        .order_by(deposits.c.credited_at, deposits.c.id)
        .limit(1)
    ).one_or_none()
    if row is None:
        return None
    return QualifyingDeposit(row.id, int(row.amount), row.from_address)
