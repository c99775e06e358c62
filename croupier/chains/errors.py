"""Typed errors of the chain domain, each under the shared base it behaves like.

Retrying is the caller's business, so each error says by its base class whether a
retry can help: ``ServiceUnavailable`` (the node, try again), ``InvalidInput`` (never),
``Conflict`` (not unchanged: look at the chain first).
"""

from __future__ import annotations

from croupier.core.errors import Conflict, InvalidInput, ServiceUnavailable


class InvalidAddress(InvalidInput):
    """Text that is not a valid address on the chain it was given for."""

    code = "invalid_address"


class NodeUnavailable(ServiceUnavailable):
    """The chain node did not answer, or answered with a transport-level failure."""

    code = "chain_node_unavailable"


class ChainMoved(ServiceUnavailable):
    """The chain changed under a multi-call read (a reorg mid-scan); read it again."""

    code = "chain_moved"


class ReorgBeyondWindow(Conflict):
    """No remembered block is still canonical: the reorg is deeper than the window.

    Deposits in the window can no longer be judged automatically; this needs a human
    (and a larger ``CROUPIER_ETH_REORG_WINDOW_BLOCKS``). It is never retried blindly.
    """

    code = "reorg_beyond_window"


class BroadcastRejected(Conflict):
    """The node refused a signed transaction; ``reason`` is the node's own words."""

    code = "broadcast_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the node rejected the transaction: {reason}")
        self.reason = reason


class NonceTooLow(BroadcastRejected):
    """The nonce is already used on chain: by this transaction, or by one it raced."""

    code = "nonce_too_low"


class FeeTooLow(BroadcastRejected):
    """Underpriced: below the node's minimum, or a replacement without enough bump."""

    code = "fee_too_low"


class InsufficientGasFunds(BroadcastRejected):
    """The sender cannot pay value plus the maximum fee."""

    code = "insufficient_gas_funds"


class TransactionReverted(Conflict):
    """A transaction was mined but reverted: its fee and nonce are spent, its effect is not."""

    code = "transaction_reverted"
