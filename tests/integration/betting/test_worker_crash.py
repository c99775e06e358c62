"""A worker killed in the middle of settling a bet: the bet completes exactly once.

The settlement is blocked deterministically: the test holds the row lock on the
player's cash balance, so the worker's settlement transaction waits inside its stake
transfer. The worker (a real ``croupier worker`` process on its own task queue) is then
killed with SIGKILL, the lock released, and a second worker started. Temporal hands the
workflow task to the new worker, which runs the settlement again; the database decides
that it happens once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger.accounts import find_account
from croupier.ledger.kinds import AccountKind
from croupier.workers.processes import ManagedProcess
from tests.integration.api.conftest import ApiFactory
from tests.integration.betting.conftest import FUNDS_WEI, Player

STAKE_WEI = 10**16
WAIT_STEP_S = 0.05
WAIT_LIMIT_S = 30.0


def _worker(settings: Settings, task_queue: str, name: str) -> ManagedProcess:
    assert settings.database_url is not None
    env = {
        **os.environ,
        "CROUPIER_DATABASE_URL": settings.database_url,
        "CROUPIER_TEMPORAL_ADDRESS": settings.temporal_address,
        "CROUPIER_TEMPORAL_TASK_QUEUE": task_queue,
        # The same data dir: the same seed sealing key as the test's own worker.
        "CROUPIER_DATA_DIR": str(settings.data_dir),
        "CROUPIER_DEV_FAUCET_ENABLED": "true",
        # This worker settles bets only: no chain scanner on the shared server, no
        # metrics ports that the session's other processes may hold.
        "CROUPIER_DEPOSIT_SCANNER_ENABLED": "false",
        "CROUPIER_WORKER_METRICS_PORT": "0",
        "CROUPIER_TEMPORAL_METRICS_PORT": "0",
    }
    croupier = Path(sys.executable).parent / "croupier"
    return ManagedProcess(name, [str(croupier), "worker"], env=env).start()


@contextmanager
def _running(process: ManagedProcess) -> Iterator[ManagedProcess]:
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def _cash_row_locked(engine: Engine, account_id: int) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        conn.execute(
            text("SELECT 1 FROM account_balances WHERE account_id = :id FOR UPDATE"),
            {"id": account_id},
        )
        yield conn


async def _settlement_waits_on_lock(engine: Engine) -> None:
    query = text(
        """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%ledger_transfer_batch%'
        """
    )
    for _ in range(int(WAIT_LIMIT_S / WAIT_STEP_S)):
        with engine.connect() as conn:
            if conn.execute(query).scalar_one() > 0:
                return
        await asyncio.sleep(WAIT_STEP_S)
    raise AssertionError("the settlement never reached the locked balance row")


async def test_a_worker_killed_mid_bet_settles_it_exactly_once_after_restart(
    api_factory: ApiFactory, settings: Settings, engine: Engine
) -> None:
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    async with api_factory(temporal_task_queue=queue) as api:
        with _running(_worker(settings, queue, "worker-a")) as first:
            player = Player(api, await api.player())
            player.user_id = uuid.UUID((await player.get("/me")).json()["id"])
            assert (await player.credit(FUNDS_WEI)).status_code == 200
            cash = find_account(engine, AccountKind.PLAYER_CASH, str(player.user_id), Currency.ETH)

            key = str(uuid.uuid4())
            params = {"target": "50.00", "direction": "over"}
            with _cash_row_locked(engine, cash.id):
                placing = asyncio.create_task(player.bet("dice", params, STAKE_WEI, key=key))
                await _settlement_waits_on_lock(engine)
                os.killpg(first.pid, signal.SIGKILL)
                first.stop()
            assert not placing.done()

        with _running(_worker(settings, queue, "worker-b")):
            response = await placing
            if response.status_code == 503:  # answered before the new worker finished
                response = await player.bet("dice", params, STAKE_WEI, key=key)
            assert response.status_code == 201, response.text
            bet = response.json()
            again = await player.bet("dice", params, STAKE_WEI, key=key)
            available = await player.available()

    assert again.json() == bet
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM bets WHERE id = CAST(:id AS uuid)"), {"id": bet["id"]}
        ).scalar_one()
        transfers = conn.execute(
            text("SELECT id, amount FROM transfers WHERE reference_id = :ref ORDER BY id"),
            {"ref": f"bet-{bet['id']}"},
        ).all()
    assert rows == 1
    expected = [(f"bet-{bet['id']}-stake", STAKE_WEI)]
    if int(bet["payout"]) > 0:
        expected.insert(0, (f"bet-{bet['id']}-payout", int(bet["payout"])))
    assert [(row.id, int(row.amount)) for row in transfers] == expected
    assert available == FUNDS_WEI - STAKE_WEI + int(bet["payout"])
    assert bet["nonce"] == 0
