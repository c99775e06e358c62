"""TOTP codes match their own time step, one step of drift either way, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from croupier.identity import totp

AT = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)


@pytest.fixture
def secret() -> str:
    return totp.new_secret()


def test_a_current_code_matches_the_current_step(secret: str) -> None:
    code = pyotp.TOTP(secret).at(AT)
    assert totp.matching_step(secret, code, AT) == int(AT.timestamp()) // 30


@pytest.mark.parametrize("drift_s", [-30, 30])
def test_one_step_of_drift_is_tolerated(secret: str, drift_s: int) -> None:
    code = pyotp.TOTP(secret).at(AT + timedelta(seconds=drift_s))
    assert totp.matching_step(secret, code, AT) == (int(AT.timestamp()) + drift_s) // 30


def test_two_steps_away_is_wrong(secret: str) -> None:
    code = pyotp.TOTP(secret).at(AT - timedelta(seconds=60))
    assert totp.matching_step(secret, code, AT) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", " 123456"])
def test_codes_of_the_wrong_shape_never_match(secret: str, code: str) -> None:
    assert totp.matching_step(secret, code, AT) is None


def test_the_provisioning_uri_names_issuer_and_account(secret: str) -> None:
    uri = totp.provisioning_uri(secret, account="ann@example.com", issuer="Croupier")
    assert uri.startswith("otpauth://totp/Croupier:ann%40example.com?")
    assert f"secret={secret}" in uri
    assert "issuer=Croupier" in uri
