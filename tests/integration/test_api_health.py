"""The API's health and error surface against the real database and Temporal."""

from __future__ import annotations

from fastapi.testclient import TestClient

from croupier.api.app import create_app
from croupier.core.settings import Settings
from croupier.workers.processes import free_port


def test_healthz_is_ok_when_database_and_temporal_answer(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() | {"version": "-"} == {
        "status": "ok",
        "version": "-",
        "database": "ok",
        "temporal": "ok",
    }


def test_healthz_reports_an_unreachable_database_as_503(settings: Settings) -> None:
    broken = settings.model_copy(
        update={
            "database_url": f"postgresql://nobody@127.0.0.1:{free_port()}/none",
            "database_connect_timeout_s": 1,
        }
    )
    with TestClient(create_app(broken)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["temporal"] == "ok"


def test_unknown_route_is_a_problem_body_not_html(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) == {"type", "title", "status", "detail"}
    assert response.json()["type"] == "/problems/not_found"
