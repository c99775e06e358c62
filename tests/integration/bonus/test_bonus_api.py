"""Bonuses over HTTP on the real stack: claim, progress from the workflow, the max bet
refused as a problem, forfeit; a staff grant lands in the audit log."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import Engine, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from croupier.compliance.tables import audit_log
from croupier.identity.roles import Role
from croupier.workflows.bonus import workflow_id
from tests.integration.api.conftest import Api, bearer
from tests.integration.betting.conftest import Player

FREE_BET_MAX_BET = 5 * 10**15  # the free-bet offer's max bet in ETH, 0.005


async def _bonus(player: Player, bonus_id: str, status: str) -> dict[str, Any]:
    for _ in range(100):
        listed = await player.get("/bonuses")
        assert listed.status_code == 200, listed.text
        (bonus,) = [b for b in listed.json()["bonuses"] if b["bonus_id"] == bonus_id]
        if bonus["status"] == status:
            return bonus  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"bonus {bonus_id} never became {status}: {bonus}")


async def _session_told(client: Client, bonus_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id(bonus_id))
    signalled = EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
    for _ in range(100):
        if any([e async for e in handle.fetch_history_events() if e.event_type == signalled]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bonus workflow never told the session")


async def test_a_claimed_bonus_refuses_bets_above_its_max_and_can_be_forfeited(
    player: Player, temporal_client: Client
) -> None:
    claimed = await player.post("/bonuses", {"offer": "free-bet", "currency": "ETH"})
    assert claimed.status_code == 201, claimed.text
    bonus_id = claimed.json()["bonus_id"]
    active = await _bonus(player, bonus_id, "active")
    await _session_told(temporal_client, bonus_id)

    refused = await player.bet("limbo", {"target": "2.00"}, FREE_BET_MAX_BET + 1)
    counted = await player.bet("limbo", {"target": "2.00"}, 10**15)
    progressed = await _bonus(player, bonus_id, "active")
    forfeit = await player.post(f"/bonuses/{bonus_id}/forfeit", {})
    forfeited = await _bonus(player, bonus_id, "forfeited")

    assert active["amount"] == str(FREE_BET_MAX_BET)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "/problems/bonus_max_bet_exceeded"
    assert counted.status_code == 201, counted.text
    assert progressed["wagered"] == str(10**15)
    assert forfeit.status_code == 202, forfeit.text
    assert forfeited["returned"] == str(FREE_BET_MAX_BET)  # cash paid the stake


async def test_a_staff_grant_is_written_to_the_audit_log(
    api: Api, player: Player, engine: Engine
) -> None:
    support = await api.staff(engine, Role.SUPPORT)
    body = {
        "user_id": str(player.user_id),
        "offer": "free-bet",
        "currency": "ETH",
        "reason": "goodwill after an outage",
    }
    headers = {**bearer(support["access_token"]), "Idempotency-Key": str(uuid.uuid4())}

    granted = await api.client.post("/admin/bonuses", json=body, headers=headers)

    assert granted.status_code == 201, granted.text
    subject = f"bonus:{granted.json()['bonus_id']}"
    with engine.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.subject == subject)).one()
    assert (row.action, row.details["reason"]) == ("bonus.grant", "goodwill after an outage")
