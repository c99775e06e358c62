"""Secrets generated on first use and kept in a file, for one-machine runs.

Production gives each secret through a ``CROUPIER_*`` variable. ``croupier up`` and
local runs should work without any, so the first process that needs a secret writes a
random one to a file under ``data_dir`` (mode 0600) and every later process, or a
concurrent one, reads the same value back.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from croupier.core.errors import ConfigurationError

SECRET_BYTES = 48
# token_urlsafe(48) is 64 characters; anything much shorter was not written by us.
MIN_SECRET_CHARS = 32


def read_or_create_secret(path: Path, *, variable: str) -> str:
    """The secret in ``path``, created there first if missing.

    ``variable`` names the setting that replaces the file, for the error message.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes and the other reads.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigurationError(
                f"{path} holds no usable secret; delete it or set {variable}"
            ) from None
        return secret
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def configured_or_local(
    configured: SecretStr | None, data_dir: Path, file_name: str, *, variable: str
) -> str:
    """The secret of setting ``variable`` when set, else the one kept in
    ``data_dir/file_name`` (created on first use)."""
    if configured is not None:
        return configured.get_secret_value()
    return read_or_create_secret(data_dir.resolve() / file_name, variable=variable)
