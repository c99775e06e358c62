"""How the payment workflows move a player's bonus on, from inside their own runs.

- A credited deposit is what a pending deposit match waits for: the Deposit workflow
  tells it (``deposit_credited``), and the Bonus workflow grants the match if the
  deposit qualifies.
- A withdrawal request forfeits the player's active bonus: the Withdrawal workflow
  tells it (``forfeit``, reason ``withdrawal``) once the request's funds are held.

Both look the player's open bonus up first (one activity; most players have none, and
then nothing else happens) and signal its workflow, whose id is the bonus's business
key. Every step is safe to repeat: a match already granted ignores a second deposit, a
second forfeit changes nothing. A bonus workflow that ended in between is not an
error: the database already decided that bonus.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.bonus import (
        BonusActivities,
        DepositCredited,
        OpenBonus,
        PlayerCurrency,
    )
    from croupier.bonus.records import BonusStatus
    from croupier.workflows.bonus import STEP_RETRY, STEP_TIMEOUT, BonusWorkflow, Forfeit

WITHDRAWAL = "withdrawal"


async def deposit_credited(user_id: str, currency: str, deposit: DepositCredited) -> None:
    """Tell the player's pending deposit match (if any) about a credited deposit."""
    bonus = await _open_bonus(user_id, currency)
    if bonus is not None and bonus.status == BonusStatus.PENDING.value:
        with contextlib.suppress(FailureError):
            await _bonus_workflow(bonus).signal(BonusWorkflow.deposit_credited, deposit)


async def withdrawal_requested(user_id: str, currency: str) -> None:
    """Forfeit the player's granted bonus (if any); a claim still waiting for its
    deposit holds no money and stays."""
    bonus = await _open_bonus(user_id, currency)
    if bonus is not None and bonus.status != BonusStatus.PENDING.value:
        with contextlib.suppress(FailureError):
            await _bonus_workflow(bonus).signal(BonusWorkflow.forfeit, Forfeit(WITHDRAWAL))


async def _open_bonus(user_id: str, currency: str) -> OpenBonus | None:
    return await workflow.execute_activity_method(
        BonusActivities.player_open_bonus,
        PlayerCurrency(user_id, currency),
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STEP_RETRY,
    )


def _bonus_workflow(bonus: OpenBonus) -> workflow.ExternalWorkflowHandle[BonusWorkflow]:
    return workflow.get_external_workflow_handle_for(BonusWorkflow.run, bonus.workflow_id)
