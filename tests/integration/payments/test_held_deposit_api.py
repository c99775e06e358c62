"""Compliance works the queue of held deposits through the API, on the real stack (the
app, the Temporal dev server, a worker and a private Anvil): a self-excluded player's
deposit is held, listed, released by a compliance officer, credited once and audited.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import select

from croupier.compliance.audit import verify_chain
from croupier.compliance.tables import audit_log
from croupier.core.money import Currency
from croupier.identity.roles import Role
from croupier.payments.deposits import get_deposit
from tests.integration.api.conftest import Api, ApiFactory, bearer
from tests.integration.api.conftest import api_factory as api_factory
from tests.integration.api.conftest import api_settings as api_settings
from tests.integration.payments.conftest import ETH, PaymentsStack, cash
from tests.integration.payments.test_deposits import ledger_postings
from tests.workflows.test_deposit_holds import confirmed_deposit, held

REASON = "player asked to withdraw a deposit sent before the exclusion"


@pytest_asyncio.fixture(loop_scope="session")
async def api(api_factory: ApiFactory, stack: PaymentsStack) -> AsyncIterator[Api]:
    async with api_factory(**stack.overrides) as built:
        yield built


async def signed_in(api: Api, tokens: dict[str, Any]) -> tuple[uuid.UUID, dict[str, str]]:
    headers = bearer(tokens["access_token"])
    me = await api.client.get("/me", headers=headers)
    return uuid.UUID(me.json()["id"]), headers


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def test_compliance_releases_a_self_excluded_players_held_deposit(
    api: Api, stack: PaymentsStack
) -> None:
    player_id, player = await signed_in(api, await api.player())
    officer_id, officer = await signed_in(api, await api.staff(stack.engine, Role.COMPLIANCE))
    excluded = await api.client.post("/self-exclusion", json={"days": 180}, headers=player)
    handle = await confirmed_deposit(stack, player_id, ETH // 2)
    await held(stack, handle)

    queue = await api.client.get(
        "/admin/deposits/held", params={"user_id": str(player_id)}, headers=officer
    )
    by_player = await api.client.post(
        f"/admin/deposits/{handle.id}/release", json={"reason": REASON}, headers=keyed(player)
    )
    key = keyed(officer)
    released = await api.client.post(
        f"/admin/deposits/{handle.id}/release", json={"reason": REASON}, headers=key
    )
    outcome = await handle.result()
    replayed = await api.client.post(
        f"/admin/deposits/{handle.id}/release", json={"reason": REASON}, headers=key
    )
    again = await api.client.post(
        f"/admin/deposits/{handle.id}/release", json={"reason": REASON}, headers=keyed(officer)
    )

    assert excluded.status_code == 201, excluded.text
    assert queue.status_code == 200, queue.text
    (listed,) = queue.json()["deposits"]
    assert (listed["id"], listed["user_id"], listed["status"], listed["hold_code"]) == (
        handle.id,
        str(player_id),
        "held",
        "self_excluded",
    )
    assert by_player.status_code == 403, by_player.text
    assert released.status_code == 202, released.text
    assert released.json()["id"] == handle.id
    assert released.json()["status"] in {"held", "credited"}  # credited a moment later
    assert replayed.status_code == 202 and replayed.json() == released.json()
    assert (again.status_code, again.json()["type"]) == (409, "/problems/deposit_not_held")
    assert outcome.status == "credited"
    assert get_deposit(stack.engine, handle.id).status.value == "credited"
    assert cash(stack.engine, player_id, Currency.ETH).posted == ETH // 2
    assert ledger_postings(stack, handle.id) == 1
    with stack.engine.connect() as conn:
        (row,) = conn.execute(
            select(audit_log).where(audit_log.c.subject == f"deposit:{handle.id}")
        ).all()
    assert (row.actor, row.action) == (str(officer_id), "deposit.release")
    assert (row.details["reason"], row.details["hold_code"]) == (REASON, "self_excluded")
    assert verify_chain(stack.engine).intact
    after = await api.client.get(
        "/admin/deposits/held", params={"user_id": str(player_id)}, headers=officer
    )
    assert after.json()["deposits"] == []


async def test_releasing_an_unknown_deposit_is_404_and_a_bad_request_422(
    api: Api, stack: PaymentsStack
) -> None:
    _, officer = await signed_in(api, await api.staff(stack.engine, Role.ADMIN))

    unknown = await api.client.post(
        f"/admin/deposits/deposit-eth-0x{uuid.uuid4().hex}-0/release",
        json={"reason": REASON},
        headers=keyed(officer),
    )
    no_reason = await api.client.post(
        f"/admin/deposits/deposit-eth-0x{uuid.uuid4().hex}-0/release",
        json={},
        headers=keyed(officer),
    )
    bad_limit = await api.client.get("/admin/deposits/held", params={"limit": 0}, headers=officer)

    assert (unknown.status_code, unknown.json()["type"]) == (404, "/problems/deposit_not_found")
    assert no_reason.status_code == 422, no_reason.text
    assert bad_limit.status_code == 422, bad_limit.text
