"""TOTP secrets at rest open only with their key and for their own user; a secret stored
before sealing existed reads as it stands."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from croupier.core.errors import ConfigurationError
from croupier.core.settings import Settings
from croupier.identity.totp import new_secret
from croupier.identity.totp_sealing import PREFIX, TotpSealer, is_sealed, totp_sealer_from_settings

KEY = "t" * 40


def test_a_sealed_secret_opens_for_its_user_and_shows_nothing_of_the_secret() -> None:
    user, secret = uuid.uuid4(), new_secret()

    stored = TotpSealer(KEY).seal(user, secret)

    assert stored.startswith(PREFIX) and secret not in stored
    assert TotpSealer(KEY).unseal(user, stored) == secret
    assert stored != TotpSealer(KEY).seal(user, secret)  # a fresh nonce each time


def test_a_sealed_secret_does_not_open_for_another_user_or_with_another_key() -> None:
    user = uuid.uuid4()
    stored = TotpSealer(KEY).seal(user, new_secret())

    with pytest.raises(ConfigurationError, match="CROUPIER_TOTP_SEALING_KEY"):
        TotpSealer(KEY).unseal(uuid.uuid4(), stored)
    with pytest.raises(ConfigurationError, match="does not open"):
        TotpSealer("other" * 10).unseal(user, stored)


def test_a_damaged_sealed_value_is_refused_not_crashed_on() -> None:
    with pytest.raises(ConfigurationError, match="does not open"):
        TotpSealer(KEY).unseal(uuid.uuid4(), PREFIX + "not base64!")


def test_a_secret_stored_before_sealing_reads_as_it_stands_and_seals_on_request() -> None:
    user, legacy = uuid.uuid4(), new_secret()
    sealer = TotpSealer(KEY)

    assert not is_sealed(legacy)
    assert sealer.unseal(user, legacy) == legacy
    resealed = sealer.sealed(user, legacy)
    assert is_sealed(resealed) and sealer.unseal(user, resealed) == legacy
    assert sealer.sealed(user, resealed) == resealed


def test_a_short_key_is_refused_and_the_key_never_shows_in_a_repr() -> None:
    with pytest.raises(ConfigurationError, match="at least"):
        TotpSealer("short")
    assert KEY not in repr(TotpSealer(KEY))


def test_without_a_configured_key_one_is_kept_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    user = uuid.uuid4()
    stored = totp_sealer_from_settings(settings).seal(user, "JBSWY3DPEHPK3PXP")

    # Another process on the machine reads the same key back.
    assert totp_sealer_from_settings(settings).unseal(user, stored) == "JBSWY3DPEHPK3PXP"
    assert (tmp_path / "totp-sealing-key").stat().st_mode & 0o777 == 0o600
