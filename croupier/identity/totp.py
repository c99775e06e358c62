"""TOTP (RFC 6238) with pyotp: 6 digits, 30-second steps, one step of drift allowed.

A code is accepted at most once: the caller stores the matched time step and refuses
any code whose step is not later (RFC 6238 section 5.2), so a code seen over a
shoulder or in a log cannot be replayed within its validity window.
"""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
from pyotp.exceptions import OTPVerificationError

# One step either side absorbs clock drift between the server and a phone.
DRIFT_STEPS = 1
CODE_RE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """A fresh 160-bit secret in base32, the length RFC 4226 recommends."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step ``code`` belongs to at instant ``at``, or ``None`` if it matches none."""
    if not CODE_RE.match(code):
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code, for_time=at, valid_window=DRIFT_STEPS
        )
    except OTPVerificationError:
        return None
