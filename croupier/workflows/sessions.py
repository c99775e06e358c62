"""Talking to session and mines workflows from outside: the API and the benchmark.

Every money-moving call is an Update whose id is the business id (bet, rotation or
credit id), sent with update-with-start so the first request of a player starts their
session. A refusal comes back as the typed error the workflow raised (see
``croupier.workflows.refusals``); Temporal being unreachable or slow is
``ServiceUnavailable``, which a client retries with the same key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from croupier.activities.betting import BetResult, CreditResult, RotationResult
from croupier.betting.errors import MinesGameOver
from croupier.core.errors import CroupierError, NotFound, RateLimited, ServiceUnavailable
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.workflows import search_attributes as keys
from croupier.workflows.mines import MinesGameWorkflow, MinesView, RevealTile
from croupier.workflows.refusals import typed_error
from croupier.workflows.session import (
    DevCredit,
    Fairness,
    OpenMines,
    PlaceBet,
    PlayerSessionWorkflow,
    RotateSeeds,
    SessionConfig,
    SessionInput,
    SessionSummary,
    session_workflow_id,
)

# A request that waits longer than this answers 503; retrying with the same key then
# joins the same update (or gets its stored result) rather than placing a second bet.
DEFAULT_UPDATE_TIMEOUT_S = 30.0
# An update can race the session closing (continue-as-new, idle end); starting again
# with the same update id is safe, so try a few times.
MAX_START_ATTEMPTS = 3

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class SessionClient:
    client: Client
    task_queue: str
    settings: Settings
    update_timeout_s: float = DEFAULT_UPDATE_TIMEOUT_S
    # Off on Temporal's time-skipping test server, which has no custom search attributes.
    search_attributes: bool = True

    async def place_bet(self, user_id: uuid.UUID, currency: Currency, bet: PlaceBet) -> BetResult:
        return await self._session_update(
            user_id, currency, PlayerSessionWorkflow.place_bet, bet, bet.bet_id
        )

    async def open_mines(
        self, user_id: uuid.UUID, currency: Currency, game: OpenMines
    ) -> MinesView:
        return await self._session_update(
            user_id, currency, PlayerSessionWorkflow.open_mines, game, game.bet_id
        )

    async def rotate_seeds(
        self, user_id: uuid.UUID, currency: Currency, rotation: RotateSeeds
    ) -> RotationResult:
        return await self._session_update(
            user_id, currency, PlayerSessionWorkflow.rotate_seeds, rotation, rotation.rotation_id
        )

    async def dev_credit(
        self, user_id: uuid.UUID, currency: Currency, credit: DevCredit
    ) -> CreditResult:
        return await self._session_update(
            user_id, currency, PlayerSessionWorkflow.dev_credit, credit, credit.credit_id
        )

    async def open_session(self, user_id: uuid.UUID, currency: Currency) -> Fairness:
        """Start the session if it is not running and return its seeds (the first call
        of a new player creates their seed pair)."""
        return await self._session_update(
            user_id, currency, PlayerSessionWorkflow.current_fairness, None, str(uuid.uuid4())
        )

    async def reveal(self, bet_id: uuid.UUID, tile: int, update_id: str) -> MinesView:
        handle = self.client.get_workflow_handle(mines_workflow_id(bet_id))
        return await self._game_move(
            bet_id,
            lambda: handle.execute_update(MinesGameWorkflow.reveal, RevealTile(tile), id=update_id),
        )

    async def cash_out(self, bet_id: uuid.UUID, update_id: str) -> MinesView:
        handle = self.client.get_workflow_handle(mines_workflow_id(bet_id))
        return await self._game_move(
            bet_id, lambda: handle.execute_update(MinesGameWorkflow.cash_out, id=update_id)
        )

    async def _game_move(
        self, bet_id: uuid.UUID, move: Callable[[], Awaitable[MinesView]]
    ) -> MinesView:
        """A move on a game whose workflow has ended is a move on a game that is over
        (the caller checked the game exists)."""
        try:
            return await self._guard(move)
        except NotFound:
            raise MinesGameOver(f"mines game {bet_id} is over") from None

    async def mines_state(self, bet_id: uuid.UUID) -> MinesView:
        handle = self.client.get_workflow_handle(mines_workflow_id(bet_id))
        return await self._guard(lambda: handle.query(MinesGameWorkflow.state))

    async def _session_update(
        self,
        user_id: uuid.UUID,
        currency: Currency,
        update: UpdateMethodMultiParam[Any, ResultT],
        argument: Any,
        update_id: str,
    ) -> ResultT:
        arguments = [] if argument is None else [argument]

        async def send() -> ResultT:
            # A start operation is single-use: each attempt builds its own.
            return await self.client.execute_update_with_start_workflow(
                update,
                args=arguments,
                id=update_id,
                start_workflow_operation=self._start_operation(user_id, currency),
            )

        for attempt in range(1, MAX_START_ATTEMPTS + 1):
            try:
                return await self._guard(send)
            except _SessionClosing:
                if attempt == MAX_START_ATTEMPTS:
                    raise ServiceUnavailable(
                        "the session was restarting; retry with the same Idempotency-Key"
                    ) from None
        raise AssertionError("unreachable")

    def _start_operation(
        self, user_id: uuid.UUID, currency: Currency
    ) -> WithStartWorkflowOperation[PlayerSessionWorkflow, SessionSummary]:
        attributes = None
        if self.search_attributes:
            attributes = TypedSearchAttributes(
                [
                    SearchAttributePair(keys.PLAYER_ID, str(user_id)),
                    SearchAttributePair(keys.CURRENCY, currency.value),
                    SearchAttributePair(keys.FLOW, "session"),
                    SearchAttributePair(keys.STATUS, "active"),
                ]
            )
        return WithStartWorkflowOperation(
            PlayerSessionWorkflow.run,
            SessionInput(
                user_id=str(user_id),
                currency=currency.value,
                config=SessionConfig.from_settings(self.settings, currency),
            ),
            id=session_workflow_id(str(user_id), currency.value),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=attributes,
            static_summary=f"betting session of player {user_id} in {currency.value}",
        )

    async def _guard(self, call: Callable[[], Awaitable[ResultT]]) -> ResultT:
        """Run ``call`` within the update timeout, turning failures into typed errors."""
        try:
            return await asyncio.wait_for(call(), timeout=self.update_timeout_s)
        except WorkflowUpdateFailedError as error:
            raise _typed(error) from None
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise ServiceUnavailable(
                f"no answer within {self.update_timeout_s:.0f} s; retry with the same "
                "Idempotency-Key to get the result"
            ) from None
        except RPCError as error:
            if error.status == RPCStatusCode.RESOURCE_EXHAUSTED:
                raise RateLimited(
                    "too many requests in flight for this session", retry_after_s=1
                ) from None
            if error.status == RPCStatusCode.NOT_FOUND:
                raise NotFound("no such game or session") from None
            if _is_closing(error):
                raise _SessionClosing from None
            raise ServiceUnavailable(f"Temporal refused the call: {error.message}") from None


def mines_workflow_id(bet_id: uuid.UUID) -> str:
    return f"mines-{bet_id}"


class _SessionClosing(Exception):
    """The update met a run that was completing; start it again."""


def _is_closing(error: RPCError) -> bool:
    message = error.message.lower()
    return any(word in message for word in ("aborted", "completed", "closed"))


def _typed(error: WorkflowUpdateFailedError) -> CroupierError:
    typed = typed_error(error)
    if typed is None:
        return ServiceUnavailable(f"the workflow failed the request: {error.cause}")
    return typed
