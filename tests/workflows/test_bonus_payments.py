"""Bonuses moved on by payments, on the time-skipping server against a private Anvil: a
credited on-chain deposit grants the player's pending deposit match (also when it was
held first and released), and a withdrawal request forfeits the active bonus. Records
the histories of these paths for the replay test.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from croupier.activities.bonus import BonusView, DepositCredited
from croupier.bonus.claims import ClaimRequest, claim_bonus
from croupier.bonus.offers import offer_named
from croupier.bonus.records import get_bonus
from croupier.bonus.tables import bonus_claims
from croupier.core.money import Currency
from croupier.ledger.accounts import player_account
from croupier.ledger.balances import balance
from croupier.ledger.kinds import AccountKind
from croupier.payments.tables import deposits
from croupier.workflows.bonus import BonusInput, BonusWorkflow, Forfeit, workflow_id
from croupier.workflows.deposit import DepositWorkflow, ReleaseRequest
from croupier.workflows.withdrawal import CancelRequest, WithdrawalWorkflow
from tests.integration.payments.conftest import (
    ETH,
    PaymentsStack,
    cash,
    credit_player,
    eventually,
    new_player,
    verify_kyc,
)
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.workflows.conftest import Recorder
from tests.workflows.test_deposit_holds import confirmed_deposit, held
from tests.workflows.test_payments_on_chain import skipping_stack as skipping_stack
from tests.workflows.test_withdrawal_review import start as start_withdrawal

BonusHandle = WorkflowHandle[BonusWorkflow, BonusView]
MATCH_CAP = ETH  # the welcome match's cap in ETH (croupier.bonus.offers)
FREE_BET = 5 * ETH // 1000  # the free bet's credit in ETH
OFFICER = "5b7c0a4e-9d1f-4c23-8e7a-2f6d4b1c9e30"


async def claimed(
    env: WorkflowEnvironment, stack: PaymentsStack, player: uuid.UUID, offer: str
) -> BonusHandle:
    """Claim ``offer`` for the player (as the API does) and start its workflow."""
    return await started(env, stack, player, await claim(env, stack, player, offer))


async def claim(
    env: WorkflowEnvironment, stack: PaymentsStack, player: uuid.UUID, offer: str
) -> str:
    """Write the claim, dated by the test server's clock, which the workflow's timers
    run on; its id."""
    bonus = claim_bonus(
        stack.engine,
        ClaimRequest(
            bonus_id=uuid.uuid4(),
            user_id=player,
            offer=offer_named(offer),
            currency=Currency.ETH,
            claimed_at=await env.get_current_time(),
            cooldown=timedelta(0),
            game_weights=stack.settings.bonus_game_weights,
        ),
    )
    return str(bonus.id)


async def started(
    env: WorkflowEnvironment, stack: PaymentsStack, player: uuid.UUID, bonus_id: str
) -> BonusHandle:
    return await env.client.start_workflow(
        BonusWorkflow.run,
        BonusInput(bonus_id=bonus_id, user_id=str(player), currency="ETH"),
        id=workflow_id(bonus_id),
        task_queue=stack.task_queue,
    )


async def shown(handle: BonusHandle, status: str) -> BonusView:
    async def probe() -> BonusView | None:
        view = await handle.query(BonusWorkflow.progress)
        return view if view is not None and view.status == status else None

    found: BonusView = await eventually(probe, what=f"bonus {handle.id} {status}")
    return found


def bonus_balance(stack: PaymentsStack, player: uuid.UUID) -> int:
    account = player_account(stack.engine, str(player), AccountKind.PLAYER_BONUS, Currency.ETH)
    return balance(stack.engine, account.id).posted


def claimed_from(engine: Engine, bonus_id: str) -> Any:
    """The deposit address the welcome claim is now bound to (one welcome per address)."""
    with engine.connect() as conn:
        return conn.execute(
            select(bonus_claims.c.deposit_from_address).where(
                bonus_claims.c.bonus_id == uuid.UUID(bonus_id)
            )
        ).scalar_one()


def paid_from(engine: Engine, deposit_id: str) -> Any:
    with engine.connect() as conn:
        found = conn.execute(
            select(deposits.c.from_address).where(deposits.c.id == deposit_id)
        ).scalar_one()
    return found.lower()


async def test_a_deposit_credited_before_the_bonus_workflow_starts_is_matched_once(
    time_skipping_env: WorkflowEnvironment,
    skipping_stack: PaymentsStack,
    record_history: Recorder,
) -> None:
    """The claim is written, the deposit is credited (its signal finds no workflow), and
    only then the Bonus workflow starts: its activation takes the deposit; the same
    deposit signalled again grants nothing more. First in the module: the claim and the
    credit must be dated by clocks that time skipping has not pulled apart."""
    stack = skipping_stack
    player = new_player(stack.engine)
    bonus_id = await claim(time_skipping_env, stack, player, "welcome-match")
    amount = 4 * ETH // 10

    deposit = await confirmed_deposit(stack, player, amount)
    outcome = await deposit.result()
    bonus = await started(time_skipping_env, stack, player, bonus_id)
    granted = await shown(bonus, "active")
    from_address = paid_from(stack.engine, deposit.id)
    await bonus.signal(
        BonusWorkflow.deposit_credited, DepositCredited(deposit.id, str(amount), from_address)
    )
    await bonus.signal(BonusWorkflow.forfeit, Forfeit("cancelled"))
    ended = await bonus.result()

    assert outcome.status == "credited"
    assert granted.amount == str(amount)  # 100% of the deposit, under the cap
    assert get_bonus(stack.engine, uuid.UUID(bonus_id)).deposit_id == deposit.id
    assert claimed_from(stack.engine, bonus_id) == from_address
    # Everything the bonus account ever held came back: one grant, not two.
    assert (ended.status, ended.returned) == ("forfeited", str(amount))
    assert bonus_balance(stack, player) == 0
    assert cash(stack.engine, player, Currency.ETH).posted == amount
    await record_history(deposit, "credited-before-bonus-started")
    await record_history(bonus, "matched-deposit-credited-before-start")


async def test_a_credited_deposit_grants_the_pending_match(
    time_skipping_env: WorkflowEnvironment,
    skipping_stack: PaymentsStack,
    record_history: Recorder,
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    bonus = await claimed(time_skipping_env, stack, player, "welcome-match")
    pending = await shown(bonus, "pending")

    deposit = await confirmed_deposit(stack, player, 4 * ETH // 10)
    outcome = await deposit.result()
    granted = await shown(bonus, "active")

    assert (pending.amount, bonus_balance(stack, player) - int(granted.amount)) == ("0", 0)
    assert outcome.status == "credited"
    assert granted.amount == str(4 * ETH // 10)  # 100% of the deposit, under the cap
    assert granted.required == str(30 * 4 * ETH // 10)
    assert bonus_balance(stack, player) == 4 * ETH // 10
    assert cash(stack.engine, player, Currency.ETH).posted == 4 * ETH // 10
    assert claimed_from(stack.engine, granted.bonus_id) == paid_from(stack.engine, deposit.id)
    await record_history(deposit, "credited-grants-bonus")


async def test_a_held_deposit_grants_the_match_once_it_is_released(
    time_skipping_env: WorkflowEnvironment, skipping_stack: PaymentsStack
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    bonus = await claimed(time_skipping_env, stack, player, "welcome-match")
    await shown(bonus, "pending")
    amount = 3 * ETH // 2  # KYC level 0 may deposit 1 ETH a day: held

    deposit = await confirmed_deposit(stack, player, amount)
    await held(stack, deposit)
    while_held = await bonus.query(BonusWorkflow.progress)
    await deposit.signal(DepositWorkflow.release, ReleaseRequest(OFFICER, "source verified"))
    outcome = await deposit.result()
    granted = await shown(bonus, "active")

    assert while_held is not None and while_held.status == "pending"
    assert outcome.status == "credited"
    assert granted.amount == str(MATCH_CAP)  # 100% of 1.5 ETH, capped at 1 ETH
    assert bonus_balance(stack, player) == MATCH_CAP


async def test_a_withdrawal_request_forfeits_the_active_bonus(
    time_skipping_env: WorkflowEnvironment,
    skipping_stack: PaymentsStack,
    record_history: Recorder,
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    credit_player(stack.engine, player, ETH, Currency.ETH)
    verify_kyc(stack.engine, player)  # level 0 may withdraw only 0.5 ETH a day
    bonus = await claimed(time_skipping_env, stack, player, "free-bet")
    await shown(bonus, "active")

    _, withdrawal = await start_withdrawal(
        time_skipping_env, stack.task_queue, player, 6 * ETH // 10
    )
    submitted = await withdrawal.execute_update(WithdrawalWorkflow.submitted)
    # Queries, not results: waiting on a result lets the test server skip the review's
    # 72 hours, and the withdrawal would expire.
    forfeited = await shown(bonus, "forfeited")
    cancelled = await withdrawal.execute_update(
        WithdrawalWorkflow.cancel, CancelRequest(str(player))
    )
    await bonus.result()

    assert submitted.status == "awaiting_approval"  # above the auto-approval limit
    assert (forfeited.status, forfeited.returned) == ("forfeited", str(FREE_BET))
    assert bonus_balance(stack, player) == 0
    assert cancelled.status == "cancelled"
    assert cash(stack.engine, player, Currency.ETH).posted == ETH  # the hold came back
    await record_history(withdrawal, "cancelled-after-forfeiting-bonus")
    await record_history(bonus, "forfeited-by-withdrawal")
