"""Server seeds at rest open only with their key and on their own pair."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from croupier.betting.sealing import SeedSealer, sealer_from_settings
from croupier.core.errors import ConfigurationError
from croupier.core.settings import Settings
from croupier.games.seeds import generate_server_seed

KEY = "k" * 40


def test_a_sealed_seed_opens_with_its_key_and_pair() -> None:
    pair_id, seed = uuid.uuid4(), generate_server_seed()
    sealed = SeedSealer(KEY).seal(pair_id, seed)

    assert seed.encode() not in sealed
    assert SeedSealer(KEY).unseal(pair_id, sealed) == seed


def test_a_sealed_seed_does_not_open_with_another_key() -> None:
    pair_id = uuid.uuid4()
    sealed = SeedSealer(KEY).seal(pair_id, generate_server_seed())

    with pytest.raises(ConfigurationError, match="sealing key"):
        SeedSealer("other" * 10).unseal(pair_id, sealed)


def test_a_sealed_seed_copied_onto_another_pair_does_not_open() -> None:
    sealed = SeedSealer(KEY).seal(uuid.uuid4(), generate_server_seed())

    with pytest.raises(ConfigurationError):
        SeedSealer(KEY).unseal(uuid.uuid4(), sealed)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least"):
        SeedSealer("short")


def test_the_repr_never_shows_the_key() -> None:
    assert KEY not in repr(SeedSealer(KEY))


def test_without_a_configured_key_one_is_kept_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    pair_id, seed = uuid.uuid4(), generate_server_seed()

    sealed = sealer_from_settings(settings).seal(pair_id, seed)

    assert sealer_from_settings(settings).unseal(pair_id, sealed) == seed
    assert (tmp_path / "seed-sealing-key").stat().st_mode & 0o777 == 0o600
