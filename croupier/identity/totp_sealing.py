"""TOTP secrets at rest: sealed, so a copy of the database does not hand out second
factors (staff accounts must have one, so they are the accounts it protects most).

The key comes from ``CROUPIER_TOTP_SEALING_KEY``, or, on a one-machine dev stack, from a
key file generated on first use in ``data_dir`` (like the JWT secret). A sealed value is
bound to its user: copied onto another account, it does not open.

Stored as text, ``sealed:v1:`` and the URL-safe base64 of the sealed bytes. A value
without that prefix was written before secrets were sealed: it is read as it stands,
and sealed when its account next logs in with a code (``IdentityService.login``).
"""

from __future__ import annotations

import base64
import uuid

from croupier.core.errors import ConfigurationError
from croupier.core.local_secrets import configured_or_local
from croupier.core.sealing import SealBroken, Sealer
from croupier.core.settings import Settings

PREFIX = "sealed:v1:"
DEV_KEY_FILE = "totp-sealing-key"
VARIABLE = "CROUPIER_TOTP_SEALING_KEY"
_KEY_CONTEXT = b"croupier/totp-sealing/v1\0"


class TotpSealer:
    __slots__ = ("_sealer",)

    def __init__(self, secret: str) -> None:
        self._sealer = Sealer(secret, context=_KEY_CONTEXT, variable=VARIABLE)

    def __repr__(self) -> str:
        return "TotpSealer(**redacted**)"

    def seal(self, user_id: uuid.UUID, totp_secret: str) -> str:
        sealed = self._sealer.seal(user_id.bytes, totp_secret.encode("ascii"))
        return PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def unseal(self, user_id: uuid.UUID, stored: str) -> str:
        """The TOTP secret of a stored value (one written before sealing, as it stands)."""
        if not is_sealed(stored):
            return stored
        try:
            sealed = base64.urlsafe_b64decode(stored.removeprefix(PREFIX))
            return self._sealer.unseal(user_id.bytes, sealed).decode("ascii")
        except (SealBroken, ValueError):
            raise ConfigurationError(
                f"the TOTP secret of user {user_id} does not open with this sealing key: "
                f"is {VARIABLE} the one it was sealed with?"
            ) from None

    def sealed(self, user_id: uuid.UUID, stored: str) -> str:
        """``stored`` sealed: as it is when it is, else sealed now."""
        return stored if is_sealed(stored) else self.seal(user_id, stored)


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def totp_sealer_from_settings(settings: Settings) -> TotpSealer:
    """The configured key, or the dev key file in ``data_dir`` (created on first use)."""
    return TotpSealer(
        configured_or_local(
            settings.totp_sealing_key, settings.data_dir, DEV_KEY_FILE, variable=VARIABLE
        )
    )
