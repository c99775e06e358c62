"""What a caller asks the posting engine to do, validated on construction.

A request that can never be valid (zero or fractional amount, unknown currency, both
sides the same account, malformed id) raises a typed error here, before any I/O. What
depends on the database (accounts, balances, holds) is checked by the posting functions.

Transfer ids are caller-supplied business keys (``bet-<uuid>-stake``): the same id with
the same content is a replay, with other content an ``IdempotencyConflict``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from croupier.core.errors import InvalidInput
from croupier.core.money import Currency, check_minor_units
from croupier.ledger.errors import InvalidTransfer
from croupier.ledger.kinds import TransferType, parse_choice

TRANSFER_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
MAX_REFERENCE_ID_LENGTH = 255
MAX_METADATA_BYTES = 4096
# Longest a hold may stay pending: a withdrawal waiting for manual approval over a long
# weekend fits; anything longer should be voided and held again.
MAX_HOLD_TIMEOUT_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Movement:
    """Fields shared by a transfer and a hold: money from ``debit`` to ``credit``."""

    pending: ClassVar[bool] = False

    id: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    currency: Currency
    type: TransferType
    # The workflow or bet this belongs to. Movements of one bet should share it: it also
    # picks the house shard, so settling a bet in one transaction touches one house row.
    reference_id: str | None = None
    metadata: Mapping[str, object] | None = None
    metadata_json: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_transfer_id(self.id, what="transfer id")
        _check_account_id(self.debit_account_id, side="debit")
        _check_account_id(self.credit_account_id, side="credit")
        if self.debit_account_id == self.credit_account_id:
            raise InvalidTransfer(
                f"transfer {self.id} debits and credits the same account {self.debit_account_id}"
            )
        check_minor_units(self.amount)
        object.__setattr__(self, "currency", Currency.parse(self.currency))
        object.__setattr__(self, "type", parse_choice(TransferType, self.type, what="type"))
        _check_reference_id(self.reference_id)
        object.__setattr__(self, "metadata_json", _metadata_json(self.metadata))


@dataclass(frozen=True, slots=True)
class TransferRequest(Movement):
    """A single-phase transfer: posted at once, or refused."""


@dataclass(frozen=True, slots=True)
class HoldRequest(Movement):
    """A two-phase transfer's first phase: reserves ``amount`` (it counts against the
    debit account's available balance) until posted, voided, or ``timeout_s`` passes."""

    pending: ClassVar[bool] = True

    timeout_s: int | None = None

    def __post_init__(self) -> None:
        Movement.__post_init__(self)
        if self.timeout_s is not None and (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int)
            or not 1 <= self.timeout_s <= MAX_HOLD_TIMEOUT_S
        ):
            raise InvalidInput(
                f"hold timeout must be whole seconds from 1 to {MAX_HOLD_TIMEOUT_S}, "
                f"got {self.timeout_s!r}"
            )


@dataclass(frozen=True, slots=True)
class PostPendingRequest:
    """Post a hold: all of it (``amount=None``) or part of it, releasing the rest."""

    id: str
    pending_id: str
    amount: int | None = None
    metadata: Mapping[str, object] | None = None
    metadata_json: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_resolution(self.id, self.pending_id)
        if self.amount is not None:
            check_minor_units(self.amount)
        object.__setattr__(self, "metadata_json", _metadata_json(self.metadata))


@dataclass(frozen=True, slots=True)
class VoidPendingRequest:
    """Release a hold without moving any money."""

    id: str
    pending_id: str
    metadata: Mapping[str, object] | None = None
    metadata_json: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_resolution(self.id, self.pending_id)
        object.__setattr__(self, "metadata_json", _metadata_json(self.metadata))


def _check_transfer_id(value: object, *, what: str) -> None:
    if not isinstance(value, str) or not TRANSFER_ID_RE.match(value):
        raise InvalidTransfer(f"{what} must be 1-255 characters of [A-Za-z0-9_.:-], got {value!r}")


def _check_account_id(value: object, *, side: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidTransfer(f"{side} account id must be a positive integer, got {value!r}")


def _check_reference_id(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_REFERENCE_ID_LENGTH:
        raise InvalidTransfer(
            f"reference id must be 1-{MAX_REFERENCE_ID_LENGTH} characters, got {value!r}"
        )


def _check_resolution(transfer_id: object, pending_id: object) -> None:
    _check_transfer_id(transfer_id, what="transfer id")
    _check_transfer_id(pending_id, what="pending id")
    if transfer_id == pending_id:
        raise InvalidTransfer(f"a post or void needs its own id, not the hold's ({pending_id})")


def _metadata_json(metadata: Mapping[str, object] | None) -> str | None:
    """Canonical JSON (sorted keys), so equal metadata compares equal on replay."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise InvalidTransfer(f"metadata must be a mapping, got {type(metadata).__name__}")
    try:
        encoded = json.dumps(dict(metadata), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidTransfer(f"metadata must be JSON: {error}") from None
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise InvalidTransfer(f"metadata must fit in {MAX_METADATA_BYTES} bytes of JSON")
    return encoded
