"""Treasury movements in flight: queue them at the Hot Wallet Sender, learn how they
ended, book them.

Coins leave the hot address only through the sender (it owns the nonce): sweeps to cold
and gas top-ups are queued there like withdrawals, with the calling workflow named to be
told of their progress. Booking (``croupier.sweeps.movements``) posts or voids the
ledger holds placed when the movement was planned. Every activity is idempotent, keyed
by the movement id.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.bridge import TemporalBridge
from croupier.activities.failures import maps_business_failures
from croupier.activities.hot_wallet import SendRequest
from croupier.activities.sender_queue import signal_sender
from croupier.activities.signing import SignerSource
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.tx import NATIVE_TRANSFER_GAS
from croupier.core.money import Currency, parse_minor_units
from croupier.core.settings import Settings
from croupier.payments import sends
from croupier.payments.keys import sender_workflow_id
from croupier.sweeps.movements import (
    Movement,
    cancel_movement,
    get_movement,
    settle_movement,
)
from croupier.treasury.hd import HOT_WALLET_ACCOUNT

# The gas limit of an ERC-20 transfer from a deposit address, and the bound of the fee
# held for one from the hot wallet: USDT's transfer needs about 63,000 at most, and
# unused gas is never paid for, so a generous fixed limit costs nothing.
TOKEN_TRANSFER_GAS_LIMIT = 100_000


@dataclass(frozen=True)
class MovementView:
    """A movement as workflows see it (amounts are decimal strings of minor units)."""

    movement_id: str
    kind: str
    currency: str
    amount: str
    from_address: str
    to_address: str
    status: str
    send_id: str | None = None
    tx_hash: str | None = None
    fee_paid: str | None = None

    @classmethod
    def of(cls, movement: Movement) -> MovementView:
        return cls(
            movement_id=movement.id,
            kind=movement.kind.value,
            currency=movement.currency.value,
            amount=str(movement.amount),
            from_address=movement.from_address,
            to_address=movement.to_address,
            status=movement.status.value,
            send_id=None if movement.send_id is None else str(movement.send_id),
            tx_hash=movement.tx_hash,
            fee_paid=None if movement.fee_paid is None else str(movement.fee_paid),
        )


@dataclass(frozen=True)
class MovementOutcome:
    """How a movement ended on chain: ``tx_hash`` None means it never went out."""

    movement_id: str
    tx_hash: str | None
    reverted: bool = False
    fee_paid: str = "0"


@dataclass(frozen=True)
class QueuedMovement:
    movement_id: str
    sender_workflow_id: str
    # Ask the database (and queue again) after this long without news from the sender.
    nudge_after_s: int


class MovementActivities:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        temporal: TemporalBridge,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._temporal = temporal

    @activity.defn(name="treasury.queue_movement")
    @maps_business_failures
    def queue_movement(self, movement_id: str) -> QueuedMovement:
        """Hand a sweep or top-up to the Hot Wallet Sender (signal-with-start); the
        calling workflow is told of its progress."""
        movement = get_movement(self._engine, movement_id)
        assert movement.send_id is not None, f"{movement.kind} does not go through the sender"
        # Sweeps and top-ups leave from the chain's hot address, whose sender owns it.
        sender_id = sender_workflow_id(movement.chain, movement.from_address)
        request = SendRequest(
            withdrawal_id=str(movement.send_id),
            currency=movement.currency.value,
            amount=str(movement.amount),
            to_address=movement.to_address,
            reply_to=activity.info().workflow_id,
        )
        self._temporal.run(
            signal_sender(
                self._temporal.client,
                sender_id,
                request,
                chain=movement.chain,
                hot_index=self._settings.hot_wallet_index,
                task_queue=activity.info().task_queue,
            )
        )
        return QueuedMovement(movement_id, sender_id, 4 * self._settings.hot_wallet_stuck_after_s)

    @activity.defn(name="treasury.sent_outcomes")
    @maps_business_failures
    def sent_outcomes(self, movement_ids: tuple[str, ...]) -> tuple[MovementOutcome, ...]:
        """How the sender's sends for these movements ended, for those that have. Lets a
        workflow that missed the sender's signal (a later run resuming) find out."""
        outcomes = []
        for movement_id in movement_ids:
            movement = get_movement(self._engine, movement_id)
            assert movement.send_id is not None, f"{movement.kind} does not use the sender"
            send = sends.find_send(self._engine, movement.send_id)
            if send is None or send.status == sends.IN_FLIGHT:
                continue
            assert send.final_tx_hash is not None and send.fee_paid is not None
            outcomes.append(
                MovementOutcome(
                    movement.id,
                    send.final_tx_hash,
                    reverted=send.status == sends.REVERTED,
                    fee_paid=str(send.fee_paid),
                )
            )
        return tuple(outcomes)

    @activity.defn(name="treasury.settle_movement")
    @maps_business_failures
    def settle_movement(self, outcome: MovementOutcome) -> MovementView:
        """Book how the movement ended: posted, reverted (fee booked) or never sent."""
        return book(self._engine, outcome)


def book(engine: Engine, outcome: MovementOutcome) -> MovementView:
    if outcome.tx_hash is None:
        return MovementView.of(cancel_movement(engine, outcome.movement_id))
    settled = settle_movement(
        engine,
        outcome.movement_id,
        tx_hash=outcome.tx_hash,
        reverted=outcome.reverted,
        fee_paid=parse_minor_units(outcome.fee_paid, allow_zero=True),
    )
    return MovementView.of(settled)


def hot_address(signer: SignerSource, settings: Settings) -> str:
    return signer.get().eth_address(settings.hot_wallet_index, account=HOT_WALLET_ACCOUNT)


def gas_limit(currency: Currency) -> int:
    """The gas limit of a transfer of ``currency`` (Ethereum)."""
    return NATIVE_TRANSFER_GAS if currency is Currency.ETH else TOKEN_TRANSFER_GAS_LIMIT


def worst_fee(currency: Currency, settings: Settings) -> int:
    """The most a transfer of ``currency`` can cost in ETH: its gas limit at the fee cap
    (no transaction of ours, replacements included, ever pays more per gas)."""
    return gas_limit(currency) * settings.eth_max_fee_cap_wei


def fee_paid_wei(chain: EthereumClient, tx_hash: str) -> int:
    """What a mined transaction cost its sender: gas used times the price paid."""
    receipt = chain.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
