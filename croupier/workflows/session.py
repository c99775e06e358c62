"""The player session: one entity workflow per player and currency, id
``session-<player id>-<currency>``.

Bets arrive as Updates (the API uses update-with-start, so the first bet starts the
session). Validators refuse a bad bet (unknown or disabled game, bad parameters, a
stake of zero or above the maximum) before it enters history. Handlers run one at a
time under a lock: each takes the next nonce of the session's seed pair and settles
the bet in a local activity (one database transaction: stake, outcome, payout, bet
row). The nonce advances only when the settlement used it, so a refused bet (say,
insufficient funds) leaves it for the next bet; nothing about its outcome was shown.

The update id is the bet id, so Temporal dedupes a repeated request within a run, and
the settlement dedupes it across runs (it returns the stored bet, and the nonce stays).

Seed rotation and the dev faucet go through here too, so a rotation is ordered with
bets: no bet can straddle two seed pairs. Mines games run as child workflows
(``mines-<bet id>``); while one is in play, rotation is refused (it would reveal the
board).

History stays short: after ``continue_as_new_bets`` bets (or when Temporal suggests),
the session waits for every handler to finish and continues as new with its state
(seed pair, next nonce, games in play). After ``idle_timeout_s`` without a bet and
with no game in play it ends; the next request starts it again from the database.

It runs outside the workflow sandbox (``sandboxed=False``): every bet passes through
it, and the sandbox re-enters its restricted interpreter for each payload the SDK
encodes or decodes, which cost about a quarter of the worker's CPU per bet. What the
sandbox would catch, the code avoids by rule (time from ``workflow.now()``, no I/O or
randomness outside activities, no module state) and the replay tests check.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.betting import (
        BetInput,
        BetResult,
        BettingActivities,
        CreditInput,
        CreditResult,
        OpenSession,
        RotateInput,
        RotationResult,
        SeedView,
    )
    from croupier.activities.bonus import (
        BonusActivities,
        PlayerCurrency,
        SessionBonus,
        WageringProgress,
    )
    from croupier.betting.errors import BetAboveMaximum, OpenGamesBlockRotation, TooManyOpenGames
    from croupier.betting.limits import check_stake
    from croupier.betting.settlement import validate_bet
    from croupier.bonus.rules import check_max_bet
    from croupier.core.errors import InvalidInput
    from croupier.core.money import Currency, parse_minor_units
    from croupier.core.settings import Settings
    from croupier.games.errors import InvalidBet
    from croupier.games.mines import Mines
    from croupier.games.seeds import check_client_seed
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.mines import MinesGameWorkflow, MinesInput, MinesView
    from croupier.workflows.refusals import refusals, unwrap_activity_error
    from croupier.workflows.wagering import report_wagering

SETTLEMENT_TIMEOUT = timedelta(seconds=30)
SETTLEMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)
# Games in play per session: each is a workflow and a stake in the house.
MAX_OPEN_MINES_GAMES = 10
# The faucet hands out at most this many max bets at a time.
FAUCET_MAX_BETS = 1000
# Sessions started since bonuses exist read the player's active bonus when they start.
BONUS_PATCH = "session-reads-active-bonus"

ResultT = TypeVar("ResultT")
RequestT = TypeVar("RequestT")


def session_workflow_id(user_id: str, currency: str) -> str:
    return f"session-{user_id}-{Currency.parse(currency).value}"


@dataclass(frozen=True)
class SessionConfig:
    """The betting rules of one session, fixed for a run and carried to the next.

    The starter (the API) takes them from its settings, which it also checks every
    request against; a session picks up changed settings when it next starts.
    """

    max_bet: str  # minor units; "0" means the currency takes no bets
    games_enabled: tuple[str, ...]
    continue_as_new_bets: int
    idle_timeout_s: int
    mines_timeout_s: int

    @classmethod
    def from_settings(cls, settings: Settings, currency: Currency) -> SessionConfig:
        return cls(
            max_bet=str(settings.max_bet_minor_units(currency)),
            games_enabled=tuple(settings.games_enabled),
            continue_as_new_bets=settings.session_continue_as_new_bets,
            idle_timeout_s=settings.session_idle_timeout_s,
            mines_timeout_s=settings.mines_inactivity_timeout_s,
        )


@dataclass(frozen=True)
class SessionInput:
    user_id: str
    currency: str
    config: SessionConfig
    # Carried over by continue-as-new; None on a fresh start (read from the database).
    seeds: SeedView | None = None
    open_mines: tuple[str, ...] = ()
    bets_settled: int = 0
    bonus: SessionBonus | None = None


@dataclass(frozen=True)
class SessionSummary:
    user_id: str
    currency: str
    bets_settled: int
    seeds: SeedView | None


@dataclass(frozen=True)
class PlaceBet:
    bet_id: str  # also the update id
    game: str
    amount: str
    params: dict[str, Any]


@dataclass(frozen=True)
class OpenMines:
    bet_id: str  # also the update id
    amount: str
    mines: int


@dataclass(frozen=True)
class RotateSeeds:
    rotation_id: str  # also the update id
    client_seed: str | None = None  # None: keep the current client seed


@dataclass(frozen=True)
class DevCredit:
    credit_id: str  # also the update id
    amount: str


@dataclass(frozen=True)
class Fairness:
    """The active pair (``seeds.nonce`` is the next bet's) and the games in play."""

    seeds: SeedView
    open_mines: tuple[str, ...]


@workflow.defn(name="PlayerSession", sandboxed=False)
class PlayerSessionWorkflow:
    @workflow.init
    def __init__(self, request: SessionInput) -> None:
        self._user_id = request.user_id
        self._currency = Currency.parse(request.currency)
        self._config = request.config
        self._seeds = request.seeds
        self._open_mines = set(request.open_mines)
        self._bets_settled = request.bets_settled
        self._bets_this_run = 0
        self._last_game: str | None = None
        self._last_active = workflow.now()
        self._lock = asyncio.Lock()
        self._bonus = request.bonus
        # A bonus signal is newer than what the session read from the database at start.
        self._bonus_signalled = False

    @workflow.run
    async def run(self, request: SessionInput) -> SessionSummary:
        workflow.upsert_search_attributes(
            [
                keys.PLAYER_ID.value_set(self._user_id),
                keys.CURRENCY.value_set(self._currency.value),
                keys.FLOW.value_set("session"),
                keys.STATUS.value_set("active"),
            ]
        )
        if self._seeds is None:
            self._seeds = await self._open()
        self._describe()
        idle = timedelta(seconds=self._config.idle_timeout_s)
        while not self._wants_new_run():
            quiet_for = workflow.now() - self._last_active
            if quiet_for >= idle and self._is_idle():
                workflow.upsert_search_attributes([keys.STATUS.value_set("idle")])
                return self._summary()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    self._wants_new_run, timeout=max(idle - quiet_for, idle / 10)
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            SessionInput(
                user_id=self._user_id,
                currency=self._currency.value,
                config=self._config,
                seeds=self._seeds,
                open_mines=tuple(sorted(self._open_mines)),
                bets_settled=self._bets_settled,
                bonus=self._bonus,
            )
        )

    async def _open(self) -> SeedView:
        """The seed pair, and (in parallel) the player's active bonus: bets wait for
        both, so none is placed before the session knows the bonus rules."""
        opening = self._local(
            BettingActivities.open_session, OpenSession(self._user_id, self._currency.value)
        )
        if not workflow.patched(BONUS_PATCH):
            return await opening
        seeds, bonus = await asyncio.gather(
            opening,
            workflow.execute_local_activity_method(
                BonusActivities.session_bonus,
                PlayerCurrency(self._user_id, self._currency.value),
                start_to_close_timeout=SETTLEMENT_TIMEOUT,
                retry_policy=SETTLEMENT_RETRY,
            ),
        )
        if not self._bonus_signalled:
            self._bonus = bonus
        return seeds

    @workflow.query
    def fairness(self) -> Fairness:
        assert self._seeds is not None, "the session opens its seed pair before anything"
        return Fairness(seeds=self._seeds, open_mines=tuple(sorted(self._open_mines)))

    @workflow.update
    async def current_fairness(self) -> Fairness:
        """The query's answer once the session has its seeds (a first call starts it)."""
        await self._ready_seeds()
        return self.fairness()

    @workflow.update
    async def place_bet(self, request: PlaceBet) -> BetResult:
        async with self._lock:
            seeds = await self._ready_seeds()
            bet = BetInput(
                bet_id=request.bet_id,
                user_id=self._user_id,
                game=request.game,
                currency=self._currency.value,
                amount=request.amount,
                params=request.params,
                seed=seeds,
                created_at=workflow.now(),
                bonus_id=None if self._bonus is None else self._bonus.bonus_id,
            )
            result = await self._local(BettingActivities.settle, bet)
            self._bet_done(result)
        if result.wagering is not None:
            await self._report_wagering(result.wagering)
        return result

    @place_bet.validator
    def _validate_bet(self, request: PlaceBet) -> None:
        with refusals():
            self._check_update_id(request.bet_id)
            if request.game == Mines.name:
                raise InvalidBet("mines is played move by move: open a game with POST /mines")
            validate_bet(request.game, request.params, complete=True)
            self._check_game_and_stake(request.game, request.amount)
            self._check_bonus_max_bet(request.amount)

    @workflow.update
    async def open_mines(self, request: OpenMines) -> MinesView:
        async with self._lock:
            seeds = await self._ready_seeds()
            bet = BetInput(
                bet_id=request.bet_id,
                user_id=self._user_id,
                game=Mines.name,
                currency=self._currency.value,
                amount=request.amount,
                params={"mines": request.mines},
                seed=seeds,
                created_at=workflow.now(),
                bonus_id=None if self._bonus is None else self._bonus.bonus_id,
            )
            opened = await self._local(BettingActivities.open_game, bet)
            self._bet_done(opened)
            if opened.status == "open":
                await self._start_mines(opened, bet.bonus_id)
            return MinesView.of_bet(opened)

    @open_mines.validator
    def _validate_open_mines(self, request: OpenMines) -> None:
        with refusals():
            self._check_update_id(request.bet_id)
            validate_bet(Mines.name, {"mines": request.mines}, complete=False)
            self._check_game_and_stake(Mines.name, request.amount)
            self._check_bonus_max_bet(request.amount)
            if len(self._open_mines) >= MAX_OPEN_MINES_GAMES:
                raise TooManyOpenGames(
                    f"at most {MAX_OPEN_MINES_GAMES} mines games may be in play at once"
                )

    @workflow.signal(name="mines_finished")
    def mines_finished(self, bet_id: str) -> None:
        self._open_mines.discard(bet_id)
        self._last_active = workflow.now()
        self._describe()

    @workflow.signal
    def bonus_started(self, bonus: SessionBonus) -> None:
        self._bonus = bonus
        self._bonus_signalled = True

    @workflow.signal
    def bonus_ended(self, bonus_id: str) -> None:
        if self._bonus is not None and self._bonus.bonus_id == bonus_id:
            self._bonus = None
        self._bonus_signalled = True

    @workflow.update
    async def rotate_seeds(self, request: RotateSeeds) -> RotationResult:
        async with self._lock:
            with refusals():
                self._check_rotation(request)  # a game may have opened since validation
            seeds = await self._ready_seeds()
            rotation = await self._local(
                BettingActivities.rotate_seeds,
                RotateInput(
                    rotation_id=request.rotation_id,
                    user_id=self._user_id,
                    currency=self._currency.value,
                    seed_pair_id=seeds.seed_pair_id,
                    client_seed=request.client_seed,
                ),
            )
            if rotation.revealed.seed_pair_id == seeds.seed_pair_id:
                self._seeds = rotation.active
            self._last_active = workflow.now()
            self._describe()
            return rotation

    @rotate_seeds.validator
    def _validate_rotation(self, request: RotateSeeds) -> None:
        with refusals():
            self._check_update_id(request.rotation_id)
            self._check_rotation(request)

    @workflow.update
    async def dev_credit(self, request: DevCredit) -> CreditResult:
        async with self._lock:
            credit = CreditInput(
                credit_id=request.credit_id,
                user_id=self._user_id,
                currency=self._currency.value,
                amount=request.amount,
            )
            return await self._local(BettingActivities.dev_credit, credit)

    @dev_credit.validator
    def _validate_dev_credit(self, request: DevCredit) -> None:
        with refusals():
            self._check_update_id(request.credit_id)
            amount = parse_minor_units(request.amount)
            cap = int(self._config.max_bet) * FAUCET_MAX_BETS
            if amount > cap:
                raise BetAboveMaximum(f"the faucet credits at most {cap} minor units at a time")

    def _check_update_id(self, business_id: str) -> None:
        """The update id must be the business id: Temporal dedupes by it."""
        update = workflow.current_update_info()
        if update is None or update.id != business_id:
            raise InvalidInput("the update id must equal the request's id")

    def _check_game_and_stake(self, game: str, amount: str) -> None:
        check_stake(
            game,
            amount,
            self._currency,
            max_bet=int(self._config.max_bet),
            games_enabled=self._config.games_enabled,
        )

    def _check_bonus_max_bet(self, amount: str) -> None:
        """While a bonus is wagered its max bet applies (the settlement checks it again)."""
        if self._bonus is not None:
            check_max_bet(parse_minor_units(amount), int(self._bonus.max_bet))

    async def _report_wagering(self, progress: WageringProgress) -> None:
        """Tell the bonus's workflow where wagering stands (the database holds the
        truth; a bonus workflow that ended meanwhile needs nothing)."""
        bonus = self._bonus
        if bonus is None or bonus.bonus_id != progress.bonus_id:
            return
        await report_wagering(progress)

    def _check_rotation(self, request: RotateSeeds) -> None:
        if request.client_seed is not None:
            check_client_seed(request.client_seed)
        if self._open_mines:
            raise OpenGamesBlockRotation(
                "finish (or cash out) the mines games in play before rotating seeds"
            )

    async def _ready_seeds(self) -> SeedView:
        """The pair and nonce for the next bet (a first update may beat ``run`` to it)."""
        await workflow.wait_condition(lambda: self._seeds is not None)
        assert self._seeds is not None
        return self._seeds

    def _bet_done(self, bet: BetResult) -> None:
        """Move past the nonce the bet used. The settlement picks the nonce (the first
        unused one of the pair, normally the one offered); a bet settled before, in an
        earlier run or a workflow task that was lost, comes back with its own."""
        seeds = self._seeds
        assert seeds is not None
        if bet.seed.seed_pair_id == seeds.seed_pair_id and bet.seed.nonce >= seeds.nonce:
            self._seeds = bet.seed.advanced()
            self._bets_settled += 1
            self._bets_this_run += 1
        if bet.game != self._last_game:
            self._last_game = bet.game
            workflow.upsert_search_attributes([keys.GAME.value_set(bet.game)])
        self._last_active = workflow.now()
        self._describe()

    async def _start_mines(self, opened: BetResult, bonus_id: str | None) -> None:
        # Already started: the same game, opened by this request in an earlier run.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                MinesGameWorkflow.run,
                MinesInput(
                    bet=opened,
                    session_workflow_id=workflow.info().workflow_id,
                    inactivity_timeout_s=self._config.mines_timeout_s,
                    bonus_id=bonus_id,
                ),
                id=f"mines-{opened.bet_id}",
                # The game outlives a continue-as-new of its session.
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=(
                    f"mines: {opened.params['mines']} mines, stake {opened.amount} "
                    f"{opened.currency} (player {opened.user_id})"
                ),
            )
        self._open_mines.add(opened.bet_id)

    def _wants_new_run(self) -> bool:
        return (
            self._bets_this_run >= self._config.continue_as_new_bets
            or workflow.info().is_continue_as_new_suggested()
        )

    def _is_idle(self) -> bool:
        return not self._open_mines and workflow.all_handlers_finished()

    def _summary(self) -> SessionSummary:
        return SessionSummary(
            user_id=self._user_id,
            currency=self._currency.value,
            bets_settled=self._bets_settled,
            seeds=self._seeds,
        )

    def _describe(self) -> None:
        seeds = self._seeds
        pair = "opening" if seeds is None else f"pair {seeds.seed_pair_id} nonce {seeds.nonce}"
        workflow.set_current_details(
            f"{self._bets_settled} bets settled; {pair}; "
            f"{len(self._open_mines)} mines games in play"
        )

    async def _local(
        self, activity: Callable[[BettingActivities, RequestT], ResultT], request: RequestT
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
