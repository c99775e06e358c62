"""Typed refusals of the payments domain, each under the shared base it behaves like."""

from __future__ import annotations

from croupier.core.errors import (
    Conflict,
    InvalidAmount,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)


class UnsupportedCurrency(InvalidInput):
    """A currency this operation does not handle (yet), such as BTC withdrawals."""

    code = "unsupported_currency"


class AmountBelowMinimum(InvalidAmount):
    """A withdrawal smaller than the configured minimum of its currency."""

    code = "amount_below_minimum"


class DailyLimitExceeded(Conflict):
    """The withdrawal would take the player past their rolling 24-hour limit."""

    code = "daily_limit_exceeded"


class UnknownDepositAddress(NotFound):
    """Money arrived at an address no player owns (the scanner only watches ours)."""

    code = "unknown_deposit_address"


class DepositNotFound(NotFound):
    code = "deposit_not_found"


class DepositNotHeld(Conflict):
    """A compliance release of a deposit that is not held (credited, still confirming)."""

    code = "deposit_not_held"


class WithdrawalNotFound(NotFound):
    code = "withdrawal_not_found"


class WithdrawalNotCancellable(Conflict):
    """Only a withdrawal waiting for a compliance decision can be cancelled."""

    code = "withdrawal_not_cancellable"


class WithdrawalNotAwaitingDecision(Conflict):
    """A compliance decision for a withdrawal that is not waiting for one."""

    code = "withdrawal_not_awaiting_decision"


class HotWalletLedgerShort(ServiceUnavailable):
    """The ledger's hot-wallet balance is below what the hot wallet paid on chain.

    The money has left; the only correct end is posting it. The funding that put the
    coins there (a sweep, a refill, an opening balance) is missing from the ledger:
    record it and the settlement, retried by Temporal, goes through.
    """

    code = "hot_wallet_ledger_short"
