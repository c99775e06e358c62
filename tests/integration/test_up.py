"""`croupier up` from the outside: it serves, it stops cleanly, it refuses clearly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from web3 import Web3

from croupier.workers.processes import free_port

CROUPIER = [sys.executable, "-m", "croupier.workers.cli"]


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROUPIER_")}
    env.update(
        CROUPIER_DATA_DIR=str(tmp_path / ".croupier"),
        CROUPIER_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        CROUPIER_TEMPORAL_UI_PORT=str(free_port()),
        CROUPIER_API_PORT=str(free_port()),
        CROUPIER_ANVIL_PORT=str(free_port()),
    )
    env.update(overrides)
    return env


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        status: int = response.status
        return status


def _deposit_address_of_a_new_player(api: str) -> str:
    """Register, log in and ask for an ETH deposit address: API, worker, keystore at once."""
    with httpx.Client(base_url=api, timeout=30) as client:
        credentials = {"email": "player@example.com", "password": "correct horse battery 9"}
        assert client.post("/auth/register", json=credentials).status_code == 201
        token = client.post("/auth/login", json=credentials).json()["access_token"]
        response = client.get(
            "/deposits/address",
            params={"currency": "ETH"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    address: str = response.json()["address"]
    return address


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout_s: float) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not printed in {timeout_s}s; output:\n{''.join(seen)}")


@pytest.fixture
def running_stack(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = _env(tmp_path)
    process = subprocess.Popen(
        [*CROUPIER, "up"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, env
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _family(pid: int) -> set[int]:
    parent = psutil.Process(pid)
    return {parent.pid, *(child.pid for child in parent.children(recursive=True))}


def _postgres_pids(data_dir: str) -> set[int]:
    return {
        proc.pid
        for proc in psutil.process_iter(["name", "cmdline"])
        if proc.info["name"] == "postgres" and data_dir in " ".join(proc.info["cmdline"] or [])
    }


def test_up_serves_api_and_ui_and_ctrl_c_leaves_no_process_behind(
    running_stack: tuple[subprocess.Popen[str], dict[str, str]], anvil_binary: Path
) -> None:
    process, env = running_stack
    _wait_for_line(process, "croupier is up", timeout_s=120)

    api = f"http://127.0.0.1:{env['CROUPIER_API_PORT']}"
    assert _get(f"{api}/healthz") == 200
    assert _get(f"{api}/docs") == 200
    assert _get(f"http://127.0.0.1:{env['CROUPIER_TEMPORAL_UI_PORT']}/") == 200
    with socket.create_connection(("127.0.0.1", int(env["CROUPIER_ANVIL_PORT"])), timeout=5):
        pass
    assert Web3.is_checksum_address(_deposit_address_of_a_new_player(api))
    data_dir = Path(env["CROUPIER_DATA_DIR"])
    for secret_file in ("keystore.json", "keystore-passphrase", "jwt-secret"):
        assert (data_dir / secret_file).stat().st_mode & 0o777 == 0o600, secret_file
    started = _family(process.pid) | _postgres_pids(env["CROUPIER_DATA_DIR"])
    assert len(started) >= 6  # up, temporal, anvil, worker, api, postgres (+ its helpers)

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 0, output
    assert "no child process left running" in output
    survivors = [
        pid
        for pid in started
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert survivors == []


def test_up_refuses_a_taken_port_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        env = _env(tmp_path, CROUPIER_API_PORT=str(taken))
        result = subprocess.run(
            [*CROUPIER, "up"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"port {taken}" in result.stderr
    assert "CROUPIER_API_PORT" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unreachable_database_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    closed_port = free_port()
    env = _env(tmp_path, CROUPIER_DATABASE_URL=f"postgresql://croupier@127.0.0.1:{closed_port}/x")
    started = time.monotonic()
    result = subprocess.run(
        [*CROUPIER, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert result.stderr.startswith("croupier: error: cannot reach PostgreSQL")
    assert result.stderr.count("\n") == 1
