"""``croupier users create-staff``: the only way staff accounts come into existence."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.integration.api.conftest import PASSWORD, Api, new_email


def run_cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CROUPIER_DATABASE_URL": database_url,
        "CROUPIER_PASSWORD_HASH_TIME_COST": "1",
        "CROUPIER_PASSWORD_HASH_MEMORY_KIB": "8192",
    }
    return subprocess.run(
        [sys.executable, "-m", "croupier.workers.cli", "users", "create-staff", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_a_generated_password_is_printed_once_and_logs_in(
    api: Api, database_url: str
) -> None:
    email = new_email()

    created = run_cli(database_url, "--email", email, "--role", "compliance", "--json")

    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    assert record["email"] == email
    assert record["role"] == "compliance"
    tokens = await api.login(email, record["password"])
    assert tokens["totp_enrolment_required"] is True


async def test_a_password_can_come_from_stdin_and_is_never_echoed(
    api: Api, database_url: str
) -> None:
    email = new_email()

    created = run_cli(
        database_url, "--email", email, "--role", "treasury", "--password-stdin", stdin=PASSWORD
    )

    assert created.returncode == 0, created.stderr
    assert PASSWORD not in created.stdout
    assert "treasury" in created.stdout
    await api.login(email, PASSWORD)


def test_players_duplicates_and_weak_passwords_are_one_line_errors(database_url: str) -> None:
    email = new_email()
    run_cli(database_url, "--email", email, "--role", "support", "--password-stdin", stdin=PASSWORD)

    player = run_cli(database_url, "--email", new_email(), "--role", "player")
    duplicate = run_cli(database_url, "--email", email.upper(), "--role", "admin")
    weak = run_cli(
        database_url, "--email", new_email(), "--role", "admin", "--password-stdin", stdin="short"
    )

    assert player.returncode == 2
    assert duplicate.returncode == 2
    assert duplicate.stderr == f"croupier: error: {email} already has an account\n"
    assert weak.returncode == 2
    assert weak.stderr.startswith("croupier: error: password must be at least 12 characters")
