"""The 1M-round samples, drawn once per session and shared by every statistical test."""

from __future__ import annotations

import pytest

from tests.statistical import montecarlo


@pytest.fixture(scope="session")
def samples() -> montecarlo.Samples:
    return montecarlo.Samples(
        dice=montecarlo.sample_dice(),
        limbo=montecarlo.sample_limbo(),
        plinko=montecarlo.sample_plinko(),
        mines=montecarlo.sample_mines(),
        crash=montecarlo.sample_crash(),
    )
