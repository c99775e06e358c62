"""The withdrawal risk policy: pure functions from facts to a decision.

The facts are gathered elsewhere (the withdrawal activities read the database, and the
player's KYC level from ``croupier.compliance.levels``); this module only decides, so it
is tested exhaustively without I/O. ``open_bonus`` is False for everyone until the bonus
domain fills it.

Two kinds of outcome:

- a refusal before anything is held (``check_daily_limit``): the player asked for more
  than their level allows today, and no reviewer can change that;
- a review decision after the hold (``assess``): approve automatically, or send to
  compliance naming every reason, so the reviewer sees why at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from croupier.core.money import Currency, format_decimal
from croupier.payments.errors import DailyLimitExceeded


class ReviewReason(StrEnum):
    ABOVE_AUTO_APPROVE_LIMIT = "above_auto_approve_limit"
    VELOCITY = "velocity"
    NEW_ACCOUNT = "new_account"
    OPEN_BONUS = "open_bonus"


@dataclass(frozen=True, slots=True)
class WithdrawalFacts:
    """What the policy knows about one withdrawal and its player.

    ``recent_withdrawals`` counts the player's other withdrawals in the velocity window
    (not released ones); ``account_age_s`` is how long ago the account was created.
    """

    currency: Currency
    amount: int
    account_age_s: int
    recent_withdrawals: int
    kyc_level: int = 0
    open_bonus: bool = False

    def __post_init__(self) -> None:
        assert self.amount > 0, f"a withdrawal moves money, got {self.amount}"
        assert self.recent_withdrawals >= 0 and self.kyc_level >= 0


@dataclass(frozen=True, slots=True)
class RiskLimits:
    auto_approve_limit: int
    velocity_max: int
    new_account_age_s: int  # 0: no new-account rule


@dataclass(frozen=True, slots=True)
class RiskDecision:
    reasons: tuple[ReviewReason, ...]

    @property
    def auto_approve(self) -> bool:
        return not self.reasons


def assess(facts: WithdrawalFacts, limits: RiskLimits) -> RiskDecision:
    """Approve automatically only when no rule asks for a human; list every rule that does."""
    reasons = []
    if facts.amount > limits.auto_approve_limit:
        reasons.append(ReviewReason.ABOVE_AUTO_APPROVE_LIMIT)
    if facts.recent_withdrawals >= limits.velocity_max:
        reasons.append(ReviewReason.VELOCITY)
    if facts.account_age_s < limits.new_account_age_s:
        reasons.append(ReviewReason.NEW_ACCOUNT)
    if facts.open_bonus:
        reasons.append(ReviewReason.OPEN_BONUS)
    return RiskDecision(reasons=tuple(reasons))


def check_daily_limit(
    currency: Currency, amount: int, withdrawn_last_24h: int, daily_limit: int
) -> None:
    """Refuse a withdrawal that would take the rolling 24-hour total past the limit
    (the player's KYC level's, ``croupier.compliance.levels``)."""
    assert amount > 0 and withdrawn_last_24h >= 0 and daily_limit >= 0
    if withdrawn_last_24h + amount > daily_limit:
        left = max(daily_limit - withdrawn_last_24h, 0)
        raise DailyLimitExceeded(
            f"the daily {currency} withdrawal limit is {format_decimal(daily_limit, currency)} "
            f"{currency}; {format_decimal(left, currency)} {currency} is left for the next 24 hours"
        )
