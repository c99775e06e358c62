"""Granting a bonus and ending it: the money movements of the Bonus workflow.

Each step locks the bonus row, so it is ordered with the bets that wager the bonus
(the settlement hook locks the same row), and is idempotent: the ledger transfer ids
are business keys (``bonus-<id>-grant``, ``-release``, ``-return``), and a step whose
state change is already made returns the stored bonus.

Money paths:

- grant: promotions -> player bonus (the whole bonus amount);
- release (wagering complete): player bonus -> player cash up to the max conversion,
  the rest player bonus -> promotions;
- forfeit or expiry: player bonus -> promotions (everything left).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, update
from sqlalchemy.exc import IntegrityError

from croupier.bonus.deposits import QualifyingDeposit, credited_since_claim
from croupier.bonus.errors import BonusNotOpen, WelcomeBonusTaken
from croupier.bonus.offers import BonusKind, offer_named
from croupier.bonus.records import BonusRecord, BonusStatus, get_bonus
from croupier.bonus.rules import convert, deposit_match
from croupier.bonus.tables import bonus_claims, bonuses
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.balances import balance
from croupier.ledger.connections import Bind, transaction
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import transfer
from croupier.ledger.requests import TransferRequest

# The unique index that lets a deposit qualify one deposit match (``0004_bonus_deposit_once``).
_DEPOSIT_ONCE = "uq_bonuses_deposit_id"


class Ending(StrEnum):
    """Why the workflow ends a bonus. Whatever it asks, a bonus whose wagering is
    complete is released: the player earned it before the forfeit or expiry landed."""

    COMPLETED = "completed"
    FORFEITED = "forfeited"
    EXPIRED = "expired"


def activate(
    bind: Bind, bonus_id: uuid.UUID, *, now: datetime, deposit: QualifyingDeposit | None = None
) -> BonusRecord:
    """Grant a pending bonus: move its amount from promotions to the player's bonus
    account and start its expiry clock. A deposit match needs its deposit: the one it
    is given (signalled), else the first credited since the claim that no bonus took
    (``credited_since_claim``). One below the offer's minimum, or one another bonus
    already took, leaves the bonus pending (a later deposit may qualify).

    A welcome match whose deposit came from an address another welcome claim used is
    refused (``WelcomeBonusTaken``) and the bonus stays pending for the workflow to end.
    """
    with transaction(bind) as conn:
        bonus = get_bonus(conn, bonus_id, for_update=True)
        if bonus.status is not BonusStatus.PENDING:
            return bonus
        if deposit is None and bonus.kind is BonusKind.DEPOSIT_MATCH:
            deposit = credited_since_claim(conn, bonus)
        amount = _grant_amount(bonus, deposit)
        if amount == 0:
            return bonus
        if deposit is not None:
            if not _take_deposit(conn, bonus_id, deposit):
                return bonus
            _claim_deposit_address(conn, bonus_id, deposit)
        bonus_account = player_account(
            conn, str(bonus.user_id), AccountKind.PLAYER_BONUS, bonus.currency
        )
        funding = system_account(conn, AccountKind.PROMOTIONS, bonus.currency)
        _move(conn, bonus, "grant", funding.id, bonus_account.id, amount, TransferType.BONUS)
        conn.execute(
            update(bonuses)
            .where(bonuses.c.id == bonus_id)
            .values(
                status=BonusStatus.ACTIVE.value,
                amount=amount,
                wagering_required=bonus.terms.requirement(amount),
                activated_at=now,
                expires_at=now + timedelta(seconds=bonus.terms.expires_after_s),
            )
        )
        return get_bonus(conn, bonus_id)


def finish(bind: Bind, bonus_id: uuid.UUID, ending: Ending, *, now: datetime) -> BonusRecord:
    """End an open bonus: release it when its wagering is complete, else return what
    is left of it to promotions. Ending an ended bonus returns it as it ended."""
    with transaction(bind) as conn:
        bonus = get_bonus(conn, bonus_id, for_update=True)
        if not bonus.status.open:
            return bonus
        if bonus.status is BonusStatus.WAGERED:
            return _release(conn, bonus, now)
        if ending is Ending.COMPLETED:
            raise BonusNotOpen(f"bonus {bonus_id} has not completed its wagering")
        status = BonusStatus.EXPIRED if ending is Ending.EXPIRED else BonusStatus.FORFEITED
        return _return(conn, bonus, status, now)


def _grant_amount(bonus: BonusRecord, deposit: QualifyingDeposit | None) -> int:
    if bonus.kind is BonusKind.FREE_BET:
        return bonus.amount
    if deposit is None:
        return 0
    offer = offer_named(bonus.offer)
    if deposit.amount < offer.min_deposit(bonus.currency):
        return 0
    return deposit_match(deposit.amount, offer.match_percent, offer.amount(bonus.currency))


def _take_deposit(conn: Connection, bonus_id: uuid.UUID, deposit: QualifyingDeposit) -> bool:
    """Record the deposit on the bonus; False if another bonus already took it (its
    unique index decides, so a deposit qualifies one match, whichever way it came)."""
    try:
        with conn.begin_nested():
            conn.execute(
                update(bonuses)
                .where(bonuses.c.id == bonus_id)
                .values(deposit_id=deposit.deposit_id)
            )
    except IntegrityError as error:
        if _DEPOSIT_ONCE not in str(error.orig):
            raise
        return False
    return True


def _claim_deposit_address(
    conn: Connection, bonus_id: uuid.UUID, deposit: QualifyingDeposit
) -> None:
    if deposit.from_address is None:
        return
    try:
        with conn.begin_nested():
            conn.execute(
                update(bonus_claims)
                .where(bonus_claims.c.bonus_id == bonus_id)
                .values(deposit_from_address=deposit.from_address.lower())
            )
    except IntegrityError:
        raise WelcomeBonusTaken(
            "a welcome bonus was already claimed with a deposit from this address"
        ) from None


def _release(conn: Connection, bonus: BonusRecord, now: datetime) -> BonusRecord:
    bonus_account, funding = _accounts(conn, bonus)
    held = balance(conn, bonus_account).posted
    conversion = convert(held, bonus.terms.max_conversion)
    cash = player_account(conn, str(bonus.user_id), AccountKind.PLAYER_CASH, bonus.currency)
    _move(
        conn,
        bonus,
        "release",
        bonus_account,
        cash.id,
        conversion.to_cash,
        TransferType.BONUS_RELEASE,
    )
    _move(
        conn,
        bonus,
        "return",
        bonus_account,
        funding,
        conversion.to_house,
        TransferType.BONUS_FORFEIT,
    )
    return _close(conn, bonus, BonusStatus.RELEASED, now, conversion.to_cash, conversion.to_house)


def _return(
    conn: Connection, bonus: BonusRecord, status: BonusStatus, now: datetime
) -> BonusRecord:
    left = 0
    if bonus.status is BonusStatus.ACTIVE:
        bonus_account, funding = _accounts(conn, bonus)
        left = balance(conn, bonus_account).posted
        _move(conn, bonus, "return", bonus_account, funding, left, TransferType.BONUS_FORFEIT)
    return _close(conn, bonus, status, now, 0, left)


def _accounts(conn: Connection, bonus: BonusRecord) -> tuple[int, int]:
    bonus_account = player_account(
        conn, str(bonus.user_id), AccountKind.PLAYER_BONUS, bonus.currency
    )
    funding = system_account(conn, AccountKind.PROMOTIONS, bonus.currency)
    return bonus_account.id, funding.id


def _move(
    conn: Connection,
    bonus: BonusRecord,
    step: str,
    debit: int,
    credit: int,
    amount: int,
    kind: TransferType,
) -> None:
    if amount == 0:
        return
    transfer(
        conn,
        TransferRequest(
            id=f"bonus-{bonus.id}-{step}",
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            currency=bonus.currency,
            type=kind,
            reference_id=f"bonus-{bonus.id}",
        ),
    )


def _close(
    conn: Connection,
    bonus: BonusRecord,
    status: BonusStatus,
    now: datetime,
    released: int,
    returned: int,
) -> BonusRecord:
    conn.execute(
        update(bonuses)
        .where(bonuses.c.id == bonus.id)
        .values(status=status.value, closed_at=now, released=released, returned=returned)
    )
    return get_bonus(conn, bonus.id)
