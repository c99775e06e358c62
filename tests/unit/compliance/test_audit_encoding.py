"""The audit hash covers every field, in one canonical encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from croupier.compliance.audit import Anchor, canonical_encoding, entry_hash
from croupier.compliance.errors import InvalidAuditEntry

AT = datetime(2025, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
ROW = (7, AT, "system:kyc-auto", "kyc.approve", "kyc_review:1", {"b": 1, "a": ["x"]}, "0" * 64)


def test_the_encoding_is_key_order_and_time_zone_independent() -> None:
    same_moment = AT.astimezone(timezone(timedelta(hours=2)))
    reordered = (*ROW[:1], same_moment, *ROW[2:5], {"a": ["x"], "b": 1}, ROW[6])

    assert canonical_encoding(*ROW) == canonical_encoding(*reordered)
    assert canonical_encoding(*ROW) == (
        b'[7,"2025-06-15T12:00:00.123456+00:00","system:kyc-auto","kyc.approve",'
        b'"kyc_review:1",{"a":["x"],"b":1},"' + b"0" * 64 + b'"]'
    )


@pytest.mark.parametrize("field", range(7))
def test_changing_any_field_changes_the_hash(field: int) -> None:
    changed = list(ROW)
    changed[field] = {
        0: 8,
        1: AT + timedelta(microseconds=1),
        2: "system:other",
        3: "kyc.reject",
        4: "kyc_review:2",
        5: {"b": 2, "a": ["x"]},
        6: "1" * 64,
    }[field]
    assert entry_hash(*changed) != entry_hash(*ROW)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["7", "0:" + "a" * 64, "7:" + "A" * 64, "7:abc"])
def test_malformed_anchors_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAuditEntry):
        Anchor.parse(raw)
