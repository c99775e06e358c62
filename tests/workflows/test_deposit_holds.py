"""Deposits the player's own limits refuse, on the time-skipping server against a private
Anvil: held (confirmed, not credited, not playable), then credited exactly once when a
re-check admits them or compliance releases them. Records the Deposit workflow's held
histories for the replay test.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from croupier.activities.deposits import DepositSighting
from croupier.compliance.audit import verify_chain
from croupier.compliance.exclusions import exclude
from croupier.compliance.limit_changes import apply_limit_change, request_limit_change
from croupier.compliance.limits import ExclusionKind, LimitKey, LimitKind, Period
from croupier.compliance.tables import audit_log
from croupier.core.money import Currency
from croupier.payments.deposits import DepositRecord, get_deposit
from croupier.payments.keys import deposit_id
from croupier.workflows import search_attributes
from croupier.workflows.deposit import DepositInput, DepositOutcome, DepositWorkflow, ReleaseRequest
from tests.integration.payments.conftest import (
    CHAIN,
    CONFIRMATIONS,
    ETH,
    PaymentsStack,
    cash,
    eventually,
    funded_key,
    new_player,
    send_eth,
    verify_kyc,
    wait_mined,
)
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.integration.payments.test_deposits import ledger_postings
from tests.workflows.conftest import Recorder
from tests.workflows.test_payments_on_chain import skipping_stack as skipping_stack

Handle = WorkflowHandle[DepositWorkflow, DepositOutcome]
DAILY_DEPOSITS = LimitKey(LimitKind.DEPOSIT, Currency.ETH, Period.DAILY)
DAY = timedelta(hours=24)


async def confirmed_deposit(stack: PaymentsStack, player: uuid.UUID, amount: int) -> Handle:
    """Send ``amount`` to the player's address, confirm it, and start its workflow (the
    scanner's job), which finds it confirmed at once and goes straight to the credit."""
    address = stack.deposit_address(player)
    sent = send_eth(stack.chain, funded_key(stack.w3, amount + ETH), address, amount)
    block = wait_mined(stack.w3, sent.tx_hash)
    stack.mine(CONFIRMATIONS)
    (transfer,) = stack.chain.scan(block, block, [address]).transfers
    return await stack.temporal.start_workflow(
        DepositWorkflow.run,
        DepositInput(DepositSighting.of(transfer)),
        id=deposit_id(CHAIN, sent.tx_hash, transfer.log_index),
        task_queue=stack.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def held(stack: PaymentsStack, handle: Handle) -> DepositRecord:
    """Wait until the workflow shows the deposit held (it then takes a release)."""

    async def shown_held() -> bool:
        described = await handle.describe()
        return described.typed_search_attributes.get(search_attributes.STATUS) == "held"

    await eventually(shown_held, what=f"{handle.id} held")
    return get_deposit(stack.engine, handle.id)


async def test_the_release_update_answers_a_refusal_instead_of_dropping_it(
    skipping_stack: PaymentsStack,
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    exclude(stack.engine, player, ExclusionKind.SELF_EXCLUSION, 180, now=datetime.now(UTC))
    officer = "8f1d3c52-2a0e-4f59-9a53-0c1f6b1f4a11"
    handle = await confirmed_deposit(stack, player, ETH // 4)
    await held(stack, handle)

    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await handle.execute_update(DepositWorkflow.release_now, ReleaseRequest(officer, " "))
    await handle.execute_update(DepositWorkflow.release_now, ReleaseRequest(officer, "checked"))
    outcome = await handle.result()

    assert isinstance(no_reason.value.cause, ApplicationError)
    assert no_reason.value.cause.type == "invalid_input"
    assert outcome.status == "credited"
    assert ledger_postings(stack, handle.id) == 1


async def test_a_self_excluded_players_deposit_is_held_until_compliance_releases_it(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    exclude(stack.engine, player, ExclusionKind.SELF_EXCLUSION, 180, now=datetime.now(UTC))
    officer = "8f1d3c52-2a0e-4f59-9a53-0c1f6b1f4a11"

    handle = await confirmed_deposit(stack, player, ETH // 2)
    record = await held(stack, handle)
    cash_while_held = cash(stack.engine, player, Currency.ETH)
    await handle.signal(
        DepositWorkflow.release, ReleaseRequest(officer, "player asked to withdraw it")
    )
    outcome = await handle.result()

    assert (record.status.value, record.hold_code) == ("held", "self_excluded")
    assert record.hold_reason is not None and "self-excluded until" in record.hold_reason
    assert (cash_while_held.posted, cash_while_held.pending) == (0, 0)
    assert outcome.status == "credited"
    assert cash(stack.engine, player, Currency.ETH).posted == ETH // 2
    assert ledger_postings(stack, handle.id) == 1
    with stack.engine.connect() as conn:
        (row,) = conn.execute(
            select(audit_log).where(audit_log.c.subject == f"deposit:{handle.id}")
        ).all()
    assert (row.actor, row.action) == (officer, "deposit.release")
    assert row.details["hold_code"] == "self_excluded"
    assert row.details["amount"] == str(ETH // 2)
    assert verify_chain(stack.engine).intact
    await record_history(handle, "held-then-released")


async def test_a_deposit_past_the_daily_limit_waits_until_the_limit_admits_it(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    now = datetime.now(UTC)
    request_limit_change(
        stack.engine, player, DAILY_DEPOSITS, ETH // 2, now=now, increase_delay=DAY
    )

    first = await (await confirmed_deposit(stack, player, 3 * ETH // 10)).result()
    second = await confirmed_deposit(stack, player, 3 * ETH // 10)
    record = await held(stack, second)
    cash_while_held = cash(stack.engine, player, Currency.ETH).posted
    # The player raises the limit; after its 24 hours (the LimitChange timer) it applies.
    raised = request_limit_change(
        stack.engine, player, DAILY_DEPOSITS, ETH, now=now, increase_delay=DAY
    )
    apply_limit_change(stack.engine, raised.id, now=raised.effective_at)
    outcome = await second.result()  # the next re-check (an hour on) admits it

    assert first.status == "credited"
    assert (record.status.value, record.hold_code) == ("held", "deposit_limit_reached")
    assert cash_while_held == 3 * ETH // 10
    assert outcome.status == "credited"
    assert cash(stack.engine, player, Currency.ETH).posted == 6 * ETH // 10
    assert ledger_postings(stack, second.id) == 1
    credited = get_deposit(stack.engine, second.id)
    assert credited.hold_code == "deposit_limit_reached"  # the record keeps why it waited
    await record_history(second, "held-then-admitted")


async def test_a_deposit_past_the_kyc_levels_daily_limit_is_credited_once_verified(
    skipping_stack: PaymentsStack,
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    amount = 3 * ETH // 2  # level 0 may deposit 1 ETH a day (croupier.compliance.levels)

    handle = await confirmed_deposit(stack, player, amount)
    record = await held(stack, handle)
    verify_kyc(stack.engine, player)
    outcome = await handle.result()

    assert record.hold_code == "kyc_deposit_limit_reached"
    assert record.hold_reason is not None and "KYC level 0 allows 1 ETH" in record.hold_reason
    assert outcome.status == "credited"
    assert cash(stack.engine, player, Currency.ETH).posted == amount
