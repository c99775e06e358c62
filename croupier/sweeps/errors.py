"""Typed refusals of treasury movements, each under the shared base it behaves like."""

from __future__ import annotations

from croupier.core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable


class NoHotWalletPolicy(InvalidInput):
    """The currency has no hot wallet limits or cold address in the settings."""

    code = "no_hot_wallet_policy"


class RefillNotFound(NotFound):
    code = "refill_not_found"


class RefillAlreadyOpen(Conflict):
    """Another refill of the currency is still open; it must finish (or expire) first."""

    code = "refill_already_open"


class RefillNotAwaitingApproval(Conflict):
    code = "refill_not_awaiting_approval"


class RefillAlreadyApprovedBy(Conflict):
    """This staff member has approved the refill already: the second approval must come
    from someone else."""

    code = "refill_already_approved_by_you"


class RefillNotAwaitingTransaction(Conflict):
    code = "refill_not_awaiting_transaction"


class RefillTransactionUnknown(Conflict):
    """The node knows no transaction with this hash: broadcast it, then submit it."""

    code = "refill_transaction_unknown"


class RefillTransactionMismatch(InvalidInput):
    """The transaction is not the requested refill (sender, recipient or amount differ)."""

    code = "refill_transaction_mismatch"


class WalletLedgerShort(ServiceUnavailable):
    """A movement that already happened on chain cannot be booked: the wallet's ledger
    balance is short (coins on chain were never booked). Retried until someone books
    the opening balance; posting is the only correct end."""

    code = "wallet_ledger_short"


class ColdWalletLedgerShort(Conflict):
    """The cold wallet's ledger balance cannot cover the refill: its coins on chain were
    never booked (book an opening balance ``cold_wallet <- house`` first)."""

    code = "cold_wallet_ledger_short"
