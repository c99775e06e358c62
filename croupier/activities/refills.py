"""Refill activities: record the request and its approvals, check the offline-signed
transaction on the node, follow it to depth, book its end (``croupier.sweeps.refills``).

Each is one database transaction keyed by the refill id, safe to repeat; staff actions
reach the compliance audit log in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.activities.movements import MovementOutcome, book
from croupier.activities.refill_chains import RefillChain
from croupier.chains.base import TxState
from croupier.core.money import Currency, parse_minor_units
from croupier.core.settings import Settings
from croupier.payments.errors import UnsupportedCurrency
from croupier.sweeps import refills
from croupier.sweeps.errors import NoHotWalletPolicy
from croupier.sweeps.keys import movement_id
from croupier.sweeps.movements import MovementKind, cancel_movement, get_movement


@dataclass(frozen=True)
class RefillOpening:
    refill_id: str
    chain: str
    currency: str
    amount: str
    requested_by: str
    reason: str
    # The workflow's time when it was raised: it expires treasury_refill_expiry_s later.
    requested_at: datetime


@dataclass(frozen=True)
class RefillState:
    refill_id: str
    status: str
    cold_address: str
    hot_address: str
    approvals: tuple[str, ...]
    tx_hash: str | None
    expires_at: datetime
    poll_interval_s: float


@dataclass(frozen=True)
class RefillApprovalInput:
    refill_id: str
    staff_id: str
    reason: str


@dataclass(frozen=True)
class RefillTransactionInput:
    refill_id: str
    staff_id: str
    tx_hash: str


@dataclass(frozen=True)
class RefillProgress:
    """Where the accepted transaction stands: ``mined`` (in a canonical block), and once
    at depth ``final`` with how it ended."""

    mined: bool
    final: bool
    confirmations: int
    outcome: MovementOutcome | None


@dataclass(frozen=True)
class RefillEnd:
    refill_id: str
    # completed | expired | awaiting_transaction (the accepted one reverted)
    status: str
    outcome: MovementOutcome | None = None


class RefillActivities:
    def __init__(
        self, engine: Engine, chains: Mapping[str, RefillChain], settings: Settings
    ) -> None:
        self._engine = engine
        self._chains = chains
        self._settings = settings

    @activity.defn(name="treasury.open_refill")
    @maps_business_failures
    def open_refill(self, opening: RefillOpening) -> RefillState:
        currency = Currency.parse(opening.currency)
        policy = self._settings.treasury_hot_wallets.get(currency.value)
        if policy is None or currency.chain != opening.chain:
            raise NoHotWalletPolicy(f"{currency} has no hot wallet limits or cold address")
        chain = self._chain(opening.chain).treasury
        expiry = timedelta(seconds=self._settings.treasury_refill_expiry_s)
        new = refills.NewRefill(
            id=uuid.UUID(opening.refill_id),
            chain=opening.chain,
            currency=currency,
            amount=parse_minor_units(opening.amount),
            cold_address=chain.cold_address(policy.cold_address),
            hot_address=chain.hot_address(),
            requested_by=opening.requested_by,
            reason=opening.reason,
            expires_at=opening.requested_at + expiry,
        )
        return self._state(refills.open_refill(self._engine, new))

    @activity.defn(name="treasury.record_refill_approval")
    @maps_business_failures
    def record_refill_approval(self, approval: RefillApprovalInput) -> RefillState:
        record = refills.record_approval(
            self._engine,
            uuid.UUID(approval.refill_id),
            uuid.UUID(approval.staff_id),
            approval.reason,
        )
        return self._state(record)

    @activity.defn(name="treasury.accept_refill_transaction")
    @maps_business_failures
    def accept_refill_transaction(self, submitted: RefillTransactionInput) -> RefillState:
        """Check the externally signed transaction on the node and hold it in the ledger."""
        refill_id = uuid.UUID(submitted.refill_id)
        record = refills.get_refill(self._engine, refill_id)
        tx = self._chain(record.chain).checked_transaction(record, submitted.tx_hash)
        accepted = refills.accept_transaction(
            self._engine,
            refill_id,
            uuid.UUID(submitted.staff_id),
            tx,
            workflow_id=activity.info().workflow_id or submitted.refill_id,
        )
        return self._state(accepted)

    @activity.defn(name="treasury.refill_progress")
    @maps_business_failures
    def refill_progress(self, refill_id: str) -> RefillProgress:
        record = refills.get_refill(self._engine, uuid.UUID(refill_id))
        assert record.tx_hash is not None, f"refill {refill_id} has no transaction yet"
        chain = self._chain(record.chain)
        status = chain.status(record.tx_hash)
        mined = status.block_number is not None
        if not status.is_final(self._settings.confirmations_for(record.currency)):
            return RefillProgress(mined, False, status.confirmations, None)
        movement = movement_id(MovementKind.REFILL.value, record.chain, record.tx_hash)
        held = get_movement(self._engine, movement).fee_reserved
        outcome = MovementOutcome(
            movement,
            record.tx_hash,
            reverted=status.state is TxState.FAILED,
            fee_paid=str(chain.fee_paid(record.tx_hash, held)),
        )
        return RefillProgress(mined, True, status.confirmations, outcome)

    @activity.defn(name="treasury.end_refill")
    @maps_business_failures
    def end_refill(self, end: RefillEnd) -> RefillState:
        """Book the accepted transaction's end (if any) and move the refill on; an expired
        refill releases the hold of a transaction that never made it into a block."""
        refill_id = uuid.UUID(end.refill_id)
        record = refills.get_refill(self._engine, refill_id)
        status = refills.RefillStatus(end.status)
        if end.outcome is not None:
            book(self._engine, end.outcome)
        elif record.tx_hash is not None and status is refills.RefillStatus.EXPIRED:
            movement = movement_id(MovementKind.REFILL.value, record.chain, record.tx_hash)
            cancel_movement(self._engine, movement)
        record = refills.set_refill_status(self._engine, refill_id, status, expected=record.status)
        return self._state(record)

    def _chain(self, chain: str) -> RefillChain:
        found = self._chains.get(chain)
        if found is None:
            raise UnsupportedCurrency(f"this worker refills no {chain} hot wallet")
        return found

    def _state(self, record: refills.RefillRecord) -> RefillState:
        return RefillState(
            refill_id=str(record.id),
            status=record.status.value,
            cold_address=record.cold_address,
            hot_address=record.hot_address,
            approvals=tuple(str(a.staff_id) for a in record.approvals),
            tx_hash=record.tx_hash,
            expires_at=record.expires_at,
            poll_interval_s=self._settings.hot_wallet_poll_s,
        )
