"""The withdrawal velocity policy: which windows of requests break which limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.monitoring.velocity import VelocityPolicy, WithdrawalSeen

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
ETH = Currency.ETH.unit
POLICY = VelocityPolicy(
    window_s=3600,
    max_requests=10,
    max_amounts={Currency.ETH: 50 * ETH},
    new_account_age_s=7 * 86400,
    max_new_account_requests=3,
    max_new_account_amounts={Currency.ETH: 5 * ETH},
)


def request(
    n: int, *, amount: int = ETH, account_age: timedelta = timedelta(days=365)
) -> WithdrawalSeen:
    return WithdrawalSeen(
        withdrawal_id=f"w-{n}",
        player_id=f"p-{n}",
        currency=Currency.ETH,
        amount=amount,
        requested_at=NOW,
        player_since=NOW - account_age,
    )


def rules(requests: list[WithdrawalSeen]) -> list[str]:
    return [breach.rule for breach in POLICY.breaches(requests)]


def test_a_normal_hour_breaks_nothing() -> None:
    assert rules([request(n) for n in range(10)]) == []


def test_one_request_too_many_breaks_the_count_limit() -> None:
    assert rules([request(n) for n in range(11)]) == ["requests"]


def test_a_few_large_withdrawals_break_the_amount_limit() -> None:
    assert rules([request(n, amount=20 * ETH) for n in range(3)]) == ["amount"]


def test_young_accounts_have_their_own_tighter_limits() -> None:
    young = [request(n, account_age=timedelta(days=2)) for n in range(4)]
    assert rules(young) == ["new_account_requests"]
    assert rules([request(0, amount=6 * ETH, account_age=timedelta(hours=1))]) == [
        "new_account_amount"
    ]


def test_amount_limits_are_per_currency_and_absent_means_unlimited() -> None:
    usdt = WithdrawalSeen("w", "p", Currency.USDT, 10**15, NOW, NOW - timedelta(days=365))
    assert rules([usdt]) == []


def test_the_window_starts_at_a_resume_when_that_is_later() -> None:
    resumed_at = NOW - timedelta(minutes=5)
    assert POLICY.window_start(NOW, None) == NOW - timedelta(hours=1)
    assert POLICY.window_start(NOW, resumed_at) == resumed_at
    assert POLICY.window_start(NOW, NOW - timedelta(days=1)) == NOW - timedelta(hours=1)


def test_settings_amounts_in_whole_coins_become_exact_minor_units() -> None:
    settings = Settings(withdrawal_breaker_max_amounts={"eth": "1.5", "USDT": "0.000001"})
    policy = VelocityPolicy.from_settings(settings)
    assert policy.max_amounts == {Currency.ETH: 15 * ETH // 10, Currency.USDT: 1}


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=30 * ETH), max_size=15),
    extra=st.integers(min_value=1, max_value=30 * ETH),
    ages_h=st.lists(st.integers(min_value=0, max_value=24 * 30), min_size=16, max_size=16),
)
def test_another_request_never_clears_a_breach(
    amounts: list[int], extra: int, ages_h: list[int]
) -> None:
    before = [
        request(n, amount=a, account_age=timedelta(hours=ages_h[n])) for n, a in enumerate(amounts)
    ]
    after = [*before, request(99, amount=extra, account_age=timedelta(hours=ages_h[-1]))]
    assert set(rules(before)) <= set(rules(after))
