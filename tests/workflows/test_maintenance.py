"""Ledger maintenance on the time-skipping server: a run expires overdue holds (their
funds are free again) and puts back missing monthly partitions of the ledger and bets."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Engine, text
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from croupier.betting import partitions as bet_partitions
from croupier.core.money import Currency
from croupier.ledger import AccountKind, HoldRequest, TransferType, balance, hold
from croupier.ledger import partitions as ledger_partitions
from croupier.workflows import search_attributes as keys
from croupier.workflows.maintenance import (
    LedgerMaintenanceWorkflow,
    MaintenanceInput,
    MaintenanceResult,
)
from tests.integration.compliance.people import make_user
from tests.integration.monitoring.conftest import ETH, Corner
from tests.workflows.conftest import Recorder

NEXT_MONTH = "date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'"


def drop_next_months_partitions(engine: Engine) -> None:
    """As if the horizon had run out: next month has no partitions (they are empty)."""
    with engine.begin() as conn:
        names = conn.execute(
            text(
                f"""
                SELECT partition FROM ledger__partition_horizon(1)
                WHERE month = ({NEXT_MONTH})::date
                UNION ALL
                SELECT format('bets_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))
                FROM (SELECT ({NEXT_MONTH})::date AS m) next_month
                """
            )
        ).scalars()
        for name in sorted(names, reverse=True):  # transfers_ last: entries first
            conn.execute(text(f'DROP TABLE "{name}"'))


def transfer_status(engine: Engine, transfer_id: str) -> str:
    with engine.connect() as conn:
        status: str = conn.execute(
            text("SELECT status FROM transfers WHERE id = :id"), {"id": transfer_id}
        ).scalar_one()
    return status


async def start_maintenance(
    env: WorkflowEnvironment, task_queue: str
) -> WorkflowHandle[LedgerMaintenanceWorkflow, MaintenanceResult]:
    return await env.client.start_workflow(
        LedgerMaintenanceWorkflow.run,
        MaintenanceInput(),
        id=f"ledger-maintenance-test-{uuid.uuid4()}",
        task_queue=task_queue,
    )


async def test_a_run_expires_overdue_holds_and_creates_next_months_partitions(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    corner = Corner(engine)
    player = corner.open(AccountKind.PLAYER_CASH)
    corner.move(corner.open(AccountKind.DEPOSITS_IN_FLIGHT), player, ETH, TransferType.DEPOSIT)
    hold_id = f"hold-{corner.tag}"
    hold(
        engine,
        HoldRequest(
            hold_id,
            player.id,
            corner.open(AccountKind.WITHDRAWALS_PENDING).id,
            ETH // 2,
            Currency.ETH,
            TransferType.WITHDRAW,
            timeout_s=1,
        ),
    )
    drop_next_months_partitions(engine)
    missing_before = (
        ledger_partitions.missing_partitions(engine, 1),
        bet_partitions.missing_partitions(engine, 1),
    )
    time.sleep(1.2)  # the hold's timeout passes (the ledger reads the wall clock)

    handle = await start_maintenance(time_skipping_env, time_skipping_worker)
    result: MaintenanceResult = await handle.result()

    assert len(missing_before[0]) == 2 and len(missing_before[1]) == 1
    assert result.holds_expired >= 1 and not result.expiry_incomplete
    assert result.ledger_partitions_created >= 2 and result.bet_partitions_created >= 1
    assert transfer_status(engine, hold_id) == "expired"
    assert balance(engine, player.id).available == ETH
    assert ledger_partitions.missing_partitions(engine, 6) == ()
    assert bet_partitions.missing_partitions(engine, 6) == ()
    description = await handle.describe()
    assert description.typed_search_attributes.get(keys.STATUS) == "done"
    await record_history(handle, "expired-and-partitioned")


async def test_a_run_purges_expired_idempotency_keys_and_idle_rate_limit_buckets(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    user = make_user(engine)
    tag = uuid.uuid4().hex
    with engine.begin() as conn:
        for key, age in (("expired", "25 hours"), ("live", "1 hour")):
            conn.execute(
                text(
                    "INSERT INTO idempotency_keys (user_id, key, request_fingerprint, created_at) "
                    "VALUES (:user, :key, :fingerprint, now() - CAST(:age AS interval))"
                ),
                {"user": user, "key": key, "fingerprint": b"f" * 32, "age": age},
            )
        for bucket, arrival in ((f"idle-{tag}", "-1 minute"), (f"busy-{tag}", "1 minute")):
            conn.execute(
                text(
                    "INSERT INTO rate_limit_buckets (bucket, theoretical_arrival_at, last_allowed)"
                    " VALUES (:bucket, now() + CAST(:arrival AS interval), true)"
                ),
                {"bucket": bucket, "arrival": arrival},
            )

    handle = await start_maintenance(time_skipping_env, time_skipping_worker)
    result: MaintenanceResult = await handle.result()

    assert result.idempotency_keys_purged >= 1 and result.rate_limit_buckets_purged >= 1
    assert not result.purge_incomplete
    with engine.connect() as conn:
        keys_left = conn.execute(
            text("SELECT key FROM idempotency_keys WHERE user_id = :user"), {"user": user}
        ).scalars()
        buckets_left = conn.execute(
            text("SELECT bucket FROM rate_limit_buckets WHERE bucket LIKE :tag"),
            {"tag": f"%-{tag}"},
        ).scalars()
        assert (list(keys_left), list(buckets_left)) == (["live"], [f"busy-{tag}"])
    await record_history(handle, "purged-request-records")
