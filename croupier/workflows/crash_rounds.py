"""Talking to the crash round workflow from outside: the API and the CLI.

There is one round workflow, ``crash-round``, continued as new per round, so a handle
without a run id always reaches the current round (an update that meets a run closing
is retried by Temporal on the next one). A refusal comes back as the typed error the
workflow raised (``croupier.workflows.refusals``); Temporal being slow or unreachable
is ``ServiceUnavailable``, which a client retries with the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from croupier.activities.crash import RoundRef
from croupier.core.errors import ServiceUnavailable
from croupier.crash.errors import RoundNotFound
from croupier.workflows.crash import (
    CRASH_ROUND_WORKFLOW_ID,
    CashedOut,
    CashOutRequest,
    CrashRoundInput,
    CrashRoundWorkflow,
    PlaceCrashBet,
    PlacedCrashBet,
    RoundView,
    StopRounds,
)
from croupier.workflows.refusals import typed_error

# A request that waits longer answers 503; retrying with the same key joins the same
# update (Temporal dedupes by update id) rather than placing a second bet.
DEFAULT_CALL_TIMEOUT_S = 15.0

ResultT = TypeVar("ResultT")


def cash_out_update_id(bet_id: str) -> str:
    """One cash-out per bet: a repeat in the same round gets the first answer back."""
    return f"cash-out-{bet_id}"


@dataclass(frozen=True)
class CrashRounds:
    client: Client
    workflow_id: str = CRASH_ROUND_WORKFLOW_ID
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S

    async def place_bet(self, bet: PlaceCrashBet) -> PlacedCrashBet:
        handle = self._handle()
        return await self._guard(
            lambda: handle.execute_update(CrashRoundWorkflow.place_bet, bet, id=bet.bet_id)
        )

    async def cash_out(self, request: CashOutRequest) -> CashedOut:
        handle = self._handle()
        update_id = cash_out_update_id(request.bet_id)
        return await self._guard(
            lambda: handle.execute_update(CrashRoundWorkflow.cash_out, request, id=update_id)
        )

    async def current(self) -> RoundView:
        handle = self._handle()
        return await self._guard(lambda: handle.query(CrashRoundWorkflow.current))

    async def start(self, task_queue: str, round_: RoundRef | None = None) -> str:
        """Start the rounds unless they run already (then nothing changes); the run id."""
        handle = await self.client.start_workflow(
            CrashRoundWorkflow.run,
            CrashRoundInput(round=round_),
            id=self.workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary="crash: one shared round at a time, continued as new per round",
        )
        run_id = handle.result_run_id or handle.run_id
        assert run_id is not None
        return run_id

    async def stop(self, request: StopRounds) -> None:
        """Let the current round finish and settle, then start no other."""
        handle = self._handle()
        await self._guard(lambda: handle.signal(CrashRoundWorkflow.stop, request))

    def _handle(self) -> WorkflowHandle[CrashRoundWorkflow, Any]:
        return self.client.get_workflow_handle_for(CrashRoundWorkflow.run, self.workflow_id)

    async def _guard(self, call: Callable[[], Awaitable[ResultT]]) -> ResultT:
        """Run ``call`` within the timeout, turning Temporal's failures into typed errors."""
        try:
            return await asyncio.wait_for(call(), timeout=self.call_timeout_s)
        except WorkflowUpdateFailedError as error:
            typed = typed_error(error)
            if typed is None:
                raise ServiceUnavailable(f"the round failed the request: {error.cause}") from None
            raise typed from None
        except WorkflowQueryFailedError:
            raise ServiceUnavailable("the next crash round is opening; retry in a moment") from None
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise ServiceUnavailable(
                f"no answer within {self.call_timeout_s:.0f} s; retry with the same "
                "Idempotency-Key to get the result"
            ) from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND or "completed" in error.message.lower():
                raise RoundNotFound("no crash round is running: the game is stopped") from None
            raise ServiceUnavailable(f"Temporal refused the call: {error.message}") from None
