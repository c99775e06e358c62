"""Sweeps on a real chain: exactly the excess goes to cold, once, whatever restarts.

The hot wallet holds 60 ETH and 5,000,000 USDT against a target of 25 ETH and 2,500,000
USDT: a sweep sends exactly the excess (for ETH, less the most its own fee can be, which
stays behind). The worker is stopped while the sweep waits for its confirmations and a
second run starts meanwhile, as the schedule would: the second run resumes the same
movement, nothing is sent twice, and a third run later finds nothing to sweep.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from temporalio.client import WorkflowHandle

from croupier.core.money import Currency
from croupier.monitoring.wallets import check_wallets
from croupier.payments.tables import hot_wallet_transactions
from croupier.sweeps.tables import treasury_movements
from croupier.workflows import search_attributes as keys
from croupier.workflows.sweep import SweepInput, SweepResult, SweepWorkflow
from tests.integration.payments.conftest import ETH, USDT, assert_ledger_whole, eventually
from tests.integration.sweeps.support import TreasuryStack, mining

GWEI = 10**9
# The most the ETH sweep's own transaction can cost: 21,000 gas at the 200 gwei cap.
ETH_SWEEP_FEE_BOUND = 21_000 * 200 * GWEI
COINS = (Currency.ETH, Currency.USDT)


async def start_sweep(stack: TreasuryStack) -> WorkflowHandle[SweepWorkflow, SweepResult]:
    return await stack.temporal.start_workflow(
        SweepWorkflow.run,
        SweepInput(),
        id=f"sweep-eth-test-{uuid.uuid4()}",
        task_queue=stack.task_queue,
    )


def sweeps_to(stack: TreasuryStack) -> list[tuple[str, str, int]]:
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(treasury_movements).where(
                treasury_movements.c.kind == "sweep",
                treasury_movements.c.to_address == stack.cold_address,
            )
        ).all()
    return sorted((row.currency, row.status, int(row.amount)) for row in rows)


def signed_for_sweeps(stack: TreasuryStack) -> int:
    with stack.engine.connect() as conn:
        send_ids = select(treasury_movements.c.send_id).where(
            treasury_movements.c.to_address == stack.cold_address
        )
        return int(
            conn.execute(
                select(func.count()).where(hot_wallet_transactions.c.withdrawal_id.in_(send_ids))
            ).scalar_one()
        )


async def sending(handle: WorkflowHandle[SweepWorkflow, SweepResult]) -> bool:
    description = await handle.describe()
    return description.typed_search_attributes.get(keys.STATUS) == "sending"


async def test_a_sweep_moves_exactly_the_excess_once_across_a_worker_restart(
    treasury: TreasuryStack,
) -> None:
    stack = treasury
    stack.fund_hot(60 * ETH, Currency.ETH)
    stack.fund_hot(5_000_000 * USDT, Currency.USDT)
    hot_before = {c: (stack.hot_ledger(c), stack.on_chain(stack.hot_address, c)) for c in COINS}
    excess_eth = 60 * ETH - 25 * ETH - ETH_SWEEP_FEE_BOUND
    excess_usdt = 2_500_000 * USDT

    first = await start_sweep(stack)
    await eventually(lambda: signed_for_sweeps(stack) == 2, what="both sweeps signed")
    await stack.stop_worker()
    second = await start_sweep(stack)  # the schedule's next run, while no worker runs
    await stack.start_worker()
    await eventually(lambda: sending(second), what="the second run resuming the sweeps")
    async with mining(stack):
        swept, resumed = await first.result(), await second.result()
    async with mining(stack):
        later = await (await start_sweep(stack)).result()

    by_currency = {c.currency: c for c in swept.currencies}
    assert (by_currency["ETH"].amount, by_currency["ETH"].status) == (str(excess_eth), "completed")
    assert (by_currency["USDT"].amount, by_currency["USDT"].status) == (
        str(excess_usdt),
        "completed",
    )
    assert {c.currency: c.amount for c in resumed.currencies} == {
        "ETH": str(excess_eth),
        "USDT": str(excess_usdt),
    }
    assert {c.status for c in later.currencies} == {"nothing to sweep"}
    assert sweeps_to(stack) == [
        ("ETH", "completed", excess_eth),
        ("USDT", "completed", excess_usdt),
    ]
    assert signed_for_sweeps(stack) == 2
    assert stack.on_chain(stack.cold_address, Currency.ETH) == excess_eth
    assert stack.on_chain(stack.cold_address, Currency.USDT) == excess_usdt
    for currency in COINS:
        ledger_before, chain_before = hot_before[currency]
        assert stack.hot_ledger(currency) - ledger_before == (
            stack.on_chain(stack.hot_address, currency) - chain_before
        )
        assert stack.ledger(stack.cold_account(currency)) == stack.on_chain(
            stack.cold_address, currency
        )
    cold_accounts = [stack.cold_account(Currency.ETH), stack.cold_account(Currency.USDT)]
    report = check_wallets(stack.engine, {"ethereum": stack.chain}, account_ids=cold_accounts)
    assert report.mismatches == () and len(report.checks) == 2
    assert_ledger_whole(stack.engine)
