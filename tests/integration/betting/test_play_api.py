"""The play routes over HTTP: idempotent money moves, problems for bad input (never a
500), ownership, mines, fairness, the faucet switch and rate limits."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import Engine, func, select
from temporalio.client import Client

from croupier.ledger.schema import transfers
from croupier.workflows import search_attributes
from tests.integration.api.conftest import ApiFactory
from tests.integration.betting.conftest import FUNDS_WEI, Player

DICE = {"target": "50.50", "direction": "over"}
PROBLEM = "application/problem+json"


async def test_a_repeated_bet_request_returns_the_first_bet_and_stakes_once(
    player: Player, engine: Engine
) -> None:
    key = str(uuid.uuid4())

    first = await player.bet("dice", DICE, key=key)
    again = await player.bet("dice", DICE, key=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    stake_id = f"bet-{first.json()['id']}-stake"
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(transfers).where(transfers.c.id == stake_id)
        ).scalar_one()
    assert count == 1


async def test_the_same_key_for_another_bet_is_a_conflict(player: Player) -> None:
    key = str(uuid.uuid4())
    assert (await player.bet("dice", DICE, key=key)).status_code == 201

    other = await player.bet("limbo", {"target": "2.00"}, key=key)

    assert other.status_code == 409
    assert other.json()["type"] == "/problems/idempotency_conflict"


async def test_bad_bets_are_problems_never_server_errors(player: Player) -> None:
    cases = [
        ({"game": "dice", "currency": "ETH", "amount": "0", "params": DICE}, 422),
        ({"game": "dice", "currency": "ETH", "amount": "1.5", "params": DICE}, 422),
        ({"game": "dice", "currency": "ETH", "amount": "-1", "params": DICE}, 422),
        ({"game": "dice", "currency": "ETH", "amount": 100, "params": DICE}, 422),
        ({"game": "dice", "currency": "ETH", "amount": "9" * 78, "params": DICE}, 422),
        ({"game": "dice", "currency": "XYZ", "amount": "100", "params": DICE}, 422),
        ({"game": "poker", "currency": "ETH", "amount": "100", "params": {}}, 422),
        ({"game": "crash", "currency": "ETH", "amount": "100", "params": {"target": "2"}}, 422),
        ({"game": "mines", "currency": "ETH", "amount": "100", "params": {"mines": 3}}, 422),
        ({"game": "dice", "currency": "ETH", "amount": "100", "params": {"target": "50"}}, 422),
        ({"game": "dice", "currency": "ETH", "amount": "100", "params": {"x": [1] * 99}}, 422),
        ({"game": "limbo", "currency": "ETH", "amount": "100", "params": {"target": "0.5"}}, 422),
        ({"game": "dice", "currency": "ETH", "amount": "100"}, 422),
        ({"game": "dice", "currency": "ETH", "amount": str(10**19 + 1), "params": DICE}, 422),
    ]
    for body, status in cases:
        response = await player.post("/bets", body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert {"type", "title", "status", "detail"} <= set(response.json())
    missing_key = await player.api.client.post(
        "/bets",
        json={"game": "dice", "currency": "ETH", "amount": "1", "params": DICE},
        headers=player.headers,
    )
    assert missing_key.status_code == 422
    assert await player.available() == FUNDS_WEI


async def test_a_bet_beyond_the_balance_is_refused_and_moves_nothing(
    api_factory: ApiFactory, worker: str
) -> None:
    async with api_factory() as api:
        poor = Player(api, await api.player())
        assert (await poor.credit(1000)).status_code == 200

        refused = await poor.bet("dice", DICE, amount=1001)
        placed = await poor.bet("dice", DICE, amount=1000)
        available = await poor.available()

    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/insufficient_funds"
    assert placed.status_code == 201 and placed.json()["nonce"] == 0
    assert available == int(placed.json()["payout"])


async def test_a_bet_is_readable_by_its_player_only(
    player: Player, api_factory: ApiFactory
) -> None:
    placed = (await player.bet("limbo", {"target": "3.00"})).json()

    mine = await player.get(f"/bets/{placed['id']}")
    async with api_factory() as other_api:
        stranger = Player(other_api, await other_api.player())
        theirs = await stranger.get(f"/bets/{placed['id']}")
    unknown = await player.get(f"/bets/{uuid.uuid4()}")

    assert mine.status_code == 200 and mine.json()["nonce"] == placed["nonce"]
    assert mine.json()["server_seed"] is None
    assert theirs.status_code == unknown.status_code == 404


async def test_mines_through_http_open_reveal_cash_out(
    player: Player, temporal_client: Client
) -> None:
    opened = await player.post("/mines", {"currency": "ETH", "amount": "1000", "mines": 1})
    assert opened.status_code == 201, opened.text
    game_id = opened.json()["id"]
    assert (await player.post(f"/mines/{game_id}/cashout", {})).status_code == 409
    blocked = await player.post("/fairness/rotate", {"currency": "ETH"})
    assert blocked.status_code == 409
    assert blocked.json()["type"] == "/problems/open_games_block_rotation"

    state = opened.json()
    for tile in range(25):
        state = (await player.post(f"/mines/{game_id}/reveal", {"tile": tile})).json()
        if state["status"] != "playing" or len(state["picks"]) == 2:
            break
    if state["status"] == "playing":
        state = (await player.post(f"/mines/{game_id}/cashout", {})).json()

    assert state["status"] in {"won", "lost"} and state["bet"]["status"] == "settled"
    assert len(state["bet"]["outcome"]["mines"]) == 1
    game_attributes = (
        await temporal_client.get_workflow_handle(f"mines-{game_id}").describe()
    ).typed_search_attributes
    assert game_attributes.get(search_attributes.GAME) == "mines"
    assert game_attributes.get(search_attributes.STATUS) == state["status"]
    session = temporal_client.get_workflow_handle(f"session-{player.user_id}-ETH")
    session_attributes = (await session.describe()).typed_search_attributes
    assert session_attributes.get(search_attributes.PLAYER_ID) == str(player.user_id)
    assert session_attributes.get(search_attributes.FLOW) == "session"
    assert session_attributes.get(search_attributes.GAME) == "mines"
    again = await player.post(f"/mines/{game_id}/reveal", {"tile": 24})
    assert again.status_code == 409
    assert (await player.get(f"/mines/{game_id}")).json()["status"] == state["status"]


async def test_fairness_shows_a_pair_before_the_first_bet_and_rotates_with_a_client_seed(
    api: object, player: Player
) -> None:
    before = await player.get("/fairness", currency="BTC")
    assert before.status_code == 200, before.text
    active = before.json()["active"]
    assert active["nonce"] == 0 and len(active["server_seed_hash"]) == 64

    rotated = await player.post(
        "/fairness/client-seed", {"currency": "BTC", "client_seed": "lucky-7"}
    )

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["revealed"]["server_seed_hash"] == active["server_seed_hash"]
    after = (await player.get("/fairness", currency="BTC")).json()["active"]
    assert after["client_seed"] == "lucky-7" and after["nonce"] == 0
    assert after["server_seed_hash"] != active["server_seed_hash"]
    bad = await player.post("/fairness/client-seed", {"currency": "BTC", "client_seed": "a b"})
    assert bad.status_code == 422


async def test_the_statement_shows_the_faucet_and_each_bet(player: Player) -> None:
    placed = (await player.bet("dice", DICE)).json()

    page = await player.get("/statement", currency="ETH", limit=10)

    assert page.status_code == 200
    lines = page.json()["lines"]
    assert lines[-1]["type"] == "adjustment" and lines[-1]["change"] == str(FUNDS_WEI)
    stake = next(line for line in lines if line["transfer_id"] == f"bet-{placed['id']}-stake")
    assert stake["change"] == "-1000000000000000"


async def test_the_verifier_is_public(api_factory: ApiFactory) -> None:
    async with api_factory() as anonymous:
        response = await anonymous.client.post(
            "/verify/dice",
            json={"server_seed": "ab" * 32, "client_seed": "c", "nonce": 0, "params": DICE},
        )
        refused = await anonymous.client.post("/verify/dice", json={"params": DICE})

    assert response.status_code == 200 and "roll" in response.json()
    assert refused.status_code == 422


async def test_the_faucet_is_not_there_unless_enabled(api_factory: ApiFactory, worker: str) -> None:
    async with api_factory(dev_faucet_enabled=False) as api:
        me = Player(api, await api.player())
        response = await me.credit(10**18)

    assert response.status_code == 404
    assert response.json()["type"] == "/problems/dev_faucet_disabled"


async def test_bets_are_rate_limited_per_player(api_factory: ApiFactory, worker: str) -> None:
    async with api_factory(bet_requests_per_user=3, bet_window_s=3600) as api:
        me = Player(api, await api.player())
        statuses = [(await me.bet("dice", DICE)).status_code for _ in range(4)]
        limited = await me.bet("dice", DICE)

    assert 429 not in statuses[:3] and statuses[3] == 429
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


async def test_concurrent_bets_across_continue_as_new_all_settle_once(
    api_factory: ApiFactory, worker: str, temporal_client: Client
) -> None:
    async with api_factory(session_continue_as_new_bets=10) as api:
        me = Player(api, await api.player())
        me.user_id = uuid.UUID((await me.get("/me")).json()["id"])
        assert (await me.credit(FUNDS_WEI)).status_code == 200
        placed = []
        for _ in range(6):
            wave = await asyncio.gather(*(me.bet("limbo", {"target": "2.00"}) for _ in range(5)))
            assert [response.status_code for response in wave] == [201] * 5
            placed += [response.json() for response in wave]

    assert sorted(bet["nonce"] for bet in placed) == list(range(30))
    session = temporal_client.get_workflow_handle(f"session-{me.user_id}-ETH")
    runs = [
        execution
        async for execution in temporal_client.list_workflows(f"WorkflowId = '{session.id}'")
    ]
    assert len(runs) >= 3, "the session continued as new at least twice"
