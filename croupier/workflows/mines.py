"""One mines game: a child of the player's session workflow, id ``mines-<bet id>``.

The session stakes the bet and writes its open row before starting this workflow, so
a game in play always has its stake in the house. Here the player reveals tiles and
cashes out (Updates, serialized by a lock); each reveal asks a local activity whether
the tile is safe (only the settlement code holds the server seed: neither this
workflow's state nor its history ever knows where the mines are until the game ends).

The game ends by:
- a cash-out: paid at the multiplier of the safe reveals so far;
- a mine: lost, settled inside the reveal;
- every safe tile revealed: cashed out at once;
- no move for the inactivity timeout (a durable timer): cashed out if at least one
  tile was revealed, else lost (the player staked and walked away; the house does not
  refund an abandoned game, as the stake bought the board).

Settlement is ``betting.settle``, the same code that settles a dice bet. A game opened
while its session knew of an active bonus (``bonus_id``) settles through the bonus's
rules: the payout returns pro rata to how the stake was split at open, and the game
counts toward wagering once, when it ends; then it tells the bonus's workflow, as a
session does after a bet. At the end the game signals its session, which then allows
seed rotation again.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.betting import BetInput, BetResult, BettingActivities
    from croupier.activities.bonus import WageringProgress
    from croupier.betting.errors import MinesGameOver, NothingToCashOut
    from croupier.games.errors import InvalidBet
    from croupier.games.mines import TILES
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.refusals import refusals, unwrap_activity_error
    from croupier.workflows.wagering import report_wagering

# Local activities: one database transaction each; retried until the database answers,
# because a move is never abandoned half-known.
SETTLEMENT_TIMEOUT = timedelta(seconds=30)
SETTLEMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)
SESSION_FINISHED_SIGNAL = "mines_finished"
# Games since bonuses fund mines report their wagering to the bonus's workflow.
WAGERING_PATCH = "mines-reports-wagering"

ResultT = TypeVar("ResultT")


class MinesStatus(StrEnum):
    PLAYING = "playing"
    WON = "won"
    LOST = "lost"


class EndedBy(StrEnum):
    CASH_OUT = "cash_out"
    MINE = "mine"
    CLEARED = "cleared"  # every safe tile revealed
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class MinesInput:
    bet: BetResult  # the open bet: stake posted, params {"mines": n}
    session_workflow_id: str
    inactivity_timeout_s: int
    # The active bonus the session knew when it opened the game: it may fund the stake.
    bonus_id: str | None = None


@dataclass(frozen=True)
class RevealTile:
    tile: int  # 0..24, row by row


@dataclass(frozen=True)
class MinesView:
    """A game as the player sees it. ``multiplier`` is what cashing out pays now (an
    exact fraction); ``bet`` carries the outcome (where the mines were) once it ended."""

    bet_id: str
    status: str
    mines: int
    picks: tuple[int, ...]
    multiplier: str
    bet: BetResult
    ended_by: str | None = None

    @classmethod
    def of_bet(cls, bet: BetResult) -> MinesView:
        """The view of a bet from its row alone (a game already over, or just opened)."""
        picks = tuple(int(tile) for tile in bet.params.get("picks", ()))
        if bet.status == "open":
            status = MinesStatus.PLAYING
        else:
            status = MinesStatus.WON if int(bet.payout or "0") > 0 else MinesStatus.LOST
        return cls(
            bet_id=bet.bet_id,
            status=status.value,
            mines=int(bet.params["mines"]),
            picks=picks,
            multiplier=bet.multiplier or "0",
            bet=bet,
        )


@workflow.defn(name="MinesGame")
class MinesGameWorkflow:
    @workflow.init
    def __init__(self, request: MinesInput) -> None:
        self._request = request
        self._bet = request.bet
        self._mines = int(request.bet.params["mines"])
        self._picks: list[int] = []
        self._multiplier = "0"
        self._status = MinesStatus.PLAYING
        self._ended_by: EndedBy | None = None
        self._moves = 0
        self._lock = asyncio.Lock()
        self._wagering: WageringProgress | None = None

    @workflow.run
    async def run(self, request: MinesInput) -> MinesView:
        workflow.upsert_search_attributes(
            [
                keys.PLAYER_ID.value_set(request.bet.user_id),
                keys.GAME.value_set("mines"),
                keys.CURRENCY.value_set(request.bet.currency),
                keys.FLOW.value_set("mines"),
                keys.STATUS.value_set(MinesStatus.PLAYING.value),
            ]
        )
        self._describe()
        timeout = timedelta(seconds=request.inactivity_timeout_s)
        while self._status is MinesStatus.PLAYING:
            moves = self._moves
            try:
                await workflow.wait_condition(
                    functools.partial(self._moved_since, moves), timeout=timeout
                )
            except TimeoutError:
                async with self._lock:
                    if self._status is MinesStatus.PLAYING and self._moves == moves:
                        await self._settle(EndedBy.TIMEOUT)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._wagering is not None and workflow.patched(WAGERING_PATCH):
            await report_wagering(self._wagering)
        await workflow.get_external_workflow_handle(request.session_workflow_id).signal(
            SESSION_FINISHED_SIGNAL, self._bet.bet_id
        )
        return self.state()

    def _moved_since(self, moves: int) -> bool:
        return self._moves != moves or self._status is not MinesStatus.PLAYING

    @workflow.query
    def state(self) -> MinesView:
        return MinesView(
            bet_id=self._bet.bet_id,
            status=self._status.value,
            mines=self._mines,
            picks=tuple(self._picks),
            multiplier=self._multiplier,
            bet=self._bet,
            ended_by=None if self._ended_by is None else self._ended_by.value,
        )

    @workflow.update
    async def reveal(self, request: RevealTile) -> MinesView:
        async with self._lock:
            with refusals():
                self._check_reveal(request)  # again: an earlier move may have ended the game
            self._moves += 1
            picks = [*self._picks, request.tile]
            result = await self._local(BettingActivities.reveal, self._bet_input(picks))
            self._picks = picks
            if not result.safe:
                assert result.bet is not None, "a mine settles the bet in the same call"
                self._end(result.bet, EndedBy.MINE)
            elif len(picks) == TILES - self._mines:
                await self._settle(EndedBy.CLEARED)
            else:
                self._multiplier = result.multiplier
                self._describe()
            return self.state()

    @reveal.validator
    def _validate_reveal(self, request: RevealTile) -> None:
        with refusals():
            self._check_reveal(request)

    @workflow.update
    async def cash_out(self) -> MinesView:
        async with self._lock:
            with refusals():
                self._check_cash_out()
            self._moves += 1
            await self._settle(EndedBy.CASH_OUT)
            return self.state()

    @cash_out.validator
    def _validate_cash_out(self) -> None:
        with refusals():
            self._check_cash_out()

    def _check_reveal(self, request: RevealTile) -> None:
        if self._status is not MinesStatus.PLAYING:
            raise MinesGameOver(f"mines game {self._bet.bet_id} is over ({self._status})")
        tile = request.tile
        if isinstance(tile, bool) or not isinstance(tile, int) or not 0 <= tile < TILES:
            raise InvalidBet(f"mines: a tile is a whole number from 0 to {TILES - 1}")
        if tile in self._picks:
            raise InvalidBet(f"mines: tile {tile} is already revealed")

    def _check_cash_out(self) -> None:
        if self._status is not MinesStatus.PLAYING:
            raise MinesGameOver(f"mines game {self._bet.bet_id} is over ({self._status})")
        if not self._picks:
            raise NothingToCashOut("reveal at least one tile before cashing out")

    async def _settle(self, ended_by: EndedBy) -> None:
        settled = await self._local(BettingActivities.settle, self._bet_input(self._picks))
        self._end(settled, ended_by)

    def _end(self, settled: BetResult, ended_by: EndedBy) -> None:
        assert settled.status == "settled" and settled.payout is not None
        self._bet = settled
        self._wagering = settled.wagering
        self._multiplier = settled.multiplier or "0"
        self._ended_by = ended_by
        self._status = MinesStatus.WON if int(settled.payout) > 0 else MinesStatus.LOST
        workflow.upsert_search_attributes([keys.STATUS.value_set(self._status.value)])
        self._describe()

    def _bet_input(self, picks: list[int]) -> BetInput:
        bet = self._bet
        params = {"mines": self._mines, **({"picks": list(picks)} if picks else {})}
        return BetInput(
            bet_id=bet.bet_id,
            user_id=bet.user_id,
            game=bet.game,
            currency=bet.currency,
            amount=bet.amount,
            params=params,
            seed=bet.seed,
            created_at=bet.created_at,
            bonus_id=self._request.bonus_id,
        )

    async def _local(
        self, activity: Callable[[BettingActivities, BetInput], ResultT], request: BetInput
    ) -> ResultT:
        try:
            return await workflow.execute_local_activity_method(
                activity,
                request,
                start_to_close_timeout=SETTLEMENT_TIMEOUT,
                retry_policy=SETTLEMENT_RETRY,
            )
        except ActivityError as error:
            raise unwrap_activity_error(error) from None

    def _describe(self) -> None:
        workflow.set_current_details(
            f"{self._status.value}: {len(self._picks)} safe of {TILES - self._mines}, "
            f"{self._mines} mines, cash-out multiplier {self._multiplier}"
        )
