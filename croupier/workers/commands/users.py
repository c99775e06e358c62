"""``croupier users``: accounts that cannot sign themselves up, i.e. staff.

Players register through the API; staff (support, compliance, treasury, admin) are
created here by an operator with database access. The password is generated and
shown once, or read from stdin for automation. A new staff member must enrol TOTP
(POST /auth/totp/setup, then /auth/totp/confirm) before staff routes accept them.
"""

from __future__ import annotations

import json
import secrets
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from croupier.core.clock import SystemClock
from croupier.core.errors import InvalidInput
from croupier.core.settings import get_settings
from croupier.identity.roles import Role
from croupier.workers.commands.database import command_engine

# 24 random bytes: 32 URL-safe characters, far past the policy's minimum.
_GENERATED_PASSWORD_BYTES = 24
# Read no further; the password policy then says precisely what is wrong.
_MAX_STDIN_PASSWORD_CHARS = 1024

app = typer.Typer(help="Manage accounts: create staff users.", no_args_is_help=True)
console = Console()


class StaffRole(StrEnum):
    SUPPORT = Role.SUPPORT.value
    COMPLIANCE = Role.COMPLIANCE.value
    TREASURY = Role.TREASURY.value
    ADMIN = Role.ADMIN.value


@app.command("create-staff")
def create_staff(
    email: Annotated[str, typer.Option("--email", help="the staff member's email")],
    role: Annotated[StaffRole, typer.Option("--role", help="the staff role to grant")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="read the password from stdin, not generate one"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Create a staff account; prints a generated one-time password unless given one."""
    # Imported here: argon2 is not every command's cost.
    from croupier.identity.passwords import HashingCost, Passwords
    from croupier.identity.service import create_user

    settings = get_settings()
    with command_engine(settings) as engine:
        password = (
            _read_password() if password_stdin else secrets.token_urlsafe(_GENERATED_PASSWORD_BYTES)
        )
        passwords = Passwords(
            HashingCost(
                time_cost=settings.password_hash_time_cost,
                memory_kib=settings.password_hash_memory_kib,
            )
        )
        user = create_user(engine, SystemClock(), passwords, email, password, Role(role.value))
    shown_password = None if password_stdin else password
    if as_json:
        record = {"id": str(user.id), "email": user.email, "role": user.role.value}
        sys.stdout.write(json.dumps({**record, "password": shown_password}) + "\n")
        return
    console.print(f"[green]ok[/]: created {user.role.value} {user.email} (id {user.id})")
    if shown_password is not None:
        console.print(
            "[bold]password[/] (shown only now; hand it over securely): ", end="", highlight=False
        )
        console.print(shown_password, markup=False, highlight=False)
    console.print("They must enrol TOTP (POST /auth/totp/setup) before staff routes accept them.")


def _read_password() -> str:
    line = sys.stdin.readline(_MAX_STDIN_PASSWORD_CHARS).rstrip("\r\n")
    if not line:
        raise InvalidInput("--password-stdin: no password on stdin (expected one line)")
    return line
