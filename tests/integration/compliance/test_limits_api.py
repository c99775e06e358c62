"""``/limits``, ``/self-exclusion`` and ``/cool-off`` through the real app: lowering is
immediate, raising waits 24 hours on a workflow timer, exclusions only ever extend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from croupier.workflows.limit_change import workflow_id
from tests.integration.api.conftest import Api, bearer

ETH_DAILY = {"kind": "deposit", "currency": "ETH", "period": "daily"}


async def put_limits(api: Api, token: str, *changes: dict[str, Any]) -> Any:
    return await api.client.put("/limits", json={"changes": list(changes)}, headers=bearer(token))


async def test_a_lowered_limit_is_in_force_in_the_answer(api: Api, worker: str) -> None:
    token = (await api.player())["access_token"]

    await put_limits(api, token, {**ETH_DAILY, "value": "5000"})
    response = await put_limits(
        api, token, {**ETH_DAILY, "value": "1000"}, {"kind": "session_reminder", "value": "1800"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert [change["status"] for change in body["changes"]] == ["applied", "applied"]
    assert {limit["key"]: limit["value"] for limit in body["limits"]} == {
        "deposit:ETH:daily": "1000",
        "session_reminder": "1800",
    }
    assert body["pending"] == []


async def test_a_raised_limit_is_pending_for_24_hours_on_a_running_timer(
    api: Api, worker: str, temporal_client: Client
) -> None:
    token = (await api.player())["access_token"]
    await put_limits(api, token, {**ETH_DAILY, "value": "1000"})

    response = await put_limits(api, token, {**ETH_DAILY, "value": None})
    retried = await put_limits(api, token, {**ETH_DAILY, "value": None})
    shown = (await api.client.get("/limits", headers=bearer(token))).json()

    change = response.json()["changes"][0]
    requested = datetime.fromisoformat(change["requested_at"])
    assert change["status"] == "pending"
    assert datetime.fromisoformat(change["effective_at"]) - requested == timedelta(hours=24)
    assert retried.json()["changes"][0]["change_id"] == change["change_id"]
    assert shown["limits"] == [
        {
            "key": "deposit:ETH:daily",
            "kind": "deposit",
            "currency": "ETH",
            "period": "daily",
            "value": "1000",
        }
    ]
    assert [pending["change_id"] for pending in shown["pending"]] == [change["change_id"]]
    timer = await temporal_client.get_workflow_handle(workflow_id(change["change_id"])).describe()
    assert timer.status == WorkflowExecutionStatus.RUNNING
    await temporal_client.get_workflow_handle(workflow_id(change["change_id"])).terminate("test")


async def test_malformed_limit_requests_are_refused(api: Api, worker: str) -> None:
    token = (await api.player())["access_token"]

    twice = await put_limits(api, token, {**ETH_DAILY, "value": "1"}, {**ETH_DAILY, "value": "2"})
    reminder = await put_limits(api, token, {"kind": "session_reminder", "value": "10"})
    scoped = await put_limits(api, token, {"kind": "loss", "currency": "ETH", "value": "1"})
    negative = await put_limits(api, token, {**ETH_DAILY, "value": "-1"})

    assert [r.status_code for r in (twice, reminder, scoped, negative)] == [422] * 4
    assert reminder.json()["type"] == "/problems/invalid_limit"


async def test_self_exclusion_extends_but_never_shortens(api: Api, worker: str) -> None:
    token = (await api.player())["access_token"]

    cool_off = await api.client.post("/cool-off", json={"days": 7}, headers=bearer(token))
    excluded = await api.client.post("/self-exclusion", json={"days": 180}, headers=bearer(token))
    shorter = await api.client.post("/self-exclusion", json={"days": 179}, headers=bearer(token))
    inside = await api.client.post("/cool-off", json={"days": 30}, headers=bearer(token))
    shown = (await api.client.get("/limits", headers=bearer(token))).json()

    assert cool_off.status_code == excluded.status_code == 201
    assert shorter.status_code == 422  # 179 days is no self-exclusion at all
    assert inside.status_code == 409
    assert inside.json()["type"] == "/problems/exclusion_cannot_be_shortened"
    assert datetime.fromisoformat(shown["self_excluded_until"]) == datetime.fromisoformat(
        excluded.json()["ends_at"]
    )
    assert datetime.fromisoformat(shown["cool_off_until"]) == datetime.fromisoformat(
        cool_off.json()["ends_at"]
    )
