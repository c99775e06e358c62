"""Responsible-gambling limits and exclusions in PostgreSQL: stricter at once, looser
after the delay, exclusions never shortened; ``gambling_restrictions`` reads what is in
force for the bet and deposit checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from croupier.compliance.errors import ExclusionCannotBeShortened, InvalidLimit, SelfExcluded
from croupier.compliance.exclusions import exclude
from croupier.compliance.limit_changes import (
    ChangeStatus,
    LimitChange,
    apply_limit_change,
    pending_changes,
    request_limit_change,
)
from croupier.compliance.limits import (
    AmountLimit,
    ExclusionKind,
    LimitKey,
    LimitKind,
    Period,
    check_bet,
    gambling_restrictions,
)
from croupier.core.money import Currency
from tests.integration.compliance.people import make_user

NOW = datetime.now(UTC).replace(microsecond=0)
DELAY = timedelta(hours=24)
WEEKLY_DEPOSIT = LimitKey(LimitKind.DEPOSIT, Currency.BTC, Period.WEEKLY)
REMINDER = LimitKey(LimitKind.SESSION_REMINDER)


def change(
    engine: Engine, player: uuid.UUID, key: LimitKey, value: int | None, at: datetime = NOW
) -> LimitChange:
    return request_limit_change(engine, player, key, value, now=at, increase_delay=DELAY)


def test_a_lower_limit_is_in_force_at_once(engine: Engine) -> None:
    player = make_user(engine)

    first = change(engine, player, WEEKLY_DEPOSIT, 1000)
    lower = change(engine, player, WEEKLY_DEPOSIT, 400)

    with engine.connect() as conn:
        restrictions = gambling_restrictions(conn, player)
    assert first.status is lower.status is ChangeStatus.APPLIED
    assert restrictions.deposit_limits == (AmountLimit(Currency.BTC, Period.WEEKLY, 400),)


def test_a_higher_limit_waits_and_is_refused_before_its_time(engine: Engine) -> None:
    player = make_user(engine)
    change(engine, player, WEEKLY_DEPOSIT, 1000)

    raised = change(engine, player, WEEKLY_DEPOSIT, 5000)
    with pytest.raises(InvalidLimit, match="takes effect at"):
        apply_limit_change(engine, raised.id, now=NOW + DELAY - timedelta(seconds=1))
    with engine.connect() as conn:
        before = gambling_restrictions(conn, player).deposit_limits
    applied = apply_limit_change(engine, raised.id, now=NOW + DELAY)
    again = apply_limit_change(engine, raised.id, now=NOW + DELAY * 2)

    with engine.connect() as conn:
        after = gambling_restrictions(conn, player).deposit_limits
    assert raised.status is ChangeStatus.PENDING
    assert raised.effective_at == NOW + DELAY
    assert before == (AmountLimit(Currency.BTC, Period.WEEKLY, 1000),)
    assert applied is again is ChangeStatus.APPLIED
    assert after == (AmountLimit(Currency.BTC, Period.WEEKLY, 5000),)


def test_asking_again_for_the_pending_value_keeps_its_clock(engine: Engine) -> None:
    player = make_user(engine)
    change(engine, player, REMINDER, 1800)

    first = change(engine, player, REMINDER, None)
    retried = change(engine, player, REMINDER, None, at=NOW + timedelta(hours=5))
    different = change(engine, player, REMINDER, 3600, at=NOW + timedelta(hours=6))

    with engine.connect() as conn:
        pending = pending_changes(conn, player)
    assert retried == first
    assert different.effective_at == NOW + timedelta(hours=30)
    assert [p.id for p in pending] == [different.id]
    assert apply_limit_change(engine, first.id, now=NOW + DELAY) is ChangeStatus.SUPERSEDED


def test_a_session_reminder_is_read_as_a_duration(engine: Engine) -> None:
    player = make_user(engine)
    change(engine, player, REMINDER, 1800)

    with engine.connect() as conn:
        assert gambling_restrictions(conn, player).session_reminder == timedelta(minutes=30)


def test_a_self_excluded_player_is_refused_bets_until_the_end(engine: Engine) -> None:
    player = make_user(engine)
    exclusion = exclude(engine, player, ExclusionKind.SELF_EXCLUSION, 180, now=NOW)

    with engine.connect() as conn:
        restrictions = gambling_restrictions(conn, player)
    with pytest.raises(SelfExcluded):
        check_bet(restrictions, now=NOW, currency=Currency.ETH, stake_minor=1, net_loss_minor={})
    check_bet(
        restrictions,
        now=exclusion.ends_at,
        currency=Currency.ETH,
        stake_minor=1,
        net_loss_minor={},
    )
    assert restrictions.self_excluded_until == NOW + timedelta(days=180)


def test_an_exclusion_can_be_extended_but_never_shortened_or_lifted(engine: Engine) -> None:
    player = make_user(engine)
    exclude(engine, player, ExclusionKind.COOL_OFF, 7, now=NOW)

    with pytest.raises(ExclusionCannotBeShortened):
        exclude(engine, player, ExclusionKind.COOL_OFF, 3, now=NOW)
    exclude(engine, player, ExclusionKind.COOL_OFF, 14, now=NOW)
    exclude(engine, player, ExclusionKind.SELF_EXCLUSION, 365, now=NOW)
    with pytest.raises(ExclusionCannotBeShortened):
        exclude(engine, player, ExclusionKind.COOL_OFF, 42, now=NOW)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM rg_exclusions WHERE user_id = :u"), {"u": player})

    with engine.connect() as conn:
        restrictions = gambling_restrictions(conn, player)
    assert restrictions.cool_off_until == NOW + timedelta(days=14)
    assert restrictions.self_excluded_until == NOW + timedelta(days=365)
