from __future__ import annotations

import pytest

from croupier.core.errors import InvalidInput
from croupier.core.ids import business_key, parse_uuid


def test_business_keys_are_deterministic() -> None:
    assert business_key("deposit", "eth", "0xabc", 3) == "deposit-eth-0xabc-3"


@pytest.mark.parametrize("part", ["", "a b", "x/y", "é", "a" * 201])
def test_business_key_parts_are_restricted(part: str) -> None:
    with pytest.raises(InvalidInput):
        business_key("bet", part)


def test_uuids_are_normalised_or_refused() -> None:
    assert (
        parse_uuid("6F9619FF-8B86-D011-B42D-00C04FC964FF") == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    )
    with pytest.raises(InvalidInput, match="withdrawal id must be a UUID"):
        parse_uuid("nope", what="withdrawal id")
