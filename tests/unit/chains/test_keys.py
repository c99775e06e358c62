"""A signing key never shows itself: not in repr, str, f-strings, pickles or payloads."""

from __future__ import annotations

import copy
import pickle

import pytest

from croupier.chains.keys import InvalidKey, SigningKey

SECRET_HEX = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def test_the_key_is_redacted_in_every_text_form() -> None:
    key = SigningKey.from_hex("0x" + SECRET_HEX)

    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert SECRET_HEX not in text
        assert "redacted" in text


def test_reveal_is_the_only_way_to_the_bytes() -> None:
    assert SigningKey.from_hex(SECRET_HEX).reveal() == bytes.fromhex(SECRET_HEX)


def test_the_key_refuses_to_be_pickled_or_copied() -> None:
    key = SigningKey.from_hex(SECRET_HEX)

    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)


def test_the_key_is_not_hashable_so_it_cannot_become_a_dict_key() -> None:
    with pytest.raises(TypeError):
        hash(SigningKey.from_hex(SECRET_HEX))


def test_keys_compare_by_value() -> None:
    assert SigningKey.from_hex(SECRET_HEX) == SigningKey(bytes.fromhex(SECRET_HEX))
    assert SigningKey.from_hex(SECRET_HEX) != SigningKey(b"\x01" * 32)


@pytest.mark.parametrize("material", [b"", b"\xab" * 31, b"\xab" * 33])
def test_key_material_of_the_wrong_length_is_refused_without_echoing_it(material: bytes) -> None:
    with pytest.raises(InvalidKey) as caught:
        SigningKey(material)

    assert "abab" not in str(caught.value)


def test_non_hex_text_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidKey) as caught:
        SigningKey.from_hex("0x" + "zz" + SECRET_HEX[2:])

    assert SECRET_HEX[2:] not in str(caught.value)
