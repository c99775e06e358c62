"""The stand-in answers as Vault's API documents, so keystore tests against it mean something."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.vault_standin import VaultStandIn


def _kv_url(vault: VaultStandIn, path: str) -> str:
    return f"{vault.url}/v1/secret/data/{path}"


def _write(
    vault: VaultStandIn, path: str, body: Any, token: str | None = None
) -> requests.Response:
    headers = {"X-Vault-Token": token or vault.root_token}
    return requests.post(_kv_url(vault, path), json=body, headers=headers, timeout=5)


def _read(vault: VaultStandIn, path: str, **params: int) -> requests.Response:
    headers = {"X-Vault-Token": vault.root_token}
    return requests.get(_kv_url(vault, path), params=params, headers=headers, timeout=5)


@pytest.fixture
def path() -> str:
    return f"standin/{uuid.uuid4().hex}"


def test_each_write_is_a_new_version_and_old_versions_stay_readable(
    vault_standin: VaultStandIn, path: str
) -> None:
    first = _write(vault_standin, path, {"data": {"n": 1}})
    second = _write(vault_standin, path, {"data": {"n": 2}})

    assert first.status_code == second.status_code == 200
    assert second.json()["data"]["version"] == 2
    latest = _read(vault_standin, path).json()["data"]
    assert latest["data"] == {"n": 2}
    assert latest["metadata"]["version"] == 2
    assert set(latest["metadata"]) == {
        "created_time",
        "custom_metadata",
        "deletion_time",
        "destroyed",
        "version",
    }
    assert _read(vault_standin, path, version=1).json()["data"]["data"] == {"n": 1}


def test_check_and_set_refuses_a_stale_version(vault_standin: VaultStandIn, path: str) -> None:
    assert _write(vault_standin, path, {"data": {"n": 1}, "options": {"cas": 0}}).status_code == 200

    stale = _write(vault_standin, path, {"data": {"n": 2}, "options": {"cas": 0}})
    current = _write(vault_standin, path, {"data": {"n": 2}, "options": {"cas": 1}})

    assert stale.status_code == 400
    assert stale.json() == {"errors": ["check-and-set parameter did not match the current version"]}
    assert current.status_code == 200


@pytest.mark.parametrize("body", [{}, {"data": "not an object"}, {"options": {"cas": 0}}])
def test_a_write_without_a_data_object_is_a_bad_request(
    vault_standin: VaultStandIn, path: str, body: dict[str, Any]
) -> None:
    response = _write(vault_standin, path, body)

    assert response.status_code == 400
    assert response.json() == {"errors": ["no data provided"]}


def test_a_missing_secret_is_404_with_an_empty_error_list(
    vault_standin: VaultStandIn, path: str
) -> None:
    response = _read(vault_standin, path)

    assert response.status_code == 404
    assert response.json() == {"errors": []}


def test_a_bad_token_is_403_permission_denied(vault_standin: VaultStandIn, path: str) -> None:
    response = _write(vault_standin, path, {"data": {"n": 1}}, token="hvs.wrong")

    assert response.status_code == 403
    assert response.json() == {"errors": ["permission denied"]}


def test_approle_login_returns_a_client_token_that_works(
    vault_standin: VaultStandIn, path: str
) -> None:
    role_id, secret_id = vault_standin.create_approle()

    login = requests.post(
        f"{vault_standin.url}/v1/auth/approle/login",
        json={"role_id": role_id, "secret_id": secret_id},
        timeout=5,
    )
    token = login.json()["auth"]["client_token"]

    assert login.status_code == 200
    assert login.json()["auth"]["renewable"] is True
    assert _write(vault_standin, path, {"data": {"n": 1}}, token=token).status_code == 200


def test_a_sealed_vault_answers_503_everywhere_but_health_and_seal_status(
    vault_standin: VaultStandIn, path: str
) -> None:
    with vault_standin.sealed():
        read = _read(vault_standin, path)
        health = requests.get(f"{vault_standin.url}/v1/sys/health", timeout=5)
        seal_status = requests.get(f"{vault_standin.url}/v1/sys/seal-status", timeout=5)

    assert read.status_code == 503
    assert read.json() == {"errors": ["Vault is sealed"]}
    assert health.status_code == 503
    assert health.json()["sealed"] is True
    assert seal_status.status_code == 200
    assert seal_status.json()["sealed"] is True
    assert requests.get(f"{vault_standin.url}/v1/sys/health", timeout=5).status_code == 200
