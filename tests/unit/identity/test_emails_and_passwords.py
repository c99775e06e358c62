"""Account names have one normal form; passwords follow a length-first policy."""

from __future__ import annotations

import pytest

from croupier.identity.emails import normalise_email
from croupier.identity.errors import InvalidEmail, WeakPassword
from croupier.identity.passwords import (
    HashingCost,
    Passwords,
    check_password_policy,
    password_problems,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  ann+casino@example.co.uk \n", "ann+casino@example.co.uk"),
        ("o'brien@xn--bcher-kva.example", "o'brien@xn--bcher-kva.example"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, normal: str) -> None:
    assert normalise_email(raw) == normal


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("ann.example.com", "name@example.com"),
        ("@example.com", "name@example.com"),
        ("ann@", "name@example.com"),
        ("ann@example", "dotted labels"),
        ("ann@-example.com", "dotted labels"),
        ("ann@example.c0m", "top-level"),
        (".ann@example.com", "single dots"),
        ("an..n@example.com", "single dots"),
        ("an n@example.com", "single dots"),
        ("ann@exämple.com", "ASCII"),
        ("a" * 65 + "@example.com", "1-64"),
        ("ann@" + "a" * 250 + ".com", "at most 254"),
    ],
)
def test_unusable_emails_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidEmail, match=reason):
        normalise_email(raw)


def test_a_good_password_breaks_no_rule() -> None:
    assert password_problems("correct horse battery staple", "ann@example.com") == []


def test_every_broken_rule_is_reported_at_once() -> None:
    with pytest.raises(WeakPassword) as refused:
        check_password_policy("aaaa", "someone@example.com")

    message = str(refused.value)
    assert "at least 12 characters" in message
    assert "at least 5 different characters" in message


def test_a_password_containing_the_email_name_is_weak() -> None:
    assert password_problems("xx-Annabel-2024-yy", "annabel@example.com") == [
        "must not contain your email address"
    ]


def test_a_very_long_password_is_refused_before_hashing() -> None:
    assert password_problems("Ab1-x" * 27, "ann@example.com") == ["must be at most 128 characters"]


def test_hashes_are_argon2id_and_verify_only_the_right_password() -> None:
    passwords = Passwords(HashingCost(time_cost=1, memory_kib=8192, parallelism=1))

    stored = passwords.hash("correct horse battery staple")

    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "correct horse battery staple")
    assert not passwords.verify(stored, "correct horse battery staplE")
    assert not passwords.needs_rehash(stored)
    assert Passwords(HashingCost(time_cost=2, memory_kib=8192, parallelism=1)).needs_rehash(stored)
