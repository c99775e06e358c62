"""Where the JWT signing secret comes from.

``CROUPIER_JWT_SECRET`` when set. Otherwise, for ``croupier up`` and other one-machine
runs, a secret generated on first start and kept in ``data_dir/jwt-secret`` (mode
0600), so tokens survive restarts. Several API replicas must be given one shared
value: each would otherwise mint its own, and reject the others' tokens.
"""

from __future__ import annotations

import structlog

from croupier.core.local_secrets import configured_or_local
from croupier.core.settings import Settings

DEV_SECRET_FILE = "jwt-secret"  # noqa: S105 (a file name)

log = structlog.get_logger(__name__)


def jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret is None:
        path = settings.data_dir.resolve() / DEV_SECRET_FILE
        log.warning("jwt_secret_from_data_dir", path=str(path), hint="set CROUPIER_JWT_SECRET")
    return configured_or_local(
        settings.jwt_secret, settings.data_dir, DEV_SECRET_FILE, variable="CROUPIER_JWT_SECRET"
    )
