"""The withdrawal risk policy: which facts send a withdrawal to a human, and the daily limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.core.money import Currency
from croupier.payments.errors import DailyLimitExceeded
from croupier.payments.risk import (
    ReviewReason,
    RiskLimits,
    WithdrawalFacts,
    assess,
    check_daily_limit,
)

LIMITS = RiskLimits(auto_approve_limit=500, velocity_max=3, new_account_age_s=86_400)
DAY = 86_400


def facts(**changes: object) -> WithdrawalFacts:
    values: dict[str, object] = {
        "currency": Currency.ETH,
        "amount": 100,
        "account_age_s": 30 * DAY,
        "recent_withdrawals": 0,
    }
    values.update(changes)
    return WithdrawalFacts(**values)  # type: ignore[arg-type]


def test_a_small_withdrawal_of_an_established_quiet_player_is_approved_automatically() -> None:
    decision = assess(facts(), LIMITS)

    assert decision.auto_approve
    assert decision.reasons == ()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": 501}, ReviewReason.ABOVE_AUTO_APPROVE_LIMIT),
        ({"recent_withdrawals": 3}, ReviewReason.VELOCITY),
        ({"account_age_s": DAY - 1}, ReviewReason.NEW_ACCOUNT),
        ({"open_bonus": True}, ReviewReason.OPEN_BONUS),
    ],
)
def test_each_rule_alone_sends_the_withdrawal_to_review_naming_itself(
    changes: dict[str, object], reason: ReviewReason
) -> None:
    assert assess(facts(**changes), LIMITS).reasons == (reason,)


def test_the_limits_themselves_are_still_approved_automatically() -> None:
    at_limits = facts(amount=500, recent_withdrawals=2, account_age_s=DAY)

    assert assess(at_limits, LIMITS).auto_approve


def test_every_reason_is_listed_for_the_reviewer() -> None:
    risky = facts(amount=10_000, recent_withdrawals=9, account_age_s=0, open_bonus=True)

    assert assess(risky, LIMITS).reasons == tuple(ReviewReason)


def test_a_new_account_age_of_zero_turns_that_rule_off() -> None:
    limits = RiskLimits(auto_approve_limit=500, velocity_max=3, new_account_age_s=0)

    assert assess(facts(account_age_s=0), limits).auto_approve


@given(
    amount=st.integers(1, 1_000),
    recent=st.integers(0, 6),
    age_s=st.integers(0, 3 * DAY),
    bonus=st.booleans(),
)
def test_auto_approval_happens_exactly_when_no_rule_fires(
    amount: int, recent: int, age_s: int, bonus: bool
) -> None:
    decision = assess(
        facts(amount=amount, recent_withdrawals=recent, account_age_s=age_s, open_bonus=bonus),
        LIMITS,
    )

    quiet = amount <= 500 and recent < 3 and age_s >= DAY and not bonus
    assert decision.auto_approve is quiet


def test_the_daily_limit_admits_up_to_the_limit_and_refuses_past_it() -> None:
    check_daily_limit(Currency.ETH, 400, 600, 1_000)

    with pytest.raises(DailyLimitExceeded, match=re.escape("limit is 0.000000000000001 ETH")):
        check_daily_limit(Currency.ETH, 401, 600, 1_000)
