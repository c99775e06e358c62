"""Feeding the outcome monitor from the bets table, and alarming on what it flags.

Per game, the newest ``window_bets`` settled bets of the last ``LOOKBACK`` are tested;
one open alert per game (``dedup_key`` = game), so a biased game stays one alert.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from sqlalchemy import Connection, Engine, func, select

from croupier.betting.tables import bets
from croupier.games.registry import GAMES
from croupier.ledger.connections import snapshot
from croupier.monitoring.alerts import AlertKind, Severity, raise_alert
from croupier.monitoring.outcomes import (
    MAX_WINDOW_BETS,
    GameCheck,
    MonitorPolicy,
    OutcomeSample,
    check_games,
)

# Bets settled longer ago than this are history, not the current behaviour of a game;
# the bound also lets PostgreSQL skip old partitions.
LOOKBACK = timedelta(days=7)


def check_outcomes(engine: Engine, policy: MonitorPolicy, *, window_bets: int) -> list[GameCheck]:
    assert 1 <= window_bets <= MAX_WINDOW_BETS, window_bets
    with snapshot(engine) as conn:
        samples = [s for game in sorted(GAMES) for s in _recent(conn, game, window_bets)]
    checks = check_games(samples, policy)
    alarming = [check for check in checks if check.flagged or check.invalid]
    if alarming:
        with engine.begin() as conn:
            for check in alarming:
                raise_alert(
                    conn,
                    AlertKind.OUTCOME_BIAS,
                    Severity.CRITICAL if check.flagged else Severity.WARNING,
                    _message(check),
                    check.to_json(),
                    dedup_key=check.game,
                )
    return checks


def _recent(conn: Connection, game: str, limit: int) -> list[OutcomeSample]:
    b = bets.c
    cutoff = func.now() - LOOKBACK
    rows = conn.execute(
        select(b.game, b.params, b.multiplier, b.round_id)
        .where(
            b.game == game,
            b.status == "settled",
            b.created_at >= cutoff,
            b.settled_at >= cutoff,
        )
        .order_by(b.settled_at.desc())
        .limit(limit)
    ).all()
    return [
        OutcomeSample(row.game, row.params, Fraction(row.multiplier), row.round_id) for row in rows
    ]


def _message(check: GameCheck) -> str:
    if check.flagged:
        return f"outcomes of {check.describe()}: looks unlike its exact odds"
    return f"{check.game}: {check.invalid} settled bets have parameters the game refuses"
