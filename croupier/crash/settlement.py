"""Settling a crashed round: every bet, one transaction, idempotent by the round.

At the crash, the round workflow hands over every bet it accepted with its cash-out
(if any). In ONE transaction the round row is locked, each bet's result is computed
from the round's game hash and salt (``games.engine.play_crash``: a cash-out at t wins
``amount * t`` exactly when the crash point is at least t), every payout is posted
house -> player in one ``transfer_batch``, every bet row is settled, and the round is
marked settled. Running it again finds the round settled and writes nothing: a retried
activity, a restarted worker or a replayed workflow cannot pay a bet twice.

Bets still open when the multiplier reaches the round's cap cash out at the cap (the
crash point is at least there); bets still open at the crash lose their stake, which
the house took when the bet was placed. A bet whose stake a splitter split when it was
placed (``RoundBet.split``) has its payout split by the same splitter, in the same
transaction; every other bet is paid to cash as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

from sqlalchemy import Connection

from croupier.betting.bets import BetRecord, BetStatus, Settlement, settle_bets
from croupier.betting.movements import BetAccounts, StakeSplit, StakeSplitter, payout_requests
from croupier.core.errors import InvalidInput
from croupier.crash.bets import MAX_BETS_PER_ROUND, CrashBet
from croupier.crash.rounds import Round, RoundKey, RoundStatus, mark_settled, select_round
from croupier.games.crash import CrashOutcome
from croupier.games.engine import play_crash
from croupier.games.game import payout as game_payout
from croupier.games.params import format_hundredths
from croupier.games.targets import MIN_TARGET_H
from croupier.ledger.connections import Bind, transaction
from croupier.ledger.posting import transfer_batch


@dataclass(frozen=True, slots=True)
class RoundBet:
    """A bet as the round workflow hands it over at the crash."""

    bet: CrashBet
    accounts: BetAccounts
    cashed_out_h: int | None  # the multiplier of the player's cash-out; None: rode on
    split: bool = False  # staked through the settlement's splitter


@dataclass(frozen=True, slots=True)
class BetOutcome:
    bet_id: str
    cashed_out_h: int | None  # the player's cash-out or the cap; None: lost at the crash
    payout: int


@dataclass(frozen=True, slots=True)
class RoundSettlement:
    round: Round  # settled: its game hash may now be shown
    outcomes: tuple[BetOutcome, ...]
    replayed: bool  # settled before: nothing was written this time


def settle_round(
    bind: Bind,
    key: RoundKey,
    bets: Sequence[RoundBet],
    *,
    started_at: datetime,
    ended_at: datetime,
    settled_at: datetime,
    splitter: StakeSplitter | None = None,
) -> RoundSettlement:
    """Pay and record every bet of round ``key`` at once; a second call is a replay.
    ``splitter`` pays the bets marked ``split`` (it split their stakes)."""
    _check_bets(key, bets)
    with transaction(bind) as conn:
        round_ = select_round(conn, key, lock="update")
        if round_.status is RoundStatus.SETTLED:
            assert round_.bet_count == len(bets), f"round {key.id} settled other bets"
            return RoundSettlement(round_, _outcomes(round_, bets), replayed=True)
        settled = [_settled(round_, bet, settled_at) for bet in bets]
        payouts = [
            payout
            for record, bet in zip(settled, bets, strict=True)
            for payout in payout_requests(record, bet.accounts, _split(conn, splitter, record, bet))
        ]
        if payouts:
            transfer_batch(conn, payouts)
        if settled:
            settle_bets(conn, [_settlement(record) for record in settled])
        mark_settled(conn, key, started_at=started_at, ended_at=ended_at, bet_count=len(bets))
        round_ = select_round(conn, key)
    return RoundSettlement(round_, _outcomes(round_, bets), replayed=False)


def cash_out_target(round_: Round, bet: RoundBet) -> int | None:
    """The multiplier ``bet`` is paid at: its cash-out, else the cap if the round got
    there, else None (lost). A cash-out at or past the crash point is a bug upstream."""
    if bet.cashed_out_h is not None:
        assert MIN_TARGET_H <= bet.cashed_out_h < round_.end_h, (
            f"bet {bet.bet.id} cashed out at {bet.cashed_out_h}, not below {round_.end_h}"
        )
        return bet.cashed_out_h
    return round_.max_multiplier_h if round_.reaches_cap else None


def _settled(round_: Round, bet: RoundBet, settled_at: datetime) -> BetRecord:
    open_bet = bet.bet.record()
    target_h = cash_out_target(round_, bet)
    if target_h is None:
        return replace(
            open_bet,
            status=BetStatus.SETTLED,
            outcome=CrashOutcome(round_.crash_point_h).as_dict(),
            multiplier=Fraction(0),
            payout=0,
            settled_at=settled_at,
        )
    params = {"target": format_hundredths(target_h)}
    result = play_crash(params, game_hash=round_.game_hash, salt=round_.salt, amount=bet.bet.amount)
    # The stored crash point is the hash's, and the target is below it: a win.
    assert result.outcome.as_dict() == CrashOutcome(round_.crash_point_h).as_dict(), result
    assert result.multiplier == Fraction(target_h, 100), result
    return replace(
        open_bet,
        params=params,
        status=BetStatus.SETTLED,
        outcome=result.outcome.as_dict(),
        multiplier=result.multiplier,
        payout=result.payout,
        settled_at=settled_at,
    )


def _split(
    conn: Connection, splitter: StakeSplitter | None, record: BetRecord, bet: RoundBet
) -> StakeSplit | None:
    if not bet.split:
        return None
    assert splitter is not None, f"bet {bet.bet.id} was split: settle it with its splitter"
    return splitter.staked(conn, record, bet.accounts)


def _settlement(record: BetRecord) -> Settlement:
    assert record.outcome is not None and record.multiplier is not None
    assert record.payout is not None and record.settled_at is not None
    return Settlement(
        bet_id=record.id,
        outcome=record.outcome,
        multiplier=record.multiplier,
        payout=record.payout,
        settled_at=record.settled_at,
        params=record.params,
    )


def _outcomes(round_: Round, bets: Sequence[RoundBet]) -> tuple[BetOutcome, ...]:
    outcomes = []
    for bet in bets:
        target_h = cash_out_target(round_, bet)
        payout = 0 if target_h is None else game_payout(bet.bet.amount, Fraction(target_h, 100))
        outcomes.append(BetOutcome(str(bet.bet.id), target_h, payout))
    return tuple(outcomes)


def _check_bets(key: RoundKey, bets: Sequence[RoundBet]) -> None:
    if len(bets) > MAX_BETS_PER_ROUND:
        raise InvalidInput(f"a round settles at most {MAX_BETS_PER_ROUND} bets, got {len(bets)}")
    if len({bet.bet.id for bet in bets}) != len(bets):
        raise InvalidInput("a bet appears twice in one round's settlement")
    for bet in bets:
        if bet.bet.round != key:
            raise InvalidInput(f"bet {bet.bet.id} is in round {bet.bet.round.id}, not {key.id}")
