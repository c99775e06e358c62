"""The Withdrawal workflow's waits on the time-skipping server: a reminder, then expiry
three days on; a rejection; the player's cancel; a refusal with nothing held.

The session's settings apply: new accounts always go to review (the new-account rule),
and the reminder (4 h) and expiry (72 h) pass in an instant.
"""

from __future__ import annotations

import uuid

from eth_account import Account
from sqlalchemy import Engine, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from croupier.compliance.audit import verify_chain
from croupier.compliance.tables import audit_log
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.payments.withdrawals import get_withdrawal
from croupier.workflows.withdrawal import (
    CancelRequest,
    StaffDecision,
    WithdrawalInput,
    WithdrawalView,
    WithdrawalWorkflow,
)
from tests.integration.payments.conftest import ETH, cash, credit_player, new_player, verify_kyc
from tests.workflows.conftest import Recorder

Handle = WorkflowHandle[WithdrawalWorkflow, WithdrawalView]


async def start(
    env: WorkflowEnvironment, queue: str, player: uuid.UUID, amount: int
) -> tuple[uuid.UUID, Handle]:
    withdrawal_id = uuid.uuid4()
    handle = await env.client.start_workflow(
        WithdrawalWorkflow.run,
        WithdrawalInput(
            withdrawal_id=str(withdrawal_id),
            user_id=str(player),
            currency="ETH",
            amount=str(amount),
            to_address=Account.create().address,
        ),
        id=f"withdrawal-{withdrawal_id}",
        task_queue=queue,
    )
    return withdrawal_id, handle


def funded_player(engine: Engine) -> uuid.UUID:
    player = new_player(engine)
    credit_player(engine, player, ETH, Currency.ETH)
    return player


async def test_an_undecided_withdrawal_is_reminded_then_expires_and_releases_the_hold(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    settings: Settings,
    record_history: Recorder,
) -> None:
    player = funded_player(engine)
    withdrawal_id, handle = await start(time_skipping_env, time_skipping_worker, player, ETH // 10)

    submitted = await handle.execute_update(WithdrawalWorkflow.submitted)
    held = cash(engine, player, Currency.ETH)
    done = await handle.result()

    assert submitted.status == "awaiting_approval"
    assert "new_account" in submitted.review_reasons
    assert held.pending > ETH // 10
    assert done.status == "expired"
    record = get_withdrawal(engine, withdrawal_id)
    assert record.approval_reminders == 1
    assert record.status.value == "expired"
    assert done.updated_at is not None and done.requested_at is not None
    waited = (done.updated_at - done.requested_at).total_seconds()
    assert waited >= settings.withdrawal_approval_expiry_s
    assert cash(engine, player, Currency.ETH).pending == 0
    await record_history(handle, "expired")


async def test_a_rejected_withdrawal_releases_the_hold_with_the_staff_reason(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = funded_player(engine)
    staff_id = str(uuid.uuid4())
    withdrawal_id, handle = await start(time_skipping_env, time_skipping_worker, player, ETH // 10)

    await handle.execute_update(WithdrawalWorkflow.submitted)
    await handle.signal(WithdrawalWorkflow.reject, StaffDecision(staff_id, "unverified source"))
    done = await handle.result()

    assert (done.status, done.decided_by, done.decision_reason) == (
        "rejected",
        staff_id,
        "unverified source",
    )
    assert get_withdrawal(engine, withdrawal_id).approval_reminders == 0
    assert cash(engine, player, Currency.ETH).pending == 0
    with engine.connect() as conn:
        audited = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.details).where(
                audit_log.c.subject == f"withdrawal:{withdrawal_id}"
            )
        ).all()
    assert [(row.actor, row.action, row.details["reason"]) for row in audited] == [
        (staff_id, "withdrawal.reject", "unverified source")
    ]
    assert verify_chain(engine).intact
    await record_history(handle, "rejected")


async def test_the_player_cancels_while_it_waits_and_no_one_else_can(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = funded_player(engine)
    _, handle = await start(time_skipping_env, time_skipping_worker, player, ETH // 10)
    await handle.execute_update(WithdrawalWorkflow.submitted)

    try:
        await handle.execute_update(WithdrawalWorkflow.cancel, CancelRequest(str(uuid.uuid4())))
    except WorkflowUpdateFailedError as error:
        stranger_refused = error.cause
    cancelled = await handle.execute_update(WithdrawalWorkflow.cancel, CancelRequest(str(player)))

    assert isinstance(stranger_refused, ApplicationError)
    assert stranger_refused.type == "withdrawal_not_found"
    assert cancelled.status == "cancelled"
    assert cash(engine, player, Currency.ETH).pending == 0
    await record_history(handle, "cancelled")


async def test_a_withdrawal_the_player_cannot_cover_is_refused_with_nothing_held(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = new_player(engine)
    credit_player(engine, player, ETH // 10, Currency.ETH)
    _, handle = await start(time_skipping_env, time_skipping_worker, player, ETH // 5)

    try:
        await handle.execute_update(WithdrawalWorkflow.submitted)
    except WorkflowUpdateFailedError as error:
        refusal = error.cause
    done = await handle.result()

    assert isinstance(refusal, ApplicationError)
    assert refusal.type == "insufficient_funds"
    assert (done.status, done.refusal_code) == ("refused", "insufficient_funds")
    balance = cash(engine, player, Currency.ETH)
    assert (balance.posted, balance.pending) == (ETH // 10, 0)
    await record_history(handle, "refused")


async def test_the_daily_limit_is_the_players_kyc_levels(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, engine: Engine
) -> None:
    """Level 0 may withdraw 0.5 ETH a day, level 1 5 ETH (croupier.compliance.levels)."""
    player = funded_player(engine)
    amount = ETH // 2 + 1
    _, unverified = await start(time_skipping_env, time_skipping_worker, player, amount)

    try:
        await unverified.execute_update(WithdrawalWorkflow.submitted)
    except WorkflowUpdateFailedError as error:
        refusal = error.cause
    verify_kyc(engine, player)
    _, verified = await start(time_skipping_env, time_skipping_worker, player, amount)
    accepted = await verified.execute_update(WithdrawalWorkflow.submitted)
    await verified.signal(WithdrawalWorkflow.reject, StaffDecision(str(uuid.uuid4()), "test over"))
    await verified.result()

    assert isinstance(refusal, ApplicationError)
    assert refusal.type == "daily_limit_exceeded"
    assert "0.5 ETH" in refusal.message
    assert accepted.status == "awaiting_approval"
    assert (await unverified.result()).status == "refused"
