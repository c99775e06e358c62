"""The states a deposit and a withdrawal pass through, as players and ops see them."""

from __future__ import annotations

from enum import StrEnum


class DepositStatus(StrEnum):
    PENDING = "pending"  # seen, but not (or no longer) in a canonical block
    CONFIRMING = "confirming"  # in a canonical block, fewer confirmations than required
    # Confirmed, but the player's own limits or exclusion keep it out of their cash for
    # now; it stays in deposits in flight until re-checked or released by compliance.
    HELD = "held"
    CREDITED = "credited"  # final: the player's cash holds it
    ORPHANED = "orphaned"  # final: a reorg removed it and it was not mined again in time
    DUST = "dust"  # final: below the minimum, recorded but never credited

    @property
    def is_final(self) -> bool:
        return self in _FINAL_DEPOSIT


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"  # workflow only: being validated, nothing held yet
    REFUSED = "refused"  # workflow only, final: invalid or over a limit, nothing held
    HELD = "held"  # funds held, risk checks running
    AWAITING_APPROVAL = "awaiting_approval"
    # Auto-approval is paused by the withdrawal circuit breaker (croupier.monitoring):
    # parked until the breaker is resumed or compliance decides.
    PAUSED = "paused_by_circuit_breaker"
    APPROVED = "approved"
    REJECTED = "rejected"  # final: compliance said no; hold released
    CANCELLED = "cancelled"  # final: the player withdrew the request; hold released
    EXPIRED = "expired"  # final: no decision in time; hold released
    SENDING = "sending"  # queued at the hot-wallet sender
    BROADCAST = "broadcast"  # a signed transaction is out; waiting for confirmations
    COMPLETED = "completed"  # final: confirmed on chain, hold posted
    FAILED = "failed"  # final: the send failed (reverted); hold released

    @property
    def is_final(self) -> bool:
        return self in _FINAL_WITHDRAWAL

    @property
    def holds_funds(self) -> bool:
        """Whether the ledger holds the player's funds for it right now."""
        return self not in _FINAL_WITHDRAWAL and self is not WithdrawalStatus.REQUESTED


_FINAL_DEPOSIT = frozenset({DepositStatus.CREDITED, DepositStatus.ORPHANED, DepositStatus.DUST})
_FINAL_WITHDRAWAL = frozenset(
    {
        WithdrawalStatus.REFUSED,
        WithdrawalStatus.REJECTED,
        WithdrawalStatus.CANCELLED,
        WithdrawalStatus.EXPIRED,
        WithdrawalStatus.COMPLETED,
        WithdrawalStatus.FAILED,
    }
)
# Withdrawals that count against the daily limit and velocity: all but those that
# released their hold without paying (a refused one was never recorded).
RELEASED_WITHDRAWAL_STATUSES = (
    WithdrawalStatus.REJECTED,
    WithdrawalStatus.CANCELLED,
    WithdrawalStatus.EXPIRED,
    WithdrawalStatus.FAILED,
)
