"""docker-compose.yml checked offline: no Docker engine runs on these machines.

What a `docker compose up` would trip over first is checked here: services without an
image, variables the code does not read, colliding host ports, URLs pointing at
services that do not exist, and search attributes the workflows need but nobody
registers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from croupier.core.settings import ENV_PREFIX, Settings
from croupier.workers.cli import app
from croupier.workflows import search_attributes

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_SERVICES = {
    "postgres",
    "temporal",
    "temporal-ui",
    "vault",
    "anvil",
    "bitcoind",
    "api",
    "worker",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _croupier_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    return {k: str(v) for k, v in env.items() if k.startswith(ENV_PREFIX)}


def test_every_service_the_code_expects_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= EXPECTED_SERVICES


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").is_file(), name


def test_every_croupier_variable_is_a_real_setting(services: dict[str, dict[str, Any]]) -> None:
    known = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    for name, service in services.items():
        unknown = set(_croupier_env(service)) - known
        assert not unknown, f"{name} passes variables no setting reads: {sorted(unknown)}"


def test_croupier_settings_in_compose_validate(services: dict[str, dict[str, Any]]) -> None:
    for service in (services["api"], services["worker"]):
        values = {k.removeprefix(ENV_PREFIX).lower(): v for k, v in _croupier_env(service).items()}
        Settings.model_validate(values)


def test_urls_point_at_services_that_exist(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "worker"):
        env = _croupier_env(services[name])
        hosts = {
            urlsplit(env["CROUPIER_DATABASE_URL"]).hostname,
            env["CROUPIER_TEMPORAL_ADDRESS"].rsplit(":", 1)[0],
            urlsplit(env["CROUPIER_ETH_RPC_URL"]).hostname,
        }
        assert hosts <= set(services), f"{name} points at {hosts - set(services)}"


def test_host_ports_do_not_collide(services: dict[str, dict[str, Any]]) -> None:
    host_ports = [
        str(mapping).split(":")[-2]
        for service in services.values()
        for mapping in service.get("ports", [])
    ]
    assert len(host_ports) == len(set(host_ports)), host_ports


def test_search_attributes_the_workflows_set_are_registered(
    services: dict[str, dict[str, Any]],
) -> None:
    script = " ".join(services["temporal-setup"]["command"])
    registered = set(re.search(r"for name in ([\w ]+); do", script).group(1).split())  # type: ignore[union-attr]
    assert registered == {key.name for key in search_attributes.ALL}


def test_containers_run_real_croupier_commands(services: dict[str, dict[str, Any]]) -> None:
    commands = {
        command.name or getattr(command.callback, "__name__", "")
        for command in app.registered_commands
    }
    dockerfile_cmd = re.search(r'CMD \["croupier", "(\w+)"\]', (ROOT / "Dockerfile").read_text())
    assert dockerfile_cmd is not None and dockerfile_cmd.group(1) in commands
    for service in services.values():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["croupier"]:
            assert command[1] in commands, command
