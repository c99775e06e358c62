"""Identifiers. Business keys double as workflow ids, transfer ids and unique constraints."""

from __future__ import annotations

import re
import uuid

from croupier.core.errors import InvalidInput

_KEY_PART_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


def new_uuid() -> str:
    return str(uuid.uuid4())


def business_key(prefix: str, *parts: str | int) -> str:
    """Join parts into a deterministic key such as ``deposit-eth-0xabc-3``.

    Parts are restricted to a safe alphabet so a key is usable as a Temporal workflow
    id, a database key and a URL segment alike.
    """
    rendered = [str(part) for part in (prefix, *parts)]
    for part in rendered:
        if not _KEY_PART_RE.match(part):
            raise InvalidInput(
                f"business key part {part!r} must be 1-200 characters of [A-Za-z0-9_.:-]"
            )
    return "-".join(rendered)


def parse_uuid(value: str, *, what: str = "id") -> str:
    """Normalise a UUID string, or raise ``InvalidInput`` naming what was expected."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(f"{what} must be a UUID, got {value!r}") from None
