"""The double-entry ledger: schema, migrations, posting engine, balances, reconciliation.

The public API, importable from here::

    from croupier.ledger import transfer, TransferRequest, system_account, AccountKind

Every function takes an ``Engine`` (it commits its own work) or a ``Connection`` (it
joins the caller's transaction); see ``croupier.ledger.connections``.
"""

from croupier.ledger.accounts import (
    Account,
    AccountSpec,
    close_account,
    find_account,
    get_account,
    open_account,
    player_account,
    system_account,
)
from croupier.ledger.balances import Balance, StatementLine, StatementPage, balance, statement
from croupier.ledger.connections import Bind
from croupier.ledger.kinds import (
    SYSTEM_OWNER,
    AccountKind,
    Direction,
    TransferPhase,
    TransferStatus,
    TransferType,
)
from croupier.ledger.partitions import ensure_partitions, missing_partitions
from croupier.ledger.posting import (
    TransferResult,
    expire_pending,
    hold,
    post_pending,
    transfer,
    transfer_batch,
    void_pending,
)
from croupier.ledger.reconcile import Check, ReconciliationReport, Violation, reconcile
from croupier.ledger.requests import (
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    VoidPendingRequest,
)

__all__ = [
    "SYSTEM_OWNER",
    "Account",
    "AccountKind",
    "AccountSpec",
    "Balance",
    "Bind",
    "Check",
    "Direction",
    "HoldRequest",
    "PostPendingRequest",
    "ReconciliationReport",
    "StatementLine",
    "StatementPage",
    "TransferPhase",
    "TransferRequest",
    "TransferResult",
    "TransferStatus",
    "TransferType",
    "Violation",
    "VoidPendingRequest",
    "balance",
    "close_account",
    "ensure_partitions",
    "expire_pending",
    "find_account",
    "get_account",
    "hold",
    "missing_partitions",
    "open_account",
    "player_account",
    "post_pending",
    "reconcile",
    "statement",
    "system_account",
    "transfer",
    "transfer_batch",
    "void_pending",
]
