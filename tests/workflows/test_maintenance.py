"""Ledger maintenance on the time-skipping server: a run expires overdue holds (their
funds are free again) and puts back missing monthly partitions of the ledger and bets."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Engine, text
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

    handle = await time_skipping_env.client.start_workflow(
        LedgerMaintenanceWorkflow.run,
        MaintenanceInput(),
        id=f"ledger-maintenance-test-{uuid.uuid4()}",
        task_queue=time_skipping_worker,
    )
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
