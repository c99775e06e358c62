"""The withdrawal circuit breaker trips on a burst, reports paused, and resumes by hand.

The breaker is one row shared by the whole session, so each test leaves it closed and
its window empty (payments tests note withdrawals against it too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from croupier.core.money import Currency
from croupier.monitoring.breaker import (
    approvals_paused,
    breaker_state,
    note_withdrawal_request,
    resume,
    trip,
)
from croupier.monitoring.errors import BreakerAlreadyTripped, BreakerNotTripped
from croupier.monitoring.velocity import VelocityPolicy, WithdrawalSeen

ETH = Currency.ETH.unit
POLICY = VelocityPolicy(
    window_s=600,
    max_requests=5,
    max_amounts={Currency.ETH: 10 * ETH},
    new_account_age_s=86400,
    max_new_account_requests=2,
)


@pytest.fixture(autouse=True)
def fresh_window(engine: Engine) -> Iterator[None]:
    """Each test starts with a closed breaker and an empty window, and leaves the same:
    a resume starts the window afresh, so no test's requests count in another's."""
    reset_window(engine)
    yield
    reset_window(engine)


def reset_window(engine: Engine) -> None:
    with engine.begin() as conn:
        if not breaker_state(conn).tripped:
            trip(conn, "test-fixture", "reset the velocity window")
        resume(conn, "test-fixture", "a fresh velocity window")


def seen(
    amount: int = ETH, *, player_since: datetime | None = None, withdrawal_id: str | None = None
) -> WithdrawalSeen:
    now = datetime.now(UTC)
    return WithdrawalSeen(
        withdrawal_id=withdrawal_id or f"withdrawal-{uuid.uuid4()}",
        player_id=str(uuid.uuid4()),
        currency=Currency.ETH,
        amount=amount,
        requested_at=now,
        player_since=player_since or now - timedelta(days=400),
    )


def note(engine: Engine, request: WithdrawalSeen) -> bool:
    with engine.begin() as conn:
        return note_withdrawal_request(conn, request, POLICY).paused


def test_a_burst_of_withdrawals_trips_the_breaker_and_pauses_approvals(engine: Engine) -> None:
    verdicts = [note(engine, seen()) for _ in range(6)]

    assert verdicts == [False] * 5 + [True]
    with engine.connect() as conn:
        assert approvals_paused(conn)
        state = breaker_state(conn)
        alert = conn.execute(
            text(
                "SELECT severity, message FROM alerts WHERE kind = 'withdrawal_velocity' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert state.tripped_by == "system" and "requests: 6 requests (limit 5)" in (state.reason or "")
    assert alert.severity == "critical" and "paused" in alert.message


def test_a_retried_request_counts_once(engine: Engine) -> None:
    request = seen()
    verdicts = [note(engine, request) for _ in range(10)]

    assert not any(verdicts)


def test_a_burst_from_new_accounts_trips_at_their_tighter_limit(engine: Engine) -> None:
    young = datetime.now(UTC) - timedelta(hours=3)

    verdicts = [note(engine, seen(player_since=young)) for _ in range(3)]

    assert verdicts == [False, False, True]


def test_requests_reviewed_at_a_resume_do_not_trip_it_again(engine: Engine) -> None:
    for _ in range(6):
        note(engine, seen())
    with engine.begin() as conn:
        state = resume(conn, "compliance-officer", "a tournament payout, reviewed")

    assert not state.paused and state.resumed_by == "compliance-officer"
    assert not note(engine, seen())  # the five before the resume no longer count


def test_concurrent_requests_cannot_slip_under_the_limit_together(engine: Engine) -> None:
    """Each request locks the breaker row: 12 at once are judged one after the other."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        verdicts = list(pool.map(lambda _: note(engine, seen()), range(12)))

    assert verdicts.count(False) == 5 and verdicts.count(True) == 7


def test_staff_can_pause_by_hand_and_neither_action_applies_twice(engine: Engine) -> None:
    with engine.begin() as conn:
        state = trip(conn, "treasury-officer", "hot wallet key may have leaked")
        with pytest.raises(BreakerAlreadyTripped):
            trip(conn, "someone-else", "me too")
    assert state.paused and state.tripped_by == "treasury-officer"
    with engine.begin() as conn:
        resume(conn, "compliance-officer", "key rotated")
        with pytest.raises(BreakerNotTripped):
            resume(conn, "compliance-officer", "twice")


def test_the_breaker_history_is_append_only(engine: Engine) -> None:
    with pytest.raises(Exception, match="audit trail"), engine.begin() as conn:
        conn.execute(text("DELETE FROM circuit_breaker_events"))
