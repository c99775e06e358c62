"""Refusals of the crash game. Codes travel as ``ApplicationError`` types from the round
workflow to the API, which maps them back to these classes and so to problem bodies."""

from __future__ import annotations

from croupier.core.errors import Conflict, NotFound, ServiceUnavailable


class ChainExhausted(ServiceUnavailable):
    """Every round of every stored hash chain was played: no round can open until ops
    publish a new chain (``croupier crash chain``). Retryable on purpose: the round
    workflow keeps trying to open its round, and resumes as soon as a chain exists."""

    code = "crash_chain_exhausted"


class ChainNotFound(NotFound):
    """No hash chain has this id (or none was generated yet)."""

    code = "crash_chain_not_found"


class RoundNotFound(NotFound):
    """No crash round is running: none was started, or it was stopped."""

    code = "crash_round_not_found"


class RoundAlreadySettled(Conflict):
    """A round is played once: another round workflow settled it already."""

    code = "crash_round_already_settled"


class BettingClosed(Conflict):
    """Bets are taken only in a round's betting window; retry when the next one opens."""

    code = "crash_betting_closed"


class RoundFull(Conflict):
    """The round took as many bets as it settles in one batch."""

    code = "crash_round_full"


class AlreadyBetThisRound(Conflict):
    """A player places at most one bet per round."""

    code = "crash_already_bet_this_round"


class BetNotInRound(NotFound):
    """The bet is not in the running round (unknown, another player's, or already settled)."""

    code = "crash_bet_not_in_round"


class NotRunning(Conflict):
    """Cash-outs are taken only while the multiplier rises."""

    code = "crash_round_not_running"


class AlreadyCashedOut(Conflict):
    """A bet cashes out once."""

    code = "crash_already_cashed_out"


class CashOutTooEarly(Conflict):
    """Below 1.01x a cash-out would only return the stake; wait a moment."""

    code = "crash_cash_out_too_early"


class CashOutTooLate(Conflict):
    """The round crashed (by the server's clock) before the cash-out arrived."""

    code = "crash_cash_out_too_late"
