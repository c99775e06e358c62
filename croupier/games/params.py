"""Parsing bet parameters from untrusted maps (JSON bodies, ``--param key=value``).

Values arrive as strings or ints; decimals such as a dice target are parsed exactly
into integer hundredths, never through a float.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TypeVar

from croupier.games.errors import InvalidBet

Params = Mapping[str, object]

_HUNDREDTHS_RE = re.compile(r"(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,2}))?")
_WHOLE_RE = re.compile(r"0|[1-9][0-9]{0,15}")
MAX_LIST_ITEMS = 25

ChoiceT = TypeVar("ChoiceT", bound=str)


def check_known(params: Params, known: Collection[str], game: str) -> None:
    """Reject keys the game does not read, so a typo never silently changes a bet."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise InvalidBet(f"{game}: unknown parameter {unknown[0]!r}; expected {expected}")


def _required(params: Params, key: str, game: str) -> object:
    if key not in params:
        raise InvalidBet(f"{game}: missing parameter {key!r}")
    return params[key]


def hundredths(params: Params, key: str, game: str) -> int:
    """A non-negative decimal with at most 2 places ("50.5", "2", or int 2) in hundredths."""
    value = _required(params, key, game)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * 100
    if isinstance(value, str):
        match = _HUNDREDTHS_RE.fullmatch(value.strip())
        if match:
            return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    raise InvalidBet(
        f"{game}: {key} must be a decimal with at most 2 places, such as 2.50; got {value!r}"
    )


def whole_number(params: Params, key: str, game: str) -> int:
    """A non-negative integer given as an int or a string of digits."""
    value = _required(params, key, game)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _WHOLE_RE.fullmatch(value.strip()):
        return int(value)
    raise InvalidBet(f"{game}: {key} must be a whole number; got {value!r}")


def one_of(params: Params, key: str, options: Sequence[ChoiceT], game: str) -> ChoiceT:
    """One of ``options``, given exactly as spelled (case-insensitive)."""
    value = _required(params, key, game)
    if isinstance(value, str):
        for option in options:
            if value.strip().lower() == option:
                return option
    raise InvalidBet(f"{game}: {key} must be one of {', '.join(options)}; got {value!r}")


def whole_numbers(params: Params, key: str, game: str) -> tuple[int, ...]:
    """A list of whole numbers: a JSON list of ints or a comma-separated string."""
    value = _required(params, key, game)
    items: list[object]
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",")] if value.strip() else []
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InvalidBet(f"{game}: {key} must be a list of whole numbers; got {value!r}")
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidBet(f"{game}: {key} has more than {MAX_LIST_ITEMS} items")
    return tuple(whole_number({key: item}, key, game) for item in items)


def format_hundredths(value_h: int) -> str:
    """Hundredths as a fixed two-place decimal string: 5050 -> "50.50"."""
    assert value_h >= 0, value_h
    return f"{value_h // 100}.{value_h % 100:02d}"
