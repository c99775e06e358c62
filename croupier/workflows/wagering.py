"""Telling a bonus's workflow where its wagering stands, from the workflow that settled
a bet under it: the session (one-shot bets), a mines game, the crash round.

The signal carries the cumulative total, so a duplicate or a late one is harmless;
the database holds the truth either way. A bonus workflow that ended meanwhile needs
nothing, so a failed signal is not an error.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.bonus import WageringProgress, bonus_workflow_id

WAGERED_SIGNAL = "wagered"


async def report_wagering(progress: WageringProgress) -> None:
    handle = workflow.get_external_workflow_handle(bonus_workflow_id(progress.bonus_id))
    with contextlib.suppress(FailureError):
        await handle.signal(WAGERED_SIGNAL, progress)
