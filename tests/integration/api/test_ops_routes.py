"""Ops routes: the alert queue, the circuit breaker, and Prometheus /metrics."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import Engine, text
from temporalio.client import Client
from temporalio.worker import Worker

from croupier.identity.roles import Role
from croupier.monitoring.alerts import Severity, raise_alert
from croupier.monitoring.breaker import breaker_state, resume
from croupier.monitoring.runs import RunSummary, record_run
from croupier.workflows.circuit_breaker import PAUSED_WITHDRAWALS_QUERY
from tests.integration.api.conftest import Api, bearer
from tests.integration.api.parked_withdrawal import ParkedWithdrawal

VISIBILITY_TIMEOUT_S = 20.0


def metric_value(body: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of one sample in Prometheus text format, or None."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in body.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return None


async def test_metrics_expose_a_latency_histogram_per_route_template(api: Api) -> None:
    before = (await api.client.get("/metrics")).text
    await api.client.get("/healthz")
    await api.client.post("/admin/alerts/12345/ack", json={})  # anonymous: 401
    await api.client.get("/no/such/route")

    scrape = await api.client.get("/metrics")

    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    count = "croupier_http_request_duration_seconds_count"
    for labels in (
        {"method": "GET", "route": "/healthz", "status": "200"},
        {"method": "POST", "route": "/admin/alerts/{alert_id}/ack", "status": "401"},
        {"method": "GET", "route": "<unmatched>", "status": "404"},
    ):
        now = metric_value(scrape.text, count, labels)
        assert now is not None and now == (metric_value(before, count, labels) or 0) + 1, labels
    bucket = metric_value(
        scrape.text,
        "croupier_http_request_duration_seconds_bucket",
        {"method": "GET", "route": "/healthz", "status": "200", "le": "+Inf"},
    )
    assert bucket is not None and bucket >= 1


async def test_staff_page_through_open_alerts_and_acknowledge_one(api: Api, engine: Engine) -> None:
    kind = f"test_queue_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        ids = [raise_alert(conn, kind, Severity.WARNING, f"problem {n}").id for n in range(3)]
    staff = await api.staff(engine, Role.TREASURY)
    headers = bearer(staff["access_token"])

    first = await api.client.get(
        "/admin/alerts", params={"kind": kind, "limit": 2}, headers=headers
    )
    second = await api.client.get(
        "/admin/alerts",
        params={"kind": kind, "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    ack = await api.client.post(
        f"/admin/alerts/{ids[0]}/ack", json={"note": "known: test data"}, headers=headers
    )
    still_open = await api.client.get("/admin/alerts", params={"kind": kind}, headers=headers)

    listed = [a["id"] for a in first.json()["alerts"] + second.json()["alerts"]]
    assert listed == sorted(ids, reverse=True) and second.json()["next_cursor"] is None
    me = (await api.client.get("/me", headers=headers)).json()
    assert ack.status_code == 200 and ack.json()["acked_by"] == me["id"]
    assert [a["id"] for a in still_open.json()["alerts"]] == sorted(ids[1:], reverse=True)


async def test_acknowledging_an_unknown_alert_is_404(api: Api, engine: Engine) -> None:
    staff = await api.staff(engine, Role.COMPLIANCE)

    response = await api.client.post(
        "/admin/alerts/999999999/ack", json={}, headers=bearer(staff["access_token"])
    )

    assert response.status_code == 404 and response.json()["type"] == "/problems/alert_not_found"


@pytest_asyncio.fixture(loop_scope="session")
async def parked_withdrawal_queue(temporal_client: Client) -> AsyncIterator[str]:
    queue = f"parked-{uuid.uuid4().hex[:8]}"
    async with Worker(temporal_client, task_queue=queue, workflows=[ParkedWithdrawal]):
        yield queue


async def test_tripping_pauses_and_resuming_releases_parked_withdrawals(
    api: Api, engine: Engine, temporal_client: Client, parked_withdrawal_queue: str
) -> None:
    with engine.begin() as conn:
        if breaker_state(conn).tripped:
            resume(conn, "test-setup", "start closed")
    treasury = bearer((await api.staff(engine, Role.TREASURY))["access_token"])
    compliance_staff = await api.staff(engine, Role.COMPLIANCE)
    compliance = bearer(compliance_staff["access_token"])

    tripped = await api.client.post(
        "/admin/circuit-breaker/trip",
        json={"reason": "drill: hot wallet drained?"},
        headers=treasury,
    )
    parked = await temporal_client.start_workflow(
        ParkedWithdrawal.run, id=f"withdrawal-{uuid.uuid4()}", task_queue=parked_withdrawal_queue
    )
    await listed_as_paused(temporal_client, parked.id)
    refused = await api.client.post(
        "/admin/circuit-breaker/resume", json={"reason": "not mine to release"}, headers=treasury
    )
    resumed = await api.client.post(
        "/admin/circuit-breaker/resume", json={"reason": "drill over"}, headers=compliance
    )
    shown = await api.client.get("/admin/circuit-breaker", headers=compliance)

    assert tripped.status_code == 200 and tripped.json()["paused"]
    assert refused.status_code == 403
    assert resumed.status_code == 200 and resumed.json()["signalled_withdrawals"] >= 1
    assert not shown.json()["paused"] and shown.json()["resume_reason"] == "drill over"
    released = await parked.result()
    assert released.reason == "drill over"
    assert released.resumed_by == (await me(api, compliance))["id"]


async def test_resuming_a_breaker_that_is_not_tripped_is_a_conflict(
    api: Api, engine: Engine
) -> None:
    with engine.begin() as conn:
        if breaker_state(conn).tripped:
            resume(conn, "test-setup", "start closed")
    admin = bearer((await api.staff(engine, Role.ADMIN))["access_token"])

    response = await api.client.post(
        "/admin/circuit-breaker/resume", json={"reason": "twice"}, headers=admin
    )

    assert response.status_code == 409
    assert response.json()["type"] == "/problems/circuit_breaker_not_tripped"


async def listed_as_paused(client: Client, workflow_id: str) -> None:
    """Visibility is eventually consistent: wait until the parked workflow is listed."""
    query = f"{PAUSED_WITHDRAWALS_QUERY} AND WorkflowId = '{workflow_id}'"
    deadline = asyncio.get_running_loop().time() + VISIBILITY_TIMEOUT_S
    while (await client.count_workflows(query)).count == 0:
        assert asyncio.get_running_loop().time() < deadline, "never listed as paused"
        await asyncio.sleep(0.1)


async def me(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    return dict((await api.client.get("/me", headers=headers)).json())


async def test_staff_read_the_latest_reconciliation_and_mismatched_deposit_addresses(
    api: Api, engine: Engine
) -> None:
    chain, address = f"testchain-{uuid.uuid4().hex[:8]}", "0x" + uuid.uuid4().hex * 2
    run_key = f"reconciliation-test-{uuid.uuid4()}"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO deposit_address_observations (chain, address, currency, hd_index, "
                "expected_low, expected_high, chain_balance, matches, mismatch_since, "
                "observed_at) VALUES (:chain, :address, 'ETH', 7, 10, 12, 13, false, now(), now())"
            ),
            {"chain": chain, "address": address},
        )
    record_run(engine, RunSummary(run_key, 0, 0, 0, 0, {"note": "test"}, deposit_mismatches=1))
    staff = await api.staff(engine, Role.COMPLIANCE)
    headers = bearer(staff["access_token"])

    latest = await api.client.get("/admin/reconciliation", headers=headers)
    listed = await api.client.get(
        "/admin/reconciliation/deposit-addresses", params={"chain": chain}, headers=headers
    )

    assert latest.status_code == 200 and latest.json()["run_key"] == run_key
    assert latest.json()["deposit_mismatches"] == 1 and latest.json()["ok"] is False
    assert listed.status_code == 200
    (row,) = listed.json()
    assert (row["address"], row["currency"], row["hd_index"]) == (address, "ETH", 7)
    assert (row["expected_low"], row["expected_high"], row["chain_balance"]) == ("10", "12", "13")
