"""Where the JWT signing secret comes from.

``CROUPIER_JWT_SECRET`` when set. Otherwise, for ``croupier up`` and other one-machine
runs, a secret generated on first start and kept in ``data_dir/jwt-secret`` (mode
0600), so tokens survive restarts. Several API replicas must be given one shared
value: each would otherwise mint its own, and reject the others' tokens.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import structlog

from croupier.core.errors import ConfigurationError
from croupier.core.settings import MIN_JWT_SECRET_CHARS, Settings

DEV_SECRET_FILE = "jwt-secret"  # noqa: S105 (a file name)
_DEV_SECRET_BYTES = 48

log = structlog.get_logger(__name__)


def jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir.resolve() / DEV_SECRET_FILE
    secret = _read_or_create(path)
    log.warning("jwt_secret_from_data_dir", path=str(path), hint="set CROUPIER_JWT_SECRET")
    return secret


def _read_or_create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes and the other reads.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) < MIN_JWT_SECRET_CHARS:
            raise ConfigurationError(
                f"{path} holds no usable JWT secret; delete it or set CROUPIER_JWT_SECRET"
            ) from None
        return secret
    secret = secrets.token_urlsafe(_DEV_SECRET_BYTES)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret
