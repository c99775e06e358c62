"""The crash game through the HTTP API, on the real stack: the app, the Temporal dev
server, a worker and PostgreSQL, with rounds short enough to play in a test (a 2 s
betting window, 2x after 1.4 s, rounds capped at 4 s of running, i.e. 7.38x).

The module runs the one ``crash-round`` workflow the API talks to, on a worker of its
own with those settings, and stops it at the end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, func, select
from temporalio.client import Client

from croupier.activities.crash import RoundRef
from croupier.betting.bets import BetStatus, get_bet
from croupier.betting.tables import bets
from croupier.core.settings import Settings
from croupier.crash.chain import Chain
from croupier.workers import registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.crash import CrashRoundWorkflow, StopRounds
from croupier.workflows.crash_rounds import CrashRounds
from tests.integration.api.conftest import Api, ApiFactory, bearer
from tests.integration.crash.support import (
    ONE_ETH,
    cash,
    crash_points,
    fund,
    new_chain,
    round_where,
)

STAKE = ONE_ETH // 100
FAST_ROUNDS = {
    "crash_betting_window_s": 2,
    "crash_growth_per_ms": Decimal("0.0005"),
    "crash_max_round_duration_s": 4,
}
POLL_S = 0.05
DEADLINE_S = 60
DICE = {"target": "50.50", "direction": "over"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rounds(
    temporal_client: Client, settings: Settings, engine: Engine
) -> AsyncIterator[Chain]:
    """The crash rounds the API sees, on a worker with fast rounds; yields their chain."""
    fast = settings.model_copy(update=FAST_ROUNDS)
    chain = new_chain(engine, length=200)
    first = round_where(engine, chain, lambda crash_h: crash_h >= 300)
    queue = f"crash-api-{uuid.uuid4().hex[:8]}"
    deps = registry.WorkerDeps(settings=fast, engine=engine, temporal=temporal_client)
    crash_rounds = CrashRounds(temporal_client)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(temporal_client, queue, deps, executor):
            await crash_rounds.start(queue, RoundRef(first.chain_id, first.round_number))
            yield chain
            await crash_rounds.stop(StopRounds(staff_id="test", reason="module over"))
            handle = temporal_client.get_workflow_handle_for(
                CrashRoundWorkflow.run, crash_rounds.workflow_id
            )
            await asyncio.wait_for(handle.result(), timeout=DEADLINE_S)


async def current(api: Api) -> dict[str, Any] | None:
    """The current round, or None while the next one opens (a 503 to retry)."""
    response = await api.client.get("/crash/current")
    if response.status_code == 503:
        return None
    assert response.status_code == 200, response.text
    return dict(response.json())


async def until(api: Api, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll the current round until it is ``wanted`` (rounds run in real time here)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while asyncio.get_running_loop().time() < deadline:
        view = await current(api)
        if view is not None and wanted(view):
            return view
        await asyncio.sleep(POLL_S)
    raise AssertionError("the crash round never got there")


def betting_with_time_left(
    crash_at_least_h: int, chain: Chain, engine: Engine
) -> Callable[[dict[str, Any]], bool]:
    """A betting window with a second left, in a round that runs to ``crash_at_least_h``."""
    points = crash_points(engine, chain)

    def wanted(view: dict[str, Any]) -> bool:
        if view["phase"] != "betting" or view["chain_id"] != chain.id:
            return False
        closes_at = datetime.fromisoformat(view["betting_closes_at"])
        left = closes_at - datetime.now(UTC)
        return left > timedelta(seconds=1) and points[view["round_number"]] >= crash_at_least_h

    return wanted


async def player(api: Api, engine: Engine, *, funded: int) -> tuple[uuid.UUID, dict[str, str]]:
    tokens = await api.player()
    headers = bearer(tokens["access_token"])
    me = await api.client.get("/me", headers=headers)
    user_id = uuid.UUID(me.json()["id"])
    fund(engine, user_id, funded)
    return user_id, headers


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


def bets_of(engine: Engine, user_id: uuid.UUID) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(bets.c.user_id == user_id)).scalar_one())


async def test_a_player_bets_cashes_out_and_is_paid_once(
    api: Api, rounds: Chain, engine: Engine
) -> None:
    user_id, headers = await player(api, engine, funded=ONE_ETH)
    view = await until(api, betting_with_time_left(300, rounds, engine))
    key = str(uuid.uuid4())
    body = {"currency": "ETH", "amount": str(STAKE)}

    placed = await api.client.post("/crash/bets", json=body, headers=keyed(headers, key))
    repeated = await api.client.post("/crash/bets", json=body, headers=keyed(headers, key))
    await until(api, lambda now: now["round_id"] == view["round_id"] and now["phase"] == "running")
    await asyncio.sleep(1.5)  # the multiplier passes 2x after 1.39 s
    cashed = await api.client.post(
        f"/crash/bets/{placed.json()['bet_id']}/cashout", headers=keyed(headers)
    )
    after = await until(
        api, lambda now: (now["previous"] or {}).get("round_id") == view["round_id"]
    )

    assert placed.status_code == 201, placed.text
    assert repeated.status_code == 201 and repeated.json() == placed.json()
    assert repeated.headers["Idempotent-Replayed"] == "true"
    assert placed.json()["round_id"] == view["round_id"]
    assert cashed.status_code == 200, cashed.text
    multiplier_h = int(Decimal(cashed.json()["multiplier"]) * 100)
    assert 200 <= multiplier_h < int(Decimal(after["previous"]["crash_point"]) * 100)
    assert cashed.json()["payout"] == str(STAKE * multiplier_h // 100)
    bet = get_bet(engine, uuid.UUID(placed.json()["bet_id"]))
    assert (bet.status, bet.payout, bet.round_id) == (
        BetStatus.SETTLED,
        STAKE * multiplier_h // 100,
        view["round_id"],
    )
    assert cash(engine, user_id) == ONE_ETH - STAKE + STAKE * multiplier_h // 100


async def test_the_current_round_publishes_its_curve_and_chain_but_not_its_crash_point(
    api: Api, rounds: Chain, engine: Engine
) -> None:
    view = await until(api, lambda now: now["phase"] in ("betting", "running"))

    assert view["crash_point"] is None and view["crashed_at"] is None
    assert view["curve"] == {
        "formula": "multiplier = floor(100 * e^(growth_per_ms * elapsed_ms)) / 100",
        "growth_per_ms": "0.0005",
        "max_multiplier": "7.38",
    }
    assert view["chain"] == {"terminating_hash": rounds.terminating_hash, "salt": rounds.salt}


async def test_refused_bets_and_cash_outs_are_problems_never_500(
    api: Api, rounds: Chain, engine: Engine
) -> None:
    _, headers = await player(api, engine, funded=STAKE - 1)
    await until(api, betting_with_time_left(100, rounds, engine))

    refusals = {
        "not minor units": await api.client.post(
            "/crash/bets", json={"currency": "ETH", "amount": "0.5"}, headers=keyed(headers)
        ),
        "unknown currency": await api.client.post(
            "/crash/bets", json={"currency": "DOGE", "amount": "1"}, headers=keyed(headers)
        ),
        "no key": await api.client.post(
            "/crash/bets", json={"currency": "ETH", "amount": "1"}, headers=headers
        ),
        "above max": await api.client.post(
            "/crash/bets",
            json={"currency": "ETH", "amount": str(11 * ONE_ETH)},
            headers=keyed(headers),
        ),
        "no funds": await api.client.post(
            "/crash/bets", json={"currency": "ETH", "amount": str(STAKE)}, headers=keyed(headers)
        ),
        "unknown bet": await api.client.post(
            f"/crash/bets/{uuid.uuid4()}/cashout", headers=keyed(headers)
        ),
        "anonymous": await api.client.post(
            "/crash/bets", json={"currency": "ETH", "amount": "1"}, headers={"Idempotency-Key": "k"}
        ),
    }

    statuses = {name: (r.status_code, r.json()["type"]) for name, r in refusals.items()}
    assert statuses == {
        "not minor units": (422, "/problems/validation_error"),
        "unknown currency": (422, "/problems/unknown_currency"),
        "no key": (422, "/problems/invalid_idempotency_key"),
        "above max": (422, "/problems/bet_above_maximum"),
        "no funds": (409, "/problems/insufficient_funds"),
        "unknown bet": (404, "/problems/crash_bet_not_in_round"),
        "anonymous": (401, "/problems/unauthenticated"),
    }
    assert all(r.headers["content-type"] == "application/problem+json" for r in refusals.values())


async def test_a_bet_outside_the_betting_window_is_refused(
    api: Api, rounds: Chain, engine: Engine
) -> None:
    user_id, headers = await player(api, engine, funded=ONE_ETH)
    await until(api, lambda now: now["phase"] == "running")

    refused = await api.client.post(
        "/crash/bets", json={"currency": "ETH", "amount": str(STAKE)}, headers=keyed(headers)
    )

    assert (refused.status_code, refused.json()["type"]) == (409, "/problems/crash_betting_closed")
    assert cash(engine, user_id) == ONE_ETH


async def test_bet_routes_are_rate_limited_per_player(
    api_factory: ApiFactory, rounds: Chain, engine: Engine
) -> None:
    async with api_factory(bet_requests_per_user=1) as limited:
        _, headers = await player(limited, engine, funded=ONE_ETH)
        first = await limited.client.post(
            f"/crash/bets/{uuid.uuid4()}/cashout", headers=keyed(headers)
        )
        second = await limited.client.post(
            f"/crash/bets/{uuid.uuid4()}/cashout", headers=keyed(headers)
        )

    assert first.status_code != 429
    assert second.status_code == 429 and "Retry-After" in second.headers


@pytest.mark.parametrize(
    ("route", "days", "code"),
    [("/self-exclusion", 180, "self_excluded"), ("/cool-off", 1, "cooling_off")],
)
async def test_an_excluded_player_cannot_bet_on_crash_and_keeps_every_unit(
    api: Api, rounds: Chain, engine: Engine, route: str, days: int, code: str
) -> None:
    user_id, headers = await player(api, engine, funded=ONE_ETH)
    excluded = await api.client.post(route, json={"days": days}, headers=headers)
    await until(api, betting_with_time_left(100, rounds, engine))

    refused = await api.client.post(
        "/crash/bets", json={"currency": "ETH", "amount": str(STAKE)}, headers=keyed(headers)
    )

    assert excluded.status_code == 201, excluded.text
    assert (refused.status_code, refused.json()["type"]) == (403, f"/problems/{code}")
    assert refused.headers["content-type"] == "application/problem+json"
    assert cash(engine, user_id) == ONE_ETH
    assert bets_of(engine, user_id) == 0


async def test_a_crash_stake_counts_against_the_loss_limit_like_any_other_bet(
    api: Api, rounds: Chain, engine: Engine, worker: str
) -> None:
    user_id, headers = await player(api, engine, funded=ONE_ETH)
    daily_loss = STAKE + STAKE // 2
    limited = await api.client.put(
        "/limits",
        json={
            "changes": [
                {"kind": "loss", "currency": "ETH", "period": "daily", "value": str(daily_loss)}
            ]
        },
        headers=headers,
    )
    await until(api, betting_with_time_left(100, rounds, engine))

    too_much = await api.client.post(
        "/crash/bets", json={"currency": "ETH", "amount": str(2 * STAKE)}, headers=keyed(headers)
    )
    placed = await api.client.post(
        "/crash/bets", json={"currency": "ETH", "amount": str(STAKE)}, headers=keyed(headers)
    )
    # The crash stake is open (the round has not crashed): it counts as lost already.
    dice = await api.client.post(
        "/bets",
        json={"game": "dice", "currency": "ETH", "amount": str(STAKE), "params": DICE},
        headers=keyed(headers),
    )

    assert limited.status_code == 200, limited.text
    assert (too_much.status_code, too_much.json()["type"]) == (403, "/problems/loss_limit_reached")
    assert placed.status_code == 201, placed.text
    assert (dice.status_code, dice.json()["type"]) == (403, "/problems/loss_limit_reached")
    assert cash(engine, user_id) == ONE_ETH - STAKE
    assert bets_of(engine, user_id) == 1


async def test_an_exclusion_never_refuses_cashing_out_a_bet_already_placed(
    api: Api, rounds: Chain, engine: Engine
) -> None:
    user_id, headers = await player(api, engine, funded=ONE_ETH)
    view = await until(api, betting_with_time_left(200, rounds, engine))
    placed = await api.client.post(
        "/crash/bets", json={"currency": "ETH", "amount": str(STAKE)}, headers=keyed(headers)
    )

    excluded = await api.client.post("/self-exclusion", json={"days": 180}, headers=headers)
    await until(api, lambda now: now["round_id"] == view["round_id"] and now["phase"] == "running")
    await asyncio.sleep(0.3)  # past 1.01x (after 20 ms), well before 2x (1.39 s)
    cashed = await api.client.post(
        f"/crash/bets/{placed.json()['bet_id']}/cashout", headers=keyed(headers)
    )
    await until(api, lambda now: (now["previous"] or {}).get("round_id") == view["round_id"])

    assert placed.status_code == 201, placed.text
    assert excluded.status_code == 201, excluded.text
    assert cashed.status_code == 200, cashed.text
    payout = int(cashed.json()["payout"])
    assert payout > STAKE
    assert cash(engine, user_id) == ONE_ETH - STAKE + payout
