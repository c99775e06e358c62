"""The crash round: one shared round at a time, workflow id ``crash-round``.

Each run is one round, continued as new into the next, so the id stays the same and
the API always reaches the current round through it:

1. open: the round is read from the stored hash chain and bound to its crash point
   (an activity; the crash point is fixed before any bet exists);
2. betting window (a durable timer): bets arrive as Updates; each validator refuses
   a bad bet before it enters history, each handler takes the stake in the ledger
   (an activity) before the bet counts, so every accepted bet is paid for;
3. running: when the window has closed and every stake in flight has settled, the
   multiplier starts at 1.00x and rises as ``croupier.crash.curve`` says. Cash-outs
   are Updates decided by ``workflow.now()``: accepted while the multiplier at that
   instant is below the round's end (the crash point, or the cap), refused after;
4. crash (a durable timer at ``start + time to reach the end``): one activity pays and
   records every bet in one transaction, idempotently by the round; bets wagered
   under a bonus count toward it there, and the round then tells each such bonus's
   workflow where its wagering stands (as a session does after a bet);
5. continue as new with the next round, unless ops asked the rounds to stop.

A crashed worker replays this history and carries on; a restarted Temporal server
resumes the timers; a repeated HTTP request carries the same bet id, which is the
update id (Temporal dedupes it in a run) and the stake's and bet row's key (the ledger
dedupes it across runs).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.crash import (
        CrashActivities,
        OpenedRound,
        OpenRoundInput,
        RoundRef,
        RoundSettled,
        SettleRoundInput,
        SettlingBet,
        StakeInput,
        StakeTaken,
    )
    from croupier.betting.limits import check_stake
    from croupier.core.errors import InvalidInput
    from croupier.core.ids import parse_uuid
    from croupier.core.money import Currency, parse_minor_units
    from croupier.crash.bets import MAX_BETS_PER_ROUND
    from croupier.crash.curve import FORMULA, Curve
    from croupier.crash.errors import (
        AlreadyBetThisRound,
        AlreadyCashedOut,
        BetNotInRound,
        BettingClosed,
        CashOutTooEarly,
        CashOutTooLate,
        NotRunning,
        RoundFull,
    )
    from croupier.games.crash import Crash
    from croupier.games.game import payout
    from croupier.games.params import format_hundredths
    from croupier.games.targets import MIN_TARGET_H
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.refusals import refusals, unwrap_activity_error
    from croupier.workflows.wagering import report_wagering

CRASH_ROUND_WORKFLOW_ID = "crash-round"
FLOW = "crash-round"

OPEN_TIMEOUT = timedelta(seconds=30)
# Opening retries until a chain exists (ChainExhausted is retryable): the game resumes by
# itself once ops publish a new chain.
OPEN_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
STAKE_TIMEOUT = timedelta(seconds=10)
# A stake is retried until the ledger answers yes or no: giving up could leave a stake
# taken for a bet the round never heard of. The round waits for it before it starts.
STAKE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5)
)
SETTLE_TIMEOUT = timedelta(seconds=60)
SETTLE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# Rounds since bonuses fund crash bets report wagering to the bonuses' workflows.
WAGERING_PATCH = "crash-reports-wagering"


class Phase(StrEnum):
    OPENING = "opening"  # reading the round from the chain
    BETTING = "betting"  # the betting window is open
    STARTING = "starting"  # window closed; stakes in flight finish
    RUNNING = "running"  # the multiplier rises; cash-outs accepted
    CRASHED = "crashed"  # settling every bet
    SETTLED = "settled"  # paid and recorded; the next round follows


@dataclass(frozen=True)
class PlayedRound:
    """A finished round, shown next to the current one so players can verify it."""

    round_id: str
    crash_point: str  # "2.31"
    game_hash: str
    ended_at: datetime


@dataclass(frozen=True)
class CrashRoundInput:
    # The round to play; None on a fresh start: where the database says play stopped.
    round: RoundRef | None = None
    previous: PlayedRound | None = None


@dataclass(frozen=True)
class CrashRoundResult:
    """What a run returns when ops stop the rounds (otherwise it continues as new)."""

    last_round: PlayedRound
    bet_count: int
    stopped_by: str
    reason: str


@dataclass(frozen=True)
class PlaceCrashBet:
    bet_id: str  # also the update id
    user_id: str
    currency: str
    amount: str


@dataclass(frozen=True)
class PlacedCrashBet:
    bet_id: str
    round_id: str
    currency: str
    amount: str
    placed_at: datetime


@dataclass(frozen=True)
class CashOutRequest:
    bet_id: str
    user_id: str


@dataclass(frozen=True)
class CashedOut:
    bet_id: str
    round_id: str
    currency: str
    amount: str
    multiplier: str  # "2.50"
    payout: str  # minor units; credited when the round settles


@dataclass(frozen=True)
class StopRounds:
    staff_id: str
    reason: str


@dataclass(frozen=True)
class RoundView:
    """The round as anyone may see it: the crash point only once it has crashed.

    ``crash_point`` is the hash's result, as a verifier recomputes it; the multiplier
    stopped at ``min(crash_point, max_multiplier)`` (bets still open at the cap were
    paid at it)."""

    round_id: str
    chain_id: int
    round_number: int
    phase: str
    betting_closes_at: datetime | None
    started_at: datetime | None
    crashed_at: datetime | None
    crash_point: str | None
    max_multiplier: str
    growth_per_ms: str
    formula: str
    terminating_hash: str
    salt: str
    bet_count: int
    stopping: bool
    previous: PlayedRound | None


@workflow.defn(name="CrashRound")
class CrashRoundWorkflow:
    @workflow.init
    def __init__(self, request: CrashRoundInput) -> None:
        self._previous = request.previous
        self._phase = Phase.OPENING
        self._round: OpenedRound | None = None
        self._curve: Curve | None = None
        self._betting_closes_at: datetime | None = None
        self._started_at: datetime | None = None
        self._ends_at: datetime | None = None
        self._staking: dict[str, str] = {}  # bet id -> user id, stake in flight
        self._bets: dict[str, SettlingBet] = {}
        self._cash_outs: dict[str, int] = {}  # bet id -> multiplier in hundredths
        self._stop: StopRounds | None = None

    @workflow.run
    async def run(self, request: CrashRoundInput) -> CrashRoundResult:
        workflow.upsert_search_attributes(
            [
                keys.GAME.value_set(Crash.name),
                keys.FLOW.value_set(FLOW),
                keys.STATUS.value_set(Phase.OPENING.value),
            ]
        )
        self._describe()
        round_ = await workflow.execute_activity_method(
            CrashActivities.open_round,
            OpenRoundInput(request.round),
            start_to_close_timeout=OPEN_TIMEOUT,
            retry_policy=OPEN_RETRY,
        )
        self._round = round_
        self._curve = Curve(Decimal(round_.rules.growth_per_ms))
        window = timedelta(seconds=round_.rules.betting_window_s)
        self._betting_closes_at = workflow.now() + window
        self._enter(Phase.BETTING)
        await workflow.sleep(window)

        self._enter(Phase.STARTING)
        await workflow.wait_condition(lambda: not self._staking)
        self._started_at = workflow.now()
        self._ends_at = self._started_at + timedelta(
            milliseconds=self._curve.elapsed_ms_to_reach(round_.end_h)
        )
        self._enter(Phase.RUNNING)
        if self._ends_at > workflow.now():
            await workflow.sleep(self._ends_at - workflow.now())

        self._enter(Phase.CRASHED)
        settled = await workflow.execute_activity_method(
            CrashActivities.settle_round,
            SettleRoundInput(
                round=round_.round,
                started_at=self._started_at,
                ended_at=self._ends_at,
                bets=tuple(self._settling_bets()),
            ),
            start_to_close_timeout=SETTLE_TIMEOUT,
            retry_policy=SETTLE_RETRY,
        )
        self._enter(Phase.SETTLED)
        if settled.wagering and workflow.patched(WAGERING_PATCH):
            await asyncio.gather(*(report_wagering(progress) for progress in settled.wagering))
        await workflow.wait_condition(workflow.all_handlers_finished)
        played = self._played(settled)
        if self._stop is not None:
            return CrashRoundResult(played, len(self._bets), self._stop.staff_id, self._stop.reason)
        workflow.continue_as_new(
            CrashRoundInput(
                round=RoundRef(round_.round.chain_id, round_.round.round_number + 1),
                previous=played,
            )
        )

    @workflow.update
    async def place_bet(self, request: PlaceCrashBet) -> PlacedCrashBet:
        round_ = self._opened()
        stake = StakeInput(
            bet_id=request.bet_id,
            user_id=request.user_id,
            currency=Currency.parse(request.currency).value,
            amount=request.amount,
            round=round_.round,
            placed_at=workflow.now(),
        )
        self._staking[request.bet_id] = request.user_id
        try:
            taken: StakeTaken = await workflow.execute_activity_method(
                CrashActivities.take_stake,
                stake,
                start_to_close_timeout=STAKE_TIMEOUT,
                retry_policy=STAKE_RETRY,
            )
        except ActivityError as error:
            raise unwrap_activity_error(error) from None
        finally:
            del self._staking[request.bet_id]
        self._bets[request.bet_id] = SettlingBet(stake=stake, taken=taken, cashed_out_h=None)
        self._describe()
        return PlacedCrashBet(
            bet_id=stake.bet_id,
            round_id=round_.round_id,
            currency=stake.currency,
            amount=stake.amount,
            placed_at=stake.placed_at,
        )

    @place_bet.validator
    def _validate_bet(self, request: PlaceCrashBet) -> None:
        with refusals():
            self._check_bet(request)

    @workflow.update
    def cash_out(self, request: CashOutRequest) -> CashedOut:
        with refusals():
            multiplier_h = self._cash_out_multiplier(request)
        self._cash_outs[request.bet_id] = multiplier_h
        stake = self._bets[request.bet_id].stake
        return CashedOut(
            bet_id=stake.bet_id,
            round_id=self._opened().round_id,
            currency=stake.currency,
            amount=stake.amount,
            multiplier=format_hundredths(multiplier_h),
            payout=str(payout(parse_minor_units(stake.amount), Fraction(multiplier_h, 100))),
        )

    @cash_out.validator
    def _validate_cash_out(self, request: CashOutRequest) -> None:
        with refusals():
            self._cash_out_multiplier(request)

    @workflow.signal
    def stop(self, request: StopRounds) -> None:
        """Ops: finish and settle the current round, then start no other."""
        if self._stop is None:
            self._stop = request
            self._describe()

    @workflow.query
    def current(self) -> RoundView:
        round_ = self._opened()
        crashed = self._phase in (Phase.CRASHED, Phase.SETTLED)
        return RoundView(
            round_id=round_.round_id,
            chain_id=round_.round.chain_id,
            round_number=round_.round.round_number,
            phase=self._phase.value,
            betting_closes_at=self._betting_closes_at,
            started_at=self._started_at,
            crashed_at=self._ends_at if crashed else None,
            crash_point=format_hundredths(round_.crash_point_h) if crashed else None,
            max_multiplier=format_hundredths(round_.max_multiplier_h),
            growth_per_ms=round_.rules.growth_per_ms,
            formula=FORMULA,
            terminating_hash=round_.terminating_hash,
            salt=round_.salt,
            bet_count=len(self._bets),
            stopping=self._stop is not None,
            previous=self._previous,
        )

    def _check_bet(self, request: PlaceCrashBet) -> None:
        update = workflow.current_update_info()
        if update is None or update.id != request.bet_id:
            raise InvalidInput("the update id must equal the bet id")
        parse_uuid(request.bet_id, what="bet id")
        parse_uuid(request.user_id, what="user id")
        currency = Currency.parse(request.currency)
        now = workflow.now()
        closes_at = self._betting_closes_at
        if self._phase is not Phase.BETTING or closes_at is None or now >= closes_at:
            raise BettingClosed("bets are taken in the betting window; the next one opens soon")
        rules = self._opened().rules
        check_stake(
            Crash.name,
            request.amount,
            currency,
            max_bet=int(rules.max_bets.get(currency.value, "0")),
            games_enabled=(Crash.name,) if rules.accepting_bets else (),
        )
        if len(self._bets) + len(self._staking) >= MAX_BETS_PER_ROUND:
            raise RoundFull(f"this round took its {MAX_BETS_PER_ROUND} bets; bet on the next")
        players = set(self._staking.values()) | {bet.stake.user_id for bet in self._bets.values()}
        if request.user_id in players:
            raise AlreadyBetThisRound("one bet per player per round")

    def _cash_out_multiplier(self, request: CashOutRequest) -> int:
        """The multiplier a cash-out gets now, or the refusal: decided by the workflow's
        clock, so replay, retries and every worker agree."""
        round_ = self._opened()
        bet = self._bets.get(request.bet_id)
        if bet is None or bet.stake.user_id != request.user_id:
            raise BetNotInRound(f"bet {request.bet_id} is not in round {round_.round_id}")
        if request.bet_id in self._cash_outs:
            multiplier = format_hundredths(self._cash_outs[request.bet_id])
            raise AlreadyCashedOut(f"bet {request.bet_id} cashed out at {multiplier}x")
        if self._started_at is None or self._ends_at is None or self._curve is None:
            raise NotRunning("the round has not started; cash out once the multiplier rises")
        now = workflow.now()
        if now >= self._ends_at:
            end = format_hundredths(round_.end_h)
            raise CashOutTooLate(f"round {round_.round_id} ended at {end}x before this cash-out")
        elapsed_ms = (now - self._started_at) // timedelta(milliseconds=1)
        multiplier_h = self._curve.multiplier_h(elapsed_ms)
        if multiplier_h < MIN_TARGET_H:
            raise CashOutTooEarly("the multiplier is below 1.01x; a cash-out would only refund")
        return multiplier_h

    def _settling_bets(self) -> list[SettlingBet]:
        return [
            SettlingBet(bet.stake, bet.taken, self._cash_outs.get(bet_id))
            for bet_id, bet in sorted(self._bets.items())
        ]

    def _played(self, settled: RoundSettled) -> PlayedRound:
        round_ = self._opened()
        assert settled.round_id == round_.round_id, settled.round_id
        assert self._ends_at is not None
        return PlayedRound(
            round_id=round_.round_id,
            crash_point=format_hundredths(settled.crash_point_h),
            game_hash=settled.game_hash,
            ended_at=self._ends_at,
        )

    def _opened(self) -> OpenedRound:
        if self._round is None:
            raise BettingClosed("the next round is opening; retry in a moment")
        return self._round

    def _enter(self, phase: Phase) -> None:
        self._phase = phase
        workflow.upsert_search_attributes([keys.STATUS.value_set(phase.value)])
        self._describe()

    def _describe(self) -> None:
        round_id = self._round.round_id if self._round else "next round"
        stopping = "; stopping after this round" if self._stop else ""
        workflow.set_current_details(
            f"{round_id}: {self._phase.value}, {len(self._bets)} bets, "
            f"{len(self._cash_outs)} cashed out{stopping}"
        )
