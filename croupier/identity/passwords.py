"""Password policy and hashing (argon2id).

The policy follows NIST SP 800-63B: length over composition rules. Every failed rule
is reported at once, so a user fixes a password in one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

from croupier.identity.errors import WeakPassword

MIN_PASSWORD_CHARS = 12
# argon2 takes any length, but an unbounded input is an unbounded CPU bill per request.
MAX_PASSWORD_CHARS = 128
MIN_DISTINCT_CHARS = 5
# The local part of an email is only a meaningful "contains" check from this length on.
MIN_EMAIL_NAME_CHARS = 4


def password_problems(password: str, email: str) -> list[str]:
    """Every rule ``password`` breaks, in words a user can act on; empty when it is fine."""
    problems = []
    if len(password) < MIN_PASSWORD_CHARS:
        problems.append(f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        problems.append(f"must be at most {MAX_PASSWORD_CHARS} characters")
    if len(set(password)) < MIN_DISTINCT_CHARS:
        problems.append(f"must use at least {MIN_DISTINCT_CHARS} different characters")
    name = email.partition("@")[0]
    if len(name) >= MIN_EMAIL_NAME_CHARS and name in password.lower():
        problems.append("must not contain your email address")
    return problems


def check_password_policy(password: str, email: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise WeakPassword("password " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class HashingCost:
    """argon2id cost. The defaults are RFC 9106's second recommended profile."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


class Passwords:
    """Hash and verify passwords with argon2id; verification also says when to re-hash."""

    def __init__(self, cost: HashingCost) -> None:
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
        # Verified against when the email is unknown, so both failures cost the same time.
        self._decoy_hash = self._hasher.hash("decoy password never issued to anyone")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; a corrupt stored hash raises rather than reads as a
        wrong password, because it is a data fault to be seen, not a user mistake."""
        try:
            return self._hasher.verify(password_hash, password)
        except VerifyMismatchError:
            return False

    def burn_verify_time(self, password: str) -> None:
        """Spend one verification's time for an unknown account; the result is meaningless."""
        self.verify(self._decoy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
