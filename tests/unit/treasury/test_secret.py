"""Key material never shows in a repr, a str, a format, a log line or a pickle."""

from __future__ import annotations

import copy
import logging
import pickle
from dataclasses import dataclass

import pytest

from croupier.treasury.hd import derive, mnemonic_to_seed
from croupier.treasury.secret import REDACTED, Secret
from croupier.treasury.signer import HDSigner

SEED_HEX = "000102030405060708090a0b0c0d0e0f"


@dataclass(frozen=True)
class _Holder:
    name: str
    key: Secret[bytes]


def test_every_text_rendering_of_a_secret_is_redacted() -> None:
    secret = Secret("correct horse battery staple")

    renderings = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>40}"]
    renderings += ["%s" % secret, "{}".format(secret)]  # noqa: UP031, UP032
    renderings += [repr(_Holder("k", Secret(b"\x01")))]

    assert all("horse" not in text and "\\x01" not in text for text in renderings)
    assert REDACTED in renderings[0]


def test_a_secret_in_a_log_record_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("correct horse battery staple")

    with caplog.at_level(logging.INFO):
        logging.getLogger("croupier.test").info("unlocking with %s", secret)

    assert "horse" not in caplog.text
    assert REDACTED in caplog.text


def test_a_secret_cannot_be_pickled_or_copied_out() -> None:
    secret = Secret(b"\x00" * 32)

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    with pytest.raises(TypeError, match="cannot be pickled"):
        copy.deepcopy(secret)


def test_secrets_compare_by_value_and_are_unhashable() -> None:
    assert Secret(b"abc") == Secret(b"abc")
    assert Secret(b"abc") != Secret(b"abd")
    assert Secret("abc") != Secret(b"abc")
    with pytest.raises(TypeError):
        hash(Secret(b"abc"))


def test_derived_keys_show_only_their_public_halves() -> None:
    key = derive(Secret(bytes.fromhex(SEED_HEX)), "m/0'")

    text = repr(key) + str(key)

    assert key.private_key.reveal().hex() not in text
    assert key.xprv.reveal() not in text
    assert key.xpub in text


def test_a_signer_shows_no_seed() -> None:
    seed = mnemonic_to_seed(Secret("test test test test test test test test test test test junk"))

    text = repr(HDSigner(seed)) + str(HDSigner(seed))

    assert seed.reveal().hex() not in text
    assert "redacted" in text
