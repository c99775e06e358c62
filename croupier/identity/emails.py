"""Email addresses as account names: one normal form, so ``Ann@X.io`` and ``ann@x.io`` are
one account.

The check is syntactic and deliberately plain (ASCII, dotted domain, no quoted local
parts): an address we cannot store and compare unambiguously is refused with a
reason, not guessed at. Whether mail arrives is a later, separate proof.
"""

from __future__ import annotations

import re

from croupier.identity.errors import InvalidEmail

MAX_EMAIL_CHARS = 254  # RFC 5321 path limit
MAX_LOCAL_PART_CHARS = 64

_LOCAL_PART_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def normalise_email(raw: str) -> str:
    """Strip and lower-case an address, or raise ``InvalidEmail`` saying what is wrong."""
    email = raw.strip().lower()
    if not email:
        raise InvalidEmail("email must not be empty")
    if len(email) > MAX_EMAIL_CHARS:
        raise InvalidEmail(f"email must be at most {MAX_EMAIL_CHARS} characters")
    if not email.isascii():
        raise InvalidEmail("email must be ASCII (write an international domain in punycode)")
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("email must look like name@example.com")
    if len(local) > MAX_LOCAL_PART_CHARS or not _LOCAL_PART_RE.match(local):
        raise InvalidEmail(
            "the part before @ must be 1-64 letters, digits or !#$%&'*+/=?^_`{|}~- "
            "with single dots between them"
        )
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL_RE.match(label) for label in labels):
        raise InvalidEmail("the domain must be dotted labels of letters, digits and hyphens")
    if not _TOP_LEVEL_RE.match(labels[-1]):
        raise InvalidEmail("the domain must end in a top-level domain such as .com")
    return email


def login_form(raw: str) -> str:
    """The form a login looks an email up by: trimmed and lower-cased, not validated, so a
    malformed address is simply an account that does not exist."""
    return raw.strip().lower()
