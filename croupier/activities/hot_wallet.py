"""Hot-wallet activities: prepare a sender, send (sign + broadcast), watch; per chain.

The Hot Wallet Sender workflow (one per chain and hot address) calls these one at a
time, so each hot address has one writer. The workflow and these activities are
chain-neutral; what differs between chains is a small ``HotWallet`` adapter (the steps
they share, claim-sign-store-broadcast and watch-rebroadcast-replace, are
``hot_wallet_flow.HotWalletFlow``):

- Ethereum (``eth_hot_wallet``): one nonce per send, EIP-1559 fees, a stuck send
  replaced under the same nonce with at least 10% higher fees;
- Bitcoin (``btc_hot_wallet``): coins selected per send (opt-in RBF on every input,
  change back to the hot address), a stuck send replaced by RBF spending the same
  inputs at a higher feerate.

On both, every transaction signed for a send is stored before it is broadcast
(``croupier.payments.sends``, ``croupier.payments.btc_sends``), and the transactions of
one send are mutually exclusive on chain (same nonce, or same inputs), so at most one
pays. Nothing here ever gives up on money that may already be on its way: a send that
cannot go out now (fees above the cap, an empty hot wallet, a node refusing it) is a
"wait" with the reason, retried by the workflow; only the chain itself ends a send, at
depth, with the transaction included (or, on Ethereum, reverted).

``InFlightSend.nonce`` is Ethereum's nonce; on Bitcoin it is the send's ordinal per hot
address, which orders sends and nothing else. ``SendStatus.fee_paid_wei`` is the network
fee in the chain's native minor units (wei, or satoshis).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.core.money import Currency
from croupier.payments.errors import UnsupportedCurrency


@dataclass(frozen=True)
class SenderKey:
    chain: str
    hot_index: int
    now: datetime


@dataclass(frozen=True)
class SendRequest:
    """A send: amount in minor units of ``currency`` to ``to_address``. ``withdrawal_id``
    is the send's id: a withdrawal's, or a treasury movement's (a sweep to cold, a gas
    top-up), which names the workflow to tell in ``reply_to`` (None: the withdrawal's)."""

    withdrawal_id: str
    currency: str
    amount: str
    to_address: str
    reply_to: str | None = None


@dataclass(frozen=True)
class InFlightSend:
    """A send on its way: its nonce (ordinal) and every transaction signed for it."""

    withdrawal_id: str
    currency: str
    nonce: int
    tx_hashes: tuple[str, ...]
    last_sent_at: datetime
    reply_to: str | None = None


@dataclass(frozen=True)
class SenderSetup:
    address: str
    next_nonce: int
    poll_interval_s: float
    restored: tuple[InFlightSend, ...]


@dataclass(frozen=True)
class SendOrder:
    request: SendRequest
    sender: str
    hot_index: int
    next_nonce: int
    now: datetime


@dataclass(frozen=True)
class SendAttempt:
    """Either the send is out (``in_flight``), or why it has to wait (``wait_reason``)."""

    in_flight: InFlightSend | None
    wait_reason: str | None = None

    def __post_init__(self) -> None:
        assert (self.in_flight is None) != (self.wait_reason is None), "sent xor wait"


@dataclass(frozen=True)
class WatchOrder:
    sends: tuple[InFlightSend, ...]
    hot_index: int
    now: datetime


class SendOutcome:
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REVERTED = "reverted"


@dataclass(frozen=True)
class SendStatus:
    """A watched send: still ``pending`` (with what happened, in ``note``), or final at
    depth: ``confirmed`` or ``reverted`` by ``tx_hash``, having cost ``fee_paid_wei``
    (the chain's native minor units)."""

    send: InFlightSend
    outcome: str
    tx_hash: str | None
    confirmations: int
    fee_paid_wei: str
    note: str


class HotWallet(Protocol):
    """One chain's way of paying from its hot address (what the activities dispatch to)."""

    @property
    def chain(self) -> str: ...

    def prepare(self, key: SenderKey) -> SenderSetup:
        """The hot address, its next nonce (ordinal), and the sends left in flight."""
        ...

    def send(self, order: SendOrder) -> SendAttempt:
        """Sign the send once, store it, broadcast it; run again, the same bytes."""
        ...

    def watch(self, send: InFlightSend, order: WatchOrder) -> SendStatus:
        """Where the send stands; re-broadcast a dropped one, replace a stuck one."""
        ...


class HotWalletActivities:
    """The sender's activities, each handed to the hot wallet of the send's chain."""

    def __init__(self, wallets: Iterable[HotWallet]) -> None:
        self._wallets = {wallet.chain: wallet for wallet in wallets}

    @activity.defn(name="payments.prepare_sender")
    @maps_business_failures
    def prepare_sender(self, key: SenderKey) -> SenderSetup:
        return self._wallet(key.chain).prepare(key)

    @activity.defn(name="payments.send_withdrawal")
    @maps_business_failures
    def send_withdrawal(self, order: SendOrder) -> SendAttempt:
        return self._wallet(Currency.parse(order.request.currency).chain).send(order)

    @activity.defn(name="payments.watch_sends")
    @maps_business_failures
    def watch_sends(self, order: WatchOrder) -> tuple[SendStatus, ...]:
        statuses = []
        for send in order.sends:
            statuses.append(self._wallet(Currency.parse(send.currency).chain).watch(send, order))
            activity.heartbeat(send.withdrawal_id)
        return tuple(statuses)

    def _wallet(self, chain: str) -> HotWallet:
        wallet = self._wallets.get(chain)
        if wallet is None:
            raise UnsupportedCurrency(f"this worker sends nothing on {chain}")
        return wallet
