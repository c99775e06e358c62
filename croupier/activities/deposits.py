"""Deposit activities: record a sighting, check its depth on chain, credit it, or give up.

Each is idempotent by the deposit's business key. The chain check is the one that
matters for money: it asks the node where the transaction is *now* (a reorg may have
moved or removed it) and confirms, from that block's own logs or value transfers, that
the very transfer we recorded is there, at our key, for our amount.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.chains.base import ChainClient, IncomingTransfer, TxState
from croupier.chains.errors import ChainMoved
from croupier.compliance.audit import record_staff_action
from croupier.core.money import Currency, parse_minor_units
from croupier.payments import deposits
from croupier.payments.errors import UnsupportedCurrency
from croupier.payments.rules import PaymentRules


@dataclass(frozen=True)
class DepositSighting:
    """A transfer into one of our addresses, as the scanner first saw it."""

    chain: str
    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    from_address: str
    to_address: str
    currency: str
    amount: str

    @classmethod
    def of(cls, transfer: IncomingTransfer) -> DepositSighting:
        return cls(
            chain=transfer.chain,
            tx_hash=transfer.tx_hash,
            log_index=transfer.log_index,
            block_number=transfer.block_number,
            block_hash=transfer.block_hash,
            from_address=transfer.from_address,
            to_address=transfer.to_address,
            currency=transfer.currency.value,
            amount=str(transfer.amount),
        )

    def to_domain(self) -> deposits.Sighting:
        return deposits.Sighting(
            chain=self.chain,
            tx_hash=self.tx_hash,
            log_index=self.log_index,
            block_number=self.block_number,
            block_hash=self.block_hash,
            from_address=self.from_address,
            to_address=self.to_address,
            currency=Currency.parse(self.currency),
            amount=parse_minor_units(self.amount),
        )


@dataclass(frozen=True)
class DepositPlan:
    """The recorded deposit and how to wait for it (from the worker's settings)."""

    deposit_id: str
    user_id: str
    status: str
    confirmations_required: int
    poll_interval_s: float
    orphan_timeout_s: int
    # How often a deposit held by the player's limits is checked again.
    hold_recheck_s: int


@dataclass(frozen=True)
class DepositInclusion:
    """Where the transfer is now: in a canonical block, ``confirmations`` deep, or not."""

    included: bool
    confirmations: int
    block_number: int | None


@dataclass(frozen=True)
class DepositState:
    deposit_id: str
    status: str
    hold_reason: str | None = None


@dataclass(frozen=True)
class DepositRelease:
    """Compliance credits a held deposit (e.g. so a self-excluded player can withdraw it)."""

    deposit_id: str
    staff_id: str
    reason: str


class DepositActivities:
    def __init__(
        self,
        engine: Engine,
        chains: Mapping[str, ChainClient],
        rules: PaymentRules,
        *,
        admit: deposits.DepositAdmission,
    ) -> None:
        self._engine = engine
        self._chains = chains  # by ``ChainClient.chain``: each sighting names its chain
        self._rules = rules
        self._admit = admit

    @activity.defn(name="payments.record_deposit")
    @maps_business_failures
    def record_deposit(self, sighting: DepositSighting) -> DepositPlan:
        found = sighting.to_domain()
        record = deposits.record_deposit(
            self._engine,
            found,
            dust_minimum=self._rules.dust_minimum(found.currency),
            confirmations_required=self._rules.confirmations(found.currency),
        )
        settings = self._rules.settings
        return DepositPlan(
            deposit_id=record.id,
            user_id=str(record.user_id),
            status=record.status.value,
            confirmations_required=record.confirmations_required,
            poll_interval_s=settings.deposit_poll_interval_s,
            orphan_timeout_s=settings.deposit_orphan_timeout_s,
            hold_recheck_s=settings.deposit_hold_recheck_s,
        )

    @activity.defn(name="payments.check_deposit")
    @maps_business_failures
    def check_deposit(self, sighting: DepositSighting) -> DepositInclusion:
        found = sighting.to_domain()
        chain = self._chains.get(found.chain)
        if chain is None:
            raise UnsupportedCurrency(f"this worker reads no {found.chain} node")
        status = chain.transaction_status(found.tx_hash)
        if status.state is TxState.INCLUDED and status.block_number is not None:
            scanned = chain.scan(status.block_number, status.block_number, [found.to_address])
            if scanned.headers[0].hash != status.block_hash:
                raise ChainMoved(
                    f"block {status.block_number} changed while {found.tx_hash} was checked"
                )
            if any(_same_transfer(found, transfer) for transfer in scanned.transfers):
                deposits.observe_included(
                    self._engine,
                    found.deposit_id,
                    block_number=status.block_number,
                    block_hash=scanned.headers[0].hash,
                    confirmations=status.confirmations,
                )
                return DepositInclusion(True, status.confirmations, status.block_number)
        # Not mined, dropped, reverted, or mined anew at another position (another key).
        deposits.observe_absent(self._engine, found.deposit_id)
        return DepositInclusion(included=False, confirmations=0, block_number=None)

    @activity.defn(name="payments.credit_deposit")
    @maps_business_failures
    def credit_deposit(self, deposit_id: str) -> DepositState:
        """Credit it, unless the player's limits hold it (then ``held``, with the reason)."""
        record = deposits.credit_deposit(self._engine, deposit_id, self._admit)
        return DepositState(record.id, record.status.value, record.hold_reason)

    @activity.defn(name="payments.release_deposit")
    @maps_business_failures
    def release_deposit(self, release: DepositRelease) -> DepositState:
        """Credit a held deposit on a compliance decision, audited in the same transaction."""

        def audit(conn: Connection, record: deposits.DepositRecord) -> None:
            record_staff_action(
                conn,
                uuid.UUID(release.staff_id),
                "deposit.release",
                f"deposit:{record.id}",
                {
                    "player": str(record.user_id),
                    "currency": record.currency.value,
                    "amount": str(record.amount),
                    "hold_code": record.hold_code,
                    "reason": release.reason,
                },
            )

        record = deposits.release_held_deposit(self._engine, release.deposit_id, audit)
        return DepositState(record.id, record.status.value, record.hold_reason)

    @activity.defn(name="payments.orphan_deposit")
    @maps_business_failures
    def orphan_deposit(self, deposit_id: str) -> DepositState:
        record = deposits.orphan_deposit(self._engine, deposit_id)
        return DepositState(record.id, record.status.value)


def _same_transfer(expected: deposits.Sighting, seen: IncomingTransfer) -> bool:
    return (
        seen.tx_hash.lower() == expected.tx_hash.lower()
        and seen.log_index == expected.log_index
        and seen.to_address == expected.to_address
        and seen.currency is expected.currency
        and seen.amount == expected.amount
    )
