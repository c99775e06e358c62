"""A pure in-memory model of the ledger's semantics, written from the rules, not the code.

The property test runs the same random sequence against the model and the database and
requires the same outcome for every step and the same balances at the end.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.ledger.errors import (
    NotAPendingTransfer,
    PartialPostExceedsHold,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingExpired,
    PendingTransferNotFound,
)

# What the model predicts for one call: "ok" (with whether it was a replay) or an error.
Outcome = tuple[str, bool] | type[Exception]
OK_NEW: Outcome = ("ok", False)
OK_REPLAYED: Outcome = ("ok", True)


@dataclass
class ModelAccount:
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    debits_posted: int = 0
    debits_pending: int = 0
    credits_posted: int = 0
    credits_pending: int = 0

    def totals(self) -> tuple[int, int, int, int]:
        return self.debits_posted, self.credits_posted, self.debits_pending, self.credits_pending


@dataclass(frozen=True)
class Movement:
    id: str
    debit: str
    credit: str
    amount: int
    pending: bool = False
    timeout_s: int | None = None

    def content(self) -> tuple[object, ...]:
        return (
            "hold" if self.pending else "single",
            self.debit,
            self.credit,
            self.amount,
            self.timeout_s,
        )


@dataclass(frozen=True)
class Resolution:
    id: str
    pending_id: str
    post: bool
    amount: int | None = None


@dataclass
class ModelHold:
    movement: Movement
    status: str = "pending"
    expires_at: datetime | None = None


@dataclass
class LedgerModel:
    accounts: dict[str, ModelAccount]
    # Content of every id that was written; refused calls leave no trace.
    used: dict[str, tuple[object, ...]] = field(default_factory=dict)
    holds: dict[str, ModelHold] = field(default_factory=dict)

    def movement(self, movement: Movement) -> Outcome:
        if movement.id in self.used:
            return self._replay(movement.id, movement.content())
        refusal = self._refusal(movement)
        if refusal is not None:
            return refusal
        self._apply(movement)
        return OK_NEW

    def resolution(self, resolution: Resolution) -> Outcome:
        held = self.holds.get(resolution.pending_id)
        if resolution.id in self.used:
            return self._replay(resolution.id, self._resolution_content(resolution, held))
        if held is None:
            if resolution.pending_id in self.used:
                return NotAPendingTransfer
            return PendingTransferNotFound
        if held.status != "pending":
            return {
                "posted": PendingAlreadyPosted,
                "voided": PendingAlreadyVoided,
                "expired": PendingExpired,
            }[held.status]
        hold_amount = held.movement.amount
        amount = resolution.amount if resolution.amount is not None else hold_amount
        if resolution.post and amount > hold_amount:
            return PartialPostExceedsHold
        debit = self.accounts[held.movement.debit]
        credit = self.accounts[held.movement.credit]
        debit.debits_pending -= hold_amount
        credit.credits_pending -= hold_amount
        if resolution.post:
            debit.debits_posted += amount
            credit.credits_posted += amount
        held.status = "posted" if resolution.post else "voided"
        self.used[resolution.id] = self._resolution_content(resolution, held)
        return OK_NEW

    def batch(self, movements: list[Movement]) -> Outcome:
        """All or nothing; conflicts are found before balances are looked at."""
        fresh = [m for m in movements if m.id not in self.used]
        if any(self.used[m.id] != m.content() for m in movements if m.id in self.used):
            return IdempotencyConflict
        trial = copy.deepcopy(self)
        for movement in fresh:
            refusal = trial._refusal(movement)
            if refusal is not None:
                return refusal
            trial._apply(movement)
        self.accounts, self.used, self.holds = trial.accounts, trial.used, trial.holds
        return OK_NEW

    def expire(self, now: datetime) -> set[str]:
        expired = set()
        for hold_id, held in self.holds.items():
            if held.status == "pending" and held.expires_at is not None and held.expires_at <= now:
                held.status = "expired"
                self.accounts[held.movement.debit].debits_pending -= held.movement.amount
                self.accounts[held.movement.credit].credits_pending -= held.movement.amount
                expired.add(hold_id)
        return expired

    def _replay(self, transfer_id: str, content: tuple[object, ...]) -> Outcome:
        return OK_REPLAYED if self.used[transfer_id] == content else IdempotencyConflict

    def _resolution_content(
        self, resolution: Resolution, held: ModelHold | None
    ) -> tuple[object, ...]:
        hold_amount = held.movement.amount if held is not None else None
        amount = resolution.amount if resolution.amount is not None else hold_amount
        if not resolution.post:
            amount = hold_amount
        return ("post" if resolution.post else "void", resolution.pending_id, amount)

    def _refusal(self, movement: Movement) -> Outcome | None:
        debit, credit = self.accounts[movement.debit], self.accounts[movement.credit]
        if debit.debits_must_not_exceed_credits and (
            debit.debits_posted + debit.debits_pending + movement.amount > debit.credits_posted
        ):
            return InsufficientFunds
        if credit.credits_must_not_exceed_debits and (
            credit.credits_posted + credit.credits_pending + movement.amount > credit.debits_posted
        ):
            return InsufficientFunds
        return None

    def _apply(self, movement: Movement) -> None:
        debit, credit = self.accounts[movement.debit], self.accounts[movement.credit]
        if movement.pending:
            debit.debits_pending += movement.amount
            credit.credits_pending += movement.amount
            self.holds[movement.id] = ModelHold(movement)
        else:
            debit.debits_posted += movement.amount
            credit.credits_posted += movement.amount
        self.used[movement.id] = movement.content()
