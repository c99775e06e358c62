"""A wrapper that keeps key material out of everything a human or a log might read.

A seed, a mnemonic or a private key in a plain ``bytes`` or ``str`` ends up in a
``repr`` in a log line, a dataclass dump, an f-string in an exception or a pickled
payload sooner or later. ``Secret`` makes each of those paths show a fixed redaction
instead, and the only way to the value is an explicit, greppable ``reveal()``.
"""

from __future__ import annotations

import hmac
from typing import Any, Generic, NoReturn, TypeVar

REDACTED = "Secret('**redacted**')"

SecretValue = TypeVar("SecretValue", bytes, str)


class Secret(Generic[SecretValue]):
    """A ``bytes`` or ``str`` whose repr, str and format are redacted.

    Equality is constant-time (``hmac.compare_digest``) so comparing secrets leaks no
    timing; secrets are unhashable and refuse to be pickled or copied, so they cannot
    drift into a Temporal payload, a cache key or a multiprocessing queue.
    """

    __slots__ = ("_value",)
    _value: SecretValue

    def __init__(self, value: SecretValue) -> None:
        if not isinstance(value, bytes | str):
            raise TypeError("a Secret holds bytes or str")
        self._value = value

    def reveal(self) -> SecretValue:
        """The value itself: call this only where it is handed to the code that uses it."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret) or type(other._value) is not type(self._value):
            return NotImplemented
        return hmac.compare_digest(_as_bytes(self._value), _as_bytes(other._value))

    __hash__ = None  # type: ignore[assignment]

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Secret cannot be pickled or copied")


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")
