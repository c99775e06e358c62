"""The Temporal server killed (SIGKILL) while bets are in flight, then restarted on the
same port and database file: every bet settles exactly once, and a retried request
with the same bet id returns the first result.

The test runs its own dev server with a SQLite file (so its state survives the
restart), never the session's shared one, and an in-process worker on it. Bets go the
API's way minus HTTP: ``SessionClient.place_bet``, update-with-start on the player's
session. Two players' settlements are held inside their stake transfer (the test locks
their cash balance rows), so those bets are certainly mid-settlement when the server
dies and commit while it is down; the other players keep betting throughout. Every
caller retries a refused or unanswered bet with the same id, as a client retries with
its Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from croupier.activities.betting import BetResult
from croupier.betting.audit import bet_ledger_mismatches
from croupier.core.errors import RateLimited, ServiceUnavailable
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger.accounts import find_account
from croupier.ledger.balances import balance
from croupier.ledger.kinds import AccountKind
from croupier.ledger.reconcile import MAX_GRACE_S, reconcile
from croupier.workers import devstack, registry
from croupier.workers.processes import ManagedProcess, free_port
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.client import connect
from croupier.workflows.session import DevCredit, PlaceBet
from croupier.workflows.sessions import SessionClient

HOST = "127.0.0.1"
FUNDS_WEI = 10**18
STAKE_WEI = 10**15
DICE = {"target": "50.50", "direction": "over"}
FREE_PLAYERS = 4
HELD_PLAYERS = 2
BETS_PER_PLAYER = 6
# Bets the free players settle before the kill, so the kill lands mid-stream.
SETTLED_BEFORE_KILL = 6
# A request unanswered this long is retried with the same id (the API's 503).
UPDATE_TIMEOUT_S = 8.0
RETRY_PAUSE_S = 0.2
WAIT_STEP_S = 0.05
DEADLINE_S = 50.0


class _Server:
    """A dev server on a fixed port and SQLite file, which can be killed and restarted."""

    def __init__(self, db_file: Path) -> None:
        self.port = free_port(HOST)
        self.address = f"{HOST}:{self.port}"
        self._argv = devstack.temporal_dev_server_argv(
            ip=HOST, port=self.port, ui_port=None, db_file=db_file
        )
        self._process: ManagedProcess | None = None

    def start(self) -> None:
        self._process = ManagedProcess("temporal-restart", self._argv).start()
        self._process.wait_for_port(HOST, self.port)

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever was only in the server's memory is gone."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.stop()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()


@asynccontextmanager
async def _server_and_worker(
    tmp_path: Path, settings: Settings, engine: Engine
) -> AsyncIterator[tuple[_Server, SessionClient]]:
    server = _Server(tmp_path / "temporal.db")
    server.start()
    try:
        own = settings.model_copy(
            update={
                "temporal_address": server.address,
                "temporal_task_queue": f"restart-{uuid.uuid4().hex[:8]}",
            }
        )
        client = await connect(server.address, "default", timeout_s=30)
        deps = registry.WorkerDeps(settings=own, engine=engine, temporal=client)
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            async with build_worker(client, own.temporal_task_queue, deps, executor):
                sessions = SessionClient(
                    client, own.temporal_task_queue, own, update_timeout_s=UPDATE_TIMEOUT_S
                )
                yield server, sessions
    finally:
        server.stop()


async def _until_settled(sessions: SessionClient, user: uuid.UUID, bet: PlaceBet) -> BetResult:
    """Place ``bet``, retrying with the same id until it is answered (a client's retry)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            return await sessions.place_bet(user, Currency.ETH, bet)
        except (ServiceUnavailable, RateLimited):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(RETRY_PAUSE_S)


async def _bettor(
    sessions: SessionClient, user: uuid.UUID, results: dict[str, BetResult]
) -> list[str]:
    """A player betting one bet after another; returns the bet ids in order."""
    placed = []
    for _ in range(BETS_PER_PLAYER):
        bet = PlaceBet(str(uuid.uuid4()), "dice", str(STAKE_WEI), dict(DICE))
        placed.append(bet.bet_id)
        results[bet.bet_id] = await _until_settled(sessions, user, bet)
    return placed


@contextmanager
def _cash_rows_locked(engine: Engine, account_ids: list[int]) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        conn.execute(
            text("SELECT 1 FROM account_balances WHERE account_id = ANY(:ids) FOR UPDATE"),
            {"ids": account_ids},
        )
        yield conn


async def _settlements_waiting(engine: Engine, count: int) -> None:
    query = text(
        """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%ledger_transfer_batch%'
        """
    )
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one() >= count:
                return
        await asyncio.sleep(WAIT_STEP_S)
    raise AssertionError(f"fewer than {count} settlements reached the locked balance rows")


async def _settled_count_reaches(results: dict[str, BetResult], count: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while len(results) < count:
        assert time.monotonic() < deadline, f"only {len(results)} bets settled"
        await asyncio.sleep(WAIT_STEP_S)


async def test_a_temporal_server_killed_mid_bet_settles_every_bet_exactly_once(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    free = [uuid.uuid4() for _ in range(FREE_PLAYERS)]
    held = [uuid.uuid4() for _ in range(HELD_PLAYERS)]
    results: dict[str, BetResult] = {}
    async with _server_and_worker(tmp_path, settings, engine) as (server, sessions):
        for user in free + held:
            await sessions.dev_credit(
                user, Currency.ETH, DevCredit(str(uuid.uuid4()), str(FUNDS_WEI))
            )
        cash = {
            user: find_account(engine, AccountKind.PLAYER_CASH, str(user), Currency.ETH).id
            for user in free + held
        }
        with _cash_rows_locked(engine, [cash[user] for user in held]):
            bettors = {
                user: asyncio.create_task(_bettor(sessions, user, results)) for user in free + held
            }
            await _settlements_waiting(engine, HELD_PLAYERS)
            await _settled_count_reaches(results, SETTLED_BEFORE_KILL)
            server.kill()
            settled_before_kill = set(results)
        # The held settlements commit now, with nobody to tell: the server is down.
        await _settlements_committed(engine, held)
        server.start()
        placed = {user: await task for user, task in bettors.items()}
        retried = {
            bet_id: await sessions.place_bet(
                user, Currency.ETH, PlaceBet(bet_id, "dice", str(STAKE_WEI), dict(DICE))
            )
            for user, bet_ids in placed.items()
            for bet_id in bet_ids
        }

    # The kill landed mid-stream: the held players' first bets and some free ones were
    # still unanswered.
    assert SETTLED_BEFORE_KILL <= len(settled_before_kill) < FREE_PLAYERS * BETS_PER_PLAYER
    assert not settled_before_kill & {placed[user][0] for user in held}
    assert retried == {bet_id: results[bet_id] for bet_id in retried}
    for user, bet_ids in placed.items():
        bets = [results[bet_id] for bet_id in bet_ids]
        # One nonce per bet, none skipped or used twice: each bet was played once.
        assert sorted(bet.seed.nonce for bet in bets) == list(range(BETS_PER_PLAYER))
        assert all(bet.status == "settled" and bet.user_id == str(user) for bet in bets)
        _assert_settled_once(engine, bets)
        payouts = sum(int(bet.payout or 0) for bet in bets)
        expected = FUNDS_WEI - BETS_PER_PLAYER * STAKE_WEI + payouts
        assert balance(engine, cash[user]).available == expected
        assert bet_ledger_mismatches(engine, user_id=user) == ()
    assert reconcile(engine, grace_s=MAX_GRACE_S).ok


async def _settlements_committed(engine: Engine, users: list[uuid.UUID]) -> None:
    """The held players' first bets reach the ``bets`` table while the server is down."""
    query = text("SELECT count(DISTINCT user_id) FROM bets WHERE user_id = ANY(:users)")
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query, {"users": users}).scalar_one() == len(users):
                return
        await asyncio.sleep(WAIT_STEP_S)
    raise AssertionError("the held settlements never committed")


def _assert_settled_once(engine: Engine, bets: list[BetResult]) -> None:
    """One bet row per bet; one stake transfer, and one payout transfer exactly when it
    won, each of the bet's amounts."""
    ids = [bet.bet_id for bet in bets]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id::text, count(*) AS n FROM bets WHERE id::text = ANY(:ids) GROUP BY id"),
            {"ids": ids},
        ).all()
        transfers = conn.execute(
            text("SELECT id, amount FROM transfers WHERE reference_id = ANY(:refs)"),
            {"refs": [f"bet-{bet_id}" for bet_id in ids]},
        ).all()
    assert {row.id: row.n for row in rows} == dict.fromkeys(ids, 1)
    expected = {f"bet-{bet.bet_id}-stake": STAKE_WEI for bet in bets}
    expected |= {
        f"bet-{bet.bet_id}-payout": int(bet.payout or 0) for bet in bets if bet.payout != "0"
    }
    assert {row.id: int(row.amount) for row in transfers} == expected
