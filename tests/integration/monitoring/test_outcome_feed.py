"""The outcome monitor reads settled bets from the bets table and alarms on a biased game."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from fractions import Fraction

from sqlalchemy import Engine, text

from croupier.betting.bets import BetRecord, SeedRef, record_bets
from croupier.core.money import Currency
from croupier.games.engine import play
from croupier.monitoring.outcome_feed import check_outcomes
from croupier.monitoring.outcomes import MonitorPolicy

POLICY = MonitorPolicy(alpha=1e-6, min_samples=500)
BETS = 1000
PARAMS = {"target": "2"}
SERVER_SEED = "a1" * 32


def settle_limbo_bets(engine: Engine, *, always_win: bool) -> None:
    """``BETS`` settled limbo bets from the real engine (or all paid, as an exploit would)."""
    seed_pair = uuid.uuid4()
    user = uuid.uuid4()
    now = datetime.now(UTC)
    records = []
    for nonce in range(BETS):
        result = play(
            "limbo",
            PARAMS,
            server_seed=SERVER_SEED,
            client_seed=seed_pair.hex,
            nonce=nonce,
            amount=100,
        )
        multiplier = Fraction(99, 50) if always_win else result.multiplier
        records.append(
            BetRecord(
                id=uuid.uuid4(),
                user_id=user,
                game="limbo",
                currency=Currency.ETH,
                amount=100,
                params=PARAMS,
                created_at=now,
                outcome=dict(result.outcome.as_dict()),
                multiplier=multiplier,
                payout=100 * multiplier.numerator // multiplier.denominator,
                settled_at=now,
                seed=SeedRef(
                    seed_pair,
                    hashlib.sha256(SERVER_SEED.encode()).hexdigest(),
                    seed_pair.hex,
                    nonce,
                ),
            )
        )
    record_bets(engine, records)


def test_a_game_paying_every_bet_is_flagged_and_alarmed(engine: Engine) -> None:
    settle_limbo_bets(engine, always_win=True)

    (limbo,) = [c for c in check_outcomes(engine, POLICY, window_bets=BETS) if c.game == "limbo"]

    assert limbo.flagged and limbo.samples == BETS
    with engine.connect() as conn:
        severity = conn.execute(
            text(
                "SELECT severity FROM alerts WHERE kind = 'outcome_bias' AND dedup_key = 'limbo' "
                "AND acked_at IS NULL"
            )
        ).scalar_one()
    assert severity == "critical"


def test_a_fair_game_is_quiet(engine: Engine) -> None:
    settle_limbo_bets(engine, always_win=False)

    (limbo,) = [c for c in check_outcomes(engine, POLICY, window_bets=BETS) if c.game == "limbo"]

    assert not limbo.flagged and limbo.p_value is not None and limbo.p_value > POLICY.alpha
