"""A Bitcoin sweep that finds the hot wallet below its floor raises a refill from cold,
through the same Sweep and Refill workflows as Ethereum, on the time-skipping server
(the refill's approval window passes in an instant) against the regtest simulator.

The module's hot wallet holds its two 50 BTC coinbase coins against a floor of 150 BTC
and a target of 250: nothing to sweep, a refill of the difference, which nobody approves
and which expires.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from croupier.core.money import Currency
from croupier.core.settings import HotWalletPolicy
from croupier.sweeps import positions
from croupier.sweeps.keys import refill_workflow_id
from croupier.sweeps.refills import get_refill
from croupier.workflows.refill import RefillWorkflow
from croupier.workflows.sweep import SweepInput, SweepWorkflow
from tests.btc_simulator.wallets import outsider_key
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.integration.payments_btc.conftest import BTC, CHAIN, BtcStack
from tests.integration.payments_btc.conftest import btc_chain as btc_chain
from tests.integration.payments_btc.conftest import btc_stack as btc_stack
from tests.workflows.test_treasury import skipping_time

TARGET_BTC = 250
SETTINGS = {
    "treasury_hot_wallets": {
        "BTC": HotWalletPolicy(
            cap="400",
            target=str(TARGET_BTC),
            floor="150",
            cold_address=outsider_key(random.randrange(30_000, 40_000)).address,
        )
    },
    "btc_max_fee_rate_sat_vb": Decimal(20),
    "treasury_refill_expiry_s": 3600,
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_client(time_skipping_env: WorkflowEnvironment) -> Client:
    """The module's workers and workflows run on the time-skipping server."""
    return time_skipping_env.client


async def test_a_btc_sweep_below_the_floor_raises_a_refill_back_to_the_target(
    btc_stack: BtcStack, time_skipping_env: WorkflowEnvironment
) -> None:
    stack = btc_stack
    spendable = min(
        stack.client.balance(stack.hot_address, Currency.BTC),
        positions.hot_wallet_available(stack.engine, Currency.BTC),
    )

    swept = await stack.temporal.execute_workflow(
        SweepWorkflow.run,
        SweepInput(chain=CHAIN),
        id=f"sweep-btc-{uuid.uuid4()}",
        task_queue=stack.task_queue,
    )
    ((step,),) = [swept.currencies]
    assert (step.currency, step.amount, step.status) == ("BTC", "0", "nothing to sweep")
    assert step.refill_id is not None
    refill = stack.temporal.get_workflow_handle_for(
        RefillWorkflow.run, refill_workflow_id(uuid.UUID(step.refill_id))
    )
    async with skipping_time(time_skipping_env):
        ended = await refill.result()

    assert spendable == 100 * BTC
    assert (ended.chain, ended.currency) == (CHAIN, "BTC")
    assert ended.amount == str(TARGET_BTC * BTC - spendable)
    assert (ended.requested_by, ended.status, ended.approvals) == ("system:sweep", "expired", ())
    assert get_refill(stack.engine, uuid.UUID(step.refill_id)).status.value == "expired"
