"""Responsible-gambling and KYC limits applied where deposits are credited.

``croupier.payments`` knows nothing of compliance; ``credit_deposit`` takes an admission
check. This module builds it from the compliance rules, so a deposit that arrives on
chain for a self-excluded or cooling-off player, or past one of their deposit limits
(their own daily / weekly / monthly ones, and their KYC level's daily one), is held
instead of credited, inside the transaction that would have credited it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from croupier.compliance.errors import GamblingRestricted
from croupier.compliance.levels import kyc_level, limits_for_level
from croupier.compliance.limits import check_deposit, gambling_restrictions
from croupier.core.clock import Clock
from croupier.core.money import format_decimal
from croupier.payments.deposits import DepositAdmission, DepositHold, DepositRecord, deposited_since

KYC_WINDOW = timedelta(days=1)
# The hold code of a deposit past the KYC level's daily limit (the others are compliance
# error codes: self_excluded, cooling_off, deposit_limit_reached).
KYC_DEPOSIT_LIMIT = "kyc_deposit_limit_reached"


def deposit_admission(clock: Clock) -> DepositAdmission:
    def admit(conn: Connection, deposit: DepositRecord) -> DepositHold | None:
        now = clock.now()
        restrictions = gambling_restrictions(conn, deposit.user_id)
        deposited = {
            period: deposited_since(conn, deposit.user_id, deposit.currency, now - period.window)
            for period in restrictions.deposit_periods(deposit.currency)
        }
        try:
            check_deposit(
                restrictions,
                now=now,
                currency=deposit.currency,
                amount_minor=deposit.amount,
                deposited_minor=deposited,
            )
        except GamblingRestricted as refused:
            return DepositHold(refused.code, str(refused))
        return _kyc_hold(conn, deposit, since=now - KYC_WINDOW)

    return admit


def _kyc_hold(conn: Connection, deposit: DepositRecord, *, since: datetime) -> DepositHold | None:
    """The player's KYC level caps what they deposit per rolling 24 hours."""
    level = kyc_level(conn, deposit.user_id)
    currency = deposit.currency
    limit = limits_for_level(level).daily_deposit_minor(currency)
    if deposited_since(conn, deposit.user_id, currency, since) + deposit.amount <= limit:
        return None
    return DepositHold(
        KYC_DEPOSIT_LIMIT,
        f"KYC level {level} allows {format_decimal(limit, currency)} {currency.value} of "
        "deposits per 24 hours; it is credited once the window or a higher level admits it",
    )
