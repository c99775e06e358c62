"""The settlement against real PostgreSQL: one transaction, once, whatever retries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from croupier.betting import seed_pairs
from croupier.betting.audit import bet_ledger_mismatches
from croupier.betting.bets import (
    BetRecord,
    BetStatus,
    Settlement,
    get_bet,
    record_bets,
    settle_bets,
)
from croupier.betting.errors import (
    BetAlreadySettled,
    NonceReused,
    OpenGamesBlockRotation,
    SeedPairRevealed,
)
from croupier.betting.sealing import SeedSealer
from croupier.betting.settlement import SeededBet, Settler, round_result
from croupier.betting.tables import bets
from croupier.betting.tables import seed_pairs as seed_pairs_table
from croupier.core.clock import SystemClock
from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.core.money import Currency
from croupier.games.seeds import hash_server_seed
from croupier.ledger import (
    AccountKind,
    TransferRequest,
    TransferType,
    player_account,
    system_account,
    transfer,
)
from croupier.ledger.schema import transfers

SEALER = SeedSealer("integration-test-sealing-key-0123456789")
CLOCK = SystemClock()
DICE = {"target": "50.00", "direction": "over"}


@dataclass(frozen=True)
class Table:
    engine: Engine
    settler: Settler
    user_id: uuid.UUID
    pair: seed_pairs.ActivePair

    def bet(self, game: str = "dice", amount: int = 1000, **params: object) -> SeededBet:
        return SeededBet(
            id=uuid.uuid4(),
            user_id=self.user_id,
            game=game,
            currency=Currency.ETH,
            amount=amount,
            params=params or DICE,
            seed=self.pair.seed_for_next_bet(),
            created_at=datetime.now(UTC),
        )


@pytest.fixture
def table(engine: Engine) -> Iterator[Table]:
    """A player with 10,000 wei and an active seed pair."""
    user_id = uuid.uuid4()
    cash = player_account(engine, str(user_id), AccountKind.PLAYER_CASH, Currency.ETH)
    funding = system_account(engine, AccountKind.PROMOTIONS, Currency.ETH)
    transfer(
        engine,
        TransferRequest(
            f"fund-{user_id}", funding.id, cash.id, 10_000, Currency.ETH, TransferType.ADJUSTMENT
        ),
    )
    pair = seed_pairs.open_pair(engine, SEALER, user_id, Currency.ETH, CLOCK)
    yield Table(engine, Settler(engine, SEALER, CLOCK), user_id, pair)


def _transfers_of(engine: Engine, bet_id: uuid.UUID) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(transfers.c.id, transfers.c.amount)
            .where(transfers.c.reference_id == f"bet-{bet_id}")
            .order_by(transfers.c.id)
        ).all()
    return [(row.id, row.amount) for row in rows]


def test_settling_a_bet_twice_moves_money_once_and_returns_the_first_result(table: Table) -> None:
    bet = table.bet()

    first = table.settler.settle(bet)
    again = table.settler.settle(bet)

    assert again == first and first.status is BetStatus.SETTLED
    moved = _transfers_of(table.engine, bet.id)
    assert (f"bet-{bet.id}-stake", 1000) in moved
    assert len(moved) == (2 if first.payout else 1)


def test_a_refused_stake_writes_nothing_and_leaves_the_nonce(table: Table) -> None:
    too_big = table.bet(amount=10_001)

    with pytest.raises(InsufficientFunds):
        table.settler.settle(too_big)

    assert _transfers_of(table.engine, too_big.id) == []
    with table.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(bets).where(bets.c.id == too_big.id)
            ).scalar_one()
            == 0
        )
    assert table.settler.settle(table.bet()).seed.nonce == 0


def test_a_nonce_committed_by_a_straggler_moves_the_next_bet_to_the_following_one(
    table: Table,
) -> None:
    straggler, next_bet = table.bet(), table.bet()  # both offered nonce 0

    assert table.settler.settle(straggler).seed.nonce == 0
    assert table.settler.settle(next_bet).seed.nonce == 1


def test_one_nonce_of_a_pair_serves_one_bet_only(table: Table) -> None:
    first = table.settler.settle(table.bet())
    copy = replace(first, id=uuid.uuid4())

    with pytest.raises(NonceReused):
        record_bets(table.engine, [copy])


def test_a_settled_bet_is_final_in_the_database(table: Table) -> None:
    settled = table.settler.settle(table.bet())

    for statement in (
        "UPDATE bets SET payout = payout + 1 WHERE id = :id",
        "UPDATE bets SET status = 'open' WHERE id = :id",
        "DELETE FROM bets WHERE id = :id",
        "DELETE FROM bet_keys WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="refused"), table.engine.begin() as conn:
            conn.execute(text(statement), {"id": settled.id})


def test_rotation_reveals_the_seed_on_every_bet_of_the_pair(table: Table) -> None:
    played = [table.settler.settle(table.bet()) for _ in range(2)]
    rotation_id = uuid.uuid4()

    def rotate() -> seed_pairs.Rotation:
        return seed_pairs.rotate(
            table.engine,
            SEALER,
            user_id=table.user_id,
            currency=Currency.ETH,
            pair_id=table.pair.id,
            rotation_id=rotation_id,
            client_seed="fresh-seed",
            clock=CLOCK,
        )

    rotation = rotate()

    assert rotate() == rotation
    assert hash_server_seed(rotation.revealed.server_seed) == table.pair.server_seed_hash
    assert rotation.revealed.bets == 2
    assert (rotation.active.client_seed, rotation.active.next_nonce) == ("fresh-seed", 0)
    assert {get_bet(table.engine, bet.id).server_seed for bet in played} == {
        rotation.revealed.server_seed
    }
    with pytest.raises(SeedPairRevealed):
        table.settler.settle(table.bet())


def test_the_database_refuses_a_revealed_seed_that_breaks_its_promise(table: Table) -> None:
    with pytest.raises(DBAPIError, match="reveal_keeps_promise"), table.engine.begin() as conn:
        conn.execute(
            seed_pairs_table.update()
            .where(seed_pairs_table.c.id == table.pair.id)
            .values(
                server_seed="0" * 64,
                bets=0,
                revealed_at=datetime.now(UTC),
                revealed_by_rotation=uuid.uuid4(),
            )
        )


def test_rotation_waits_for_the_games_in_play(table: Table) -> None:
    game = table.bet(game="mines", mines=3)
    table.settler.open(game)

    with pytest.raises(OpenGamesBlockRotation):
        seed_pairs.rotate(
            table.engine,
            SEALER,
            user_id=table.user_id,
            currency=Currency.ETH,
            pair_id=table.pair.id,
            rotation_id=uuid.uuid4(),
            client_seed=None,
            clock=CLOCK,
        )


def test_a_mines_game_settles_through_the_same_code_with_its_stake_taken_once(table: Table) -> None:
    game = table.bet(game="mines", mines=1)
    opened = table.settler.open(game)
    assert table.settler.open(game) == opened and opened.status is BetStatus.OPEN

    picks = _safe_picks(table, opened, count=2)
    settled = table.settler.settle(replace(game, params={"mines": 1, "picks": picks}))

    assert settled.status is BetStatus.SETTLED and settled.params["picks"] == picks
    assert settled.multiplier == Fraction(99, 100) * Fraction(25 * 24, 24 * 23)
    moved = dict(_transfers_of(table.engine, game.id))
    assert moved == {f"bet-{game.id}-stake": 1000, f"bet-{game.id}-payout": settled.payout}


def test_shared_round_bets_record_and_settle_in_batches(table: Table) -> None:
    now = datetime.now(UTC)
    open_bets = [
        BetRecord(
            id=uuid.uuid4(),
            user_id=table.user_id,
            game="crash",
            currency=Currency.ETH,
            amount=100 + i,
            params={"target": "2.00"},
            created_at=now,
            status=BetStatus.OPEN,
            round_id="round-1",
        )
        for i in range(3)
    ]
    assert record_bets(table.engine, open_bets) == tuple(open_bets)
    assert record_bets(table.engine, open_bets) == tuple(open_bets)
    with pytest.raises(IdempotencyConflict):
        record_bets(table.engine, [replace(open_bets[0], amount=1)])

    results = [
        Settlement(bet.id, {"crash": "2.50"}, Fraction(2), bet.amount * 2, now) for bet in open_bets
    ]
    settled = settle_bets(table.engine, results)

    assert [bet.payout for bet in settled] == [200, 202, 204]
    assert settle_bets(table.engine, results) == settled
    with pytest.raises(BetAlreadySettled):
        settle_bets(table.engine, [replace(results[0], payout=0, multiplier=Fraction(0))])


def _safe_picks(table: Table, opened: BetRecord, count: int) -> list[int]:
    assert opened.seed is not None
    picks: list[int] = []
    for tile in range(25):
        probe = SeededBet(
            opened.id,
            table.user_id,
            "mines",
            Currency.ETH,
            opened.amount,
            {"mines": 1, "picks": [*picks, tile]},
            opened.seed,
            opened.created_at,
        )
        if _is_safe(table, probe):
            picks.append(tile)
        if len(picks) == count:
            return picks
    raise AssertionError("a board with one mine has 24 safe tiles")


def _is_safe(table: Table, probe: SeededBet) -> bool:
    assert probe.seed is not None
    with table.engine.connect() as conn:
        server_seed = seed_pairs.server_seed_for(
            conn, SEALER, table.user_id, Currency.ETH, probe.seed
        )
    return round_result(probe, server_seed).multiplier > 0


def test_the_audit_finds_a_bet_the_ledger_never_saw(table: Table) -> None:
    settled = table.settler.settle(table.bet())
    assert bet_ledger_mismatches(table.engine, user_id=table.user_id) == ()
    ghost = replace(settled, id=uuid.uuid4(), seed=replace(settled.seed, nonce=99))

    record_bets(table.engine, [ghost])

    (mismatch,) = bet_ledger_mismatches(table.engine, user_id=table.user_id)
    assert (mismatch.bet_id, mismatch.problem) == (ghost.id, "no stake transfer")
