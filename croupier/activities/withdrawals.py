"""Withdrawal activities: open (limits + hold), review, decisions, queue the send, settle
or release. Each is one database transaction keyed by the withdrawal id, safe to repeat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from temporalio import activity

from croupier.activities.bridge import TemporalBridge
from croupier.activities.failures import maps_business_failures
from croupier.activities.hot_wallet import SendRequest
from croupier.activities.sender_queue import signal_sender
from croupier.activities.signing import SignerSource, chain_address
from croupier.compliance.audit import record_staff_action
from croupier.compliance.levels import kyc_level, limits_for_level
from croupier.core.money import format_decimal, parse_minor_units
from croupier.monitoring.breaker import PAUSED_STATUS, approvals_paused, note_withdrawal_request
from croupier.monitoring.velocity import VelocityPolicy, WithdrawalSeen
from croupier.payments import withdrawals
from croupier.payments.keys import sender_workflow_id
from croupier.payments.risk import RiskLimits, assess
from croupier.payments.rules import PaymentRules
from croupier.payments.states import WithdrawalStatus
from croupier.treasury.hd import HOT_WALLET_ACCOUNT

# How often a withdrawal parked by the circuit breaker asks whether it was resumed
# (the resume route also signals parked withdrawals; this covers a missed signal).
BREAKER_RECHECK_S = 300
assert WithdrawalStatus.PAUSED.value == PAUSED_STATUS, "payments and monitoring must agree"


@dataclass(frozen=True)
class OpenWithdrawal:
    withdrawal_id: str
    user_id: str
    currency: str
    amount: str
    to_address: str


@dataclass(frozen=True)
class OpenedWithdrawal:
    withdrawal_id: str
    fee: str
    to_address: str


@dataclass(frozen=True)
class Review:
    """Why the withdrawal needs a human (empty: approved automatically, unless the
    circuit breaker has ``paused`` auto-approval), and how long the reminder and the
    expiry wait, and how often a parked one re-checks the breaker (worker settings)."""

    reasons: tuple[str, ...]
    paused: bool
    reminder_s: int
    expiry_s: int
    breaker_recheck_s: int


@dataclass(frozen=True)
class Approval:
    withdrawal_id: str
    staff_id: str
    reason: str


@dataclass(frozen=True)
class Release:
    withdrawal_id: str
    status: str
    reason: str
    decided_by: str | None = None
    gas_paid_wei: str = "0"


@dataclass(frozen=True)
class QueuedSend:
    sender_workflow_id: str
    # Re-queue after this long without news: a sender started afresh forgets its queue.
    nudge_after_s: int


@dataclass(frozen=True)
class BroadcastSeen:
    withdrawal_id: str
    tx_hash: str


@dataclass(frozen=True)
class Settlement:
    withdrawal_id: str
    tx_hash: str
    gas_paid_wei: str


@dataclass(frozen=True)
class WithdrawalState:
    withdrawal_id: str
    status: str


class WithdrawalActivities:
    def __init__(
        self,
        engine: Engine,
        rules: PaymentRules,
        signer: SignerSource,
        temporal: TemporalBridge,
    ) -> None:
        self._engine = engine
        self._rules = rules
        self._signer = signer
        self._temporal = temporal

    @activity.defn(name="payments.open_withdrawal")
    @maps_business_failures
    def open_withdrawal(self, request: OpenWithdrawal) -> OpenedWithdrawal:
        checked = self._rules.check_request(
            request.currency, parse_minor_units(request.amount), request.to_address
        )
        user_id = uuid.UUID(request.user_id)
        level = limits_for_level(kyc_level(self._engine, user_id))
        record = withdrawals.open_withdrawal(
            self._engine,
            uuid.UUID(request.withdrawal_id),
            user_id,
            checked,
            daily_limit=level.daily_withdrawal_minor(checked.currency),
        )
        return OpenedWithdrawal(str(record.id), str(record.fee), record.to_address)

    @activity.defn(name="payments.assess_withdrawal")
    @maps_business_failures
    def assess_withdrawal(self, withdrawal_id: str) -> Review:
        settings = self._rules.settings
        record = withdrawals.get_withdrawal(self._engine, uuid.UUID(withdrawal_id))
        facts = withdrawals.risk_facts(
            self._engine,
            record,
            velocity_window_s=settings.withdrawal_velocity_window_s,
            kyc_level=kyc_level(self._engine, record.user_id),
        )
        decision = assess(
            facts,
            RiskLimits(
                auto_approve_limit=self._rules.auto_approve_limit(record.currency),
                velocity_max=settings.withdrawal_velocity_max,
                new_account_age_s=settings.withdrawal_new_account_age_s,
            ),
        )
        reasons = tuple(reason.value for reason in decision.reasons)
        paused = self._note_request(record)
        withdrawals.record_review(self._engine, record.id, reasons, paused=paused)
        return Review(
            reasons=reasons,
            paused=paused,
            reminder_s=settings.withdrawal_approval_reminder_s,
            expiry_s=settings.withdrawal_approval_expiry_s,
            breaker_recheck_s=BREAKER_RECHECK_S,
        )

    @activity.defn(name="payments.resume_if_unpaused")
    @maps_business_failures
    def resume_if_unpaused(self, withdrawal_id: str) -> bool:
        """Approve a parked withdrawal if the breaker is closed now (the database, not the
        resume signal, is the truth); False while it stays paused."""
        with self._engine.connect() as conn:
            if approvals_paused(conn):
                return False
        withdrawals.record_unpaused(self._engine, uuid.UUID(withdrawal_id))
        return True

    @activity.defn(name="payments.remind_compliance")
    @maps_business_failures
    def remind_compliance(self, withdrawal_id: str) -> None:
        """Count the reminder on the record and log it for the alerting pipeline."""
        record = withdrawals.record_reminder(self._engine, uuid.UUID(withdrawal_id))
        activity.logger.warning(
            "withdrawal %s of %s %s still awaits a compliance decision (%s)",
            record.id,
            format_decimal(record.amount, record.currency),
            record.currency,
            ", ".join(record.review_reasons),
        )

    @activity.defn(name="payments.record_approval")
    @maps_business_failures
    def record_approval(self, approval: Approval) -> WithdrawalState:
        record = withdrawals.record_approval(
            self._engine,
            uuid.UUID(approval.withdrawal_id),
            uuid.UUID(approval.staff_id),
            approval.reason,
            on_decided=_audited("withdrawal.approve", approval.staff_id, approval.reason),
        )
        return WithdrawalState(str(record.id), record.status.value)

    @activity.defn(name="payments.release_withdrawal")
    @maps_business_failures
    def release_withdrawal(self, release: Release) -> WithdrawalState:
        # Only a compliance rejection names who decided; that one is audited.
        staff = release.decided_by
        record = withdrawals.release(
            self._engine,
            uuid.UUID(release.withdrawal_id),
            WithdrawalStatus(release.status),
            reason=release.reason,
            decided_by=None if staff is None else uuid.UUID(staff),
            gas_paid_wei=parse_minor_units(release.gas_paid_wei, allow_zero=True),
            on_decided=None
            if staff is None
            else _audited("withdrawal.reject", staff, release.reason),
        )
        return WithdrawalState(str(record.id), record.status.value)

    @activity.defn(name="payments.enqueue_send")
    @maps_business_failures
    def enqueue_send(self, withdrawal_id: str) -> QueuedSend:
        """Hand the approved withdrawal to its hot wallet's sender (signal-with-start)."""
        record = withdrawals.get_withdrawal(self._engine, uuid.UUID(withdrawal_id))
        settings = self._rules.settings
        chain = record.currency.chain
        address = chain_address(
            self._signer.get(),
            chain,
            settings.hot_wallet_index,
            account=HOT_WALLET_ACCOUNT,
            btc_network=settings.btc_network,
        )
        sender_id = sender_workflow_id(chain, address)
        request = SendRequest(
            withdrawal_id=str(record.id),
            currency=record.currency.value,
            amount=str(record.amount),
            to_address=record.to_address,
        )
        task_queue = activity.info().task_queue
        self._temporal.run(self._signal_sender(sender_id, request, chain, task_queue))
        withdrawals.record_sending(self._engine, record.id)
        return QueuedSend(sender_id, nudge_after_s=4 * settings.hot_wallet_stuck_after_s)

    @activity.defn(name="payments.record_broadcast")
    @maps_business_failures
    def record_broadcast(self, seen: BroadcastSeen) -> WithdrawalState:
        record = withdrawals.record_sending(
            self._engine, uuid.UUID(seen.withdrawal_id), tx_hash=seen.tx_hash
        )
        return WithdrawalState(str(record.id), record.status.value)

    @activity.defn(name="payments.settle_withdrawal")
    @maps_business_failures
    def settle_withdrawal(self, settlement: Settlement) -> WithdrawalState:
        record = withdrawals.settle(
            self._engine,
            uuid.UUID(settlement.withdrawal_id),
            tx_hash=settlement.tx_hash,
            gas_paid_wei=parse_minor_units(settlement.gas_paid_wei, allow_zero=True),
        )
        return WithdrawalState(str(record.id), record.status.value)

    def _note_request(self, record: withdrawals.WithdrawalRecord) -> bool:
        """Show the request to the circuit breaker (which may trip on it); True while
        auto-approval is paused."""
        seen = WithdrawalSeen(
            withdrawal_id=str(record.id),
            player_id=str(record.user_id),
            currency=record.currency,
            amount=record.amount,
            requested_at=record.created_at,
            player_since=withdrawals.account_created_at(self._engine, record.user_id),
        )
        with self._engine.begin() as conn:
            state = note_withdrawal_request(
                conn, seen, VelocityPolicy.from_settings(self._rules.settings)
            )
        return state.paused

    async def _signal_sender(
        self, sender_id: str, request: SendRequest, chain: str, task_queue: str
    ) -> None:
        await signal_sender(
            self._temporal.client,
            sender_id,
            request,
            chain=chain,
            hot_index=self._rules.settings.hot_wallet_index,
            task_queue=task_queue,
        )


def _audited(action: str, staff_id: str, reason: str) -> withdrawals.DecisionHook:
    """The audit row of a compliance decision, written in the decision's transaction."""

    def audit(conn: Connection, record: withdrawals.WithdrawalRecord) -> None:
        record_staff_action(
            conn,
            uuid.UUID(staff_id),
            action,
            f"withdrawal:{record.id}",
            {
                "player": str(record.user_id),
                "currency": record.currency.value,
                "amount": str(record.amount),
                "reason": reason,
            },
        )

    return audit
