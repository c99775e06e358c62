"""``/kyc`` and the compliance desk through the real app, Temporal dev server and worker:
automatic approval, manual approval, rejection, the request-for-information round
trip, and uploads judged by their bytes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from temporalio.client import Client

from croupier.compliance.tables import kyc_reviews
from croupier.identity.roles import Role
from croupier.workflows.kyc_review import KycReviewResult, KycReviewWorkflow, Phase, workflow_id
from tests.integration.api.conftest import Api, ApiFactory, bearer
from tests.integration.compliance.people import SANCTIONED_NAME, unique_letters

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n" + b"x" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def identity(**overrides: str) -> dict[str, str]:
    fields = {
        "given_names": "Ann",
        "family_name": f"Tester {unique_letters().capitalize()}",
        "date_of_birth": "1990-04-01",
        "nationality": "DE",
        "document_type": "passport",
        "document_number": f"P{uuid.uuid4().hex[:10].upper()}",
        "document_country": "DE",
        "document_expires_on": "2099-01-01",
    }
    return {**fields, **overrides}


def sanctioned() -> dict[str, str]:
    given, family, born = SANCTIONED_NAME
    return identity(given_names=given, family_name=family, date_of_birth=born.isoformat())


async def submit(
    api: Api,
    token: str,
    fields: dict[str, str],
    files: list[tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    uploads = [
        ("documents", (name, content, content_type))
        for name, content, content_type in (files or [("passport.pdf", PDF, "application/pdf")])
    ]
    return await api.client.post("/kyc", data=fields, files=uploads, headers=bearer(token))


async def reach(client: Client, review_id: str, phase: Phase) -> None:
    handle = client.get_workflow_handle(workflow_id(review_id))
    for _ in range(200):
        if (await handle.query(KycReviewWorkflow.state)).phase == phase.value:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"review {review_id} never reached {phase.value}")


async def finished(client: Client, review_id: str) -> KycReviewResult:
    return await client.get_workflow_handle_for(
        KycReviewWorkflow.run, workflow_id(review_id)
    ).result()


async def kyc(api: Api, token: str) -> dict[str, Any]:
    response = await api.client.get("/kyc", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def reviews_of(api: Api, engine: Engine, player: dict[str, Any]) -> int:
    me = await api.client.get("/me", headers=bearer(player["access_token"]))
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(kyc_reviews.c.user_id == uuid.UUID(me.json()["id"]))
            ).scalar_one()
        )


async def test_a_clean_submission_is_approved_to_level_1_and_its_document_kept(
    api: Api, worker: str, temporal_client: Client
) -> None:
    player = await api.player()

    response = await submit(api, player["access_token"], identity())
    assert response.status_code == 202, response.text
    review_id = response.json()["review_id"]
    result = await finished(temporal_client, review_id)
    status = await kyc(api, player["access_token"])

    assert response.status_code == 202, response.text
    assert (result.status, result.level) == ("approved", 1)
    assert status["level"] == 1
    assert status["latest_review"]["review_id"] == review_id
    assert status["latest_review"]["status"] == "approved"
    stored = list((api.app.state.croupier.settings.data_dir / "kyc-documents").rglob("*.pdf"))
    assert any(path.read_bytes() == PDF for path in stored)


async def test_compliance_approves_a_higher_level_through_the_desk(
    api: Api, worker: str, temporal_client: Client, engine: Engine
) -> None:
    player = await api.player()
    officer = await api.staff(engine, Role.COMPLIANCE)
    desk = bearer(officer["access_token"])
    review_id = (await submit(api, player["access_token"], identity(requested_level="2"))).json()[
        "review_id"
    ]
    await reach(temporal_client, review_id, Phase.AWAITING_REVIEW)

    queue = await api.client.get("/admin/kyc?status=awaiting_review&limit=100", headers=desk)
    detail = await api.client.get(f"/admin/kyc/{review_id}", headers=desk)
    approved = await api.client.post(
        f"/admin/kyc/{review_id}/approve",
        json={"level": 2, "reason": "passport and selfie match"},
        headers=desk,
    )

    assert review_id in [item["review_id"] for item in queue.json()]
    assert detail.json()["submissions"][0]["check_flags"] == []
    assert detail.json()["submissions"][0]["documents"][0]["content_type"] == "application/pdf"
    assert approved.status_code == 200, approved.text
    assert approved.json() == {"review_id": review_id, "status": "approved", "level": 2}
    assert (await kyc(api, player["access_token"]))["level"] == 2


async def test_compliance_rejects_a_sanctions_match(
    api: Api, worker: str, temporal_client: Client, engine: Engine
) -> None:
    player = await api.player()
    officer = await api.staff(engine, Role.COMPLIANCE)
    review_id = (await submit(api, player["access_token"], sanctioned())).json()["review_id"]
    await reach(temporal_client, review_id, Phase.AWAITING_REVIEW)

    rejected = await api.client.post(
        f"/admin/kyc/{review_id}/reject",
        json={"reason": "confirmed match on the sanctions list"},
        headers=bearer(officer["access_token"]),
    )
    again = await api.client.post(
        f"/admin/kyc/{review_id}/approve",
        json={"level": 1, "reason": "second thoughts"},
        headers=bearer(officer["access_token"]),
    )

    assert rejected.json()["status"] == "rejected"
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/kyc_review_closed"
    status = await kyc(api, player["access_token"])
    assert (status["level"], status["latest_review"]["status"]) == (0, "rejected")


async def test_a_request_for_information_is_answered_with_a_new_submission(
    api: Api, worker: str, temporal_client: Client, engine: Engine
) -> None:
    player = await api.player()
    desk = bearer((await api.staff(engine, Role.COMPLIANCE))["access_token"])
    first = await submit(api, player["access_token"], sanctioned())
    review_id = first.json()["review_id"]
    await reach(temporal_client, review_id, Phase.AWAITING_REVIEW)

    asked = await api.client.post(
        f"/admin/kyc/{review_id}/request-info",
        json={"reason": "please upload the back of your ID card"},
        headers=desk,
    )
    shown = await kyc(api, player["access_token"])
    answer = await submit(
        api,
        player["access_token"],
        sanctioned(),
        [("front.png", PNG, "image/png"), ("back.pdf", PDF, "application/pdf")],
    )
    await reach(temporal_client, review_id, Phase.AWAITING_REVIEW)
    approved = await api.client.post(
        f"/admin/kyc/{review_id}/approve",
        json={"level": 1, "reason": "a namesake, born elsewhere"},
        headers=desk,
    )

    assert asked.json()["status"] == "info_requested"
    assert shown["latest_review"]["status"] == "info_requested"
    assert shown["latest_review"]["info_request"] == "please upload the back of your ID card"
    assert answer.status_code == 202, answer.text
    assert answer.json()["review_id"] == review_id
    assert approved.json()["status"] == "approved"
    detail = await api.client.get(f"/admin/kyc/{review_id}", headers=desk)
    assert len(detail.json()["submissions"]) == 2
    assert await reviews_of(api, engine, player) == 1


async def test_a_second_submission_while_under_review_is_refused_and_stores_nothing(
    api: Api, worker: str, temporal_client: Client, engine: Engine
) -> None:
    player = await api.player()
    review_id = (await submit(api, player["access_token"], sanctioned())).json()["review_id"]
    await reach(temporal_client, review_id, Phase.AWAITING_REVIEW)

    refused = await submit(api, player["access_token"], identity())

    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/kyc_review_in_progress"
    assert await reviews_of(api, engine, player) == 1
    await temporal_client.get_workflow_handle(workflow_id(review_id)).terminate("end of test")


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ([("scan.pdf", b"MZ\x90\x00not a pdf", "application/pdf")], "unsupported_document_type"),
        ([("scan.png", PDF, "image/png")], "unsupported_document_type"),
        ([("scan.pdf", b"", "application/pdf")], "invalid_kyc_submission"),
        ([("scan.pdf", PDF + b"y" * 4096, "application/pdf")], "document_too_large"),
    ],
)
async def test_uploads_are_judged_by_their_bytes_before_anything_is_stored(
    api_factory: ApiFactory,
    worker: str,
    engine: Engine,
    files: list[tuple[str, bytes, str]],
    problem: str,
) -> None:
    async with api_factory(kyc_max_upload_bytes=4096) as api:
        player = await api.player()

        response = await submit(api, player["access_token"], identity(), files)

        assert response.status_code == 422, response.text
        assert response.json()["type"] == f"/problems/{problem}"
        assert await reviews_of(api, engine, player) == 0


async def test_a_body_larger_than_every_document_allowed_is_cut_off(
    api_factory: ApiFactory, worker: str
) -> None:
    async with api_factory(kyc_max_upload_bytes=1024, kyc_max_documents=1) as api:
        player = await api.player()

        response = await submit(
            api,
            player["access_token"],
            identity(),
            [("big.pdf", PDF + b"z" * 200_000, "application/pdf")],
        )

        assert response.status_code == 413
        assert response.json()["type"] == "/problems/content_too_large"


async def test_identity_fields_are_validated(api: Api, worker: str) -> None:
    player = await api.player()

    response = await submit(api, player["access_token"], identity(nationality="Germany"))

    assert response.status_code == 422
    assert "nationality" in response.json()["detail"]
