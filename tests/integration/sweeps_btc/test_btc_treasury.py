"""Bitcoin's hot-to-cold sweep and deposit-address consolidation on the regtest
simulator, through the same Sweep and Consolidation workflows as Ethereum's.

The module's hot wallet holds two 50 BTC coinbase coins against a cap of 60 BTC and a
target of 25: a sweep sends exactly the excess less the most its own transaction can
cost (``SWEEP_FEE_BOUND``: 10 inputs, two 34-byte outputs, at the 20 sat/vB cap), once,
whatever the runs. Consolidation then moves the credited coins of two players' deposit
addresses in one transaction and leaves a held deposit where it is. A refill from cold
takes two approvals and then exactly the cold-signed transaction the refill asked for.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest_asyncio
from sqlalchemy import select
from temporalio.client import WorkflowHandle

from croupier.chains.bitcoin.coins import TxOut
from croupier.core.money import Currency
from croupier.core.settings import HotWalletPolicy
from croupier.ledger import AccountKind
from croupier.ledger.accounts import AccountSpec, open_account
from croupier.ledger.balances import balance
from croupier.monitoring.deposit_books import check_deposit_books
from croupier.monitoring.deposit_records import address_holdings
from croupier.payments.deposits import get_deposit
from croupier.payments.errors import DepositNotFound
from croupier.payments.keys import deposit_id
from croupier.payments.states import DepositStatus
from croupier.payments.tables import btc_hot_wallet_transactions
from croupier.sweeps.keys import movement_id
from croupier.sweeps.tables import (
    treasury_btc_inputs,
    treasury_btc_transactions,
    treasury_movements,
)
from croupier.workflows.consolidation import (
    ConsolidationInput,
    ConsolidationResult,
    ConsolidationWorkflow,
)
from croupier.workflows.sweep import SweepInput, SweepResult, SweepWorkflow
from tests.btc_simulator.wallets import PlayerWallet, fund, outsider_key
from tests.integration.api.conftest import Api, ApiFactory
from tests.integration.api.conftest import api_factory as api_factory
from tests.integration.api.conftest import api_settings as api_settings
from tests.integration.payments.conftest import (
    assert_ledger_whole,
    eventually,
    new_player,
    system_balance,
)
from tests.integration.payments_btc.conftest import BTC, CHAIN, BtcStack
from tests.integration.sweeps.support import book_opening, mining, post, treasury_staff

# The cold wallet's key is the test's: it plays the offline signer of a refill.
COLD_KEY = outsider_key(random.randrange(20_000, 30_000))
COLD_ADDRESS = COLD_KEY.address
SETTINGS = {
    "treasury_hot_wallets": {
        "BTC": HotWalletPolicy(cap="60", target="25", floor="5", cold_address=COLD_ADDRESS)
    },
    "treasury_consolidation_minimum": {"BTC": "0.001"},
    "btc_max_inputs": 10,
    "btc_max_fee_rate_sat_vb": Decimal(20),
    # A run that did not queue the sweep asks the database after 4 x this.
    "hot_wallet_stuck_after_s": 3,
}
# 10 P2WPKH inputs (273 WU each, a signature at its largest) and two 34-byte outputs:
# 3,116 WU, 779 vB, at 20 sat/vB.
SWEEP_FEE_BOUND = 779 * 20


def run_id(kind: str) -> str:
    return f"{kind}-btc-test-{uuid.uuid4()}"


async def sweep(stack: BtcStack) -> SweepResult:
    return await (await start_sweep(stack)).result()


async def start_sweep(stack: BtcStack) -> WorkflowHandle[SweepWorkflow, SweepResult]:
    return await stack.temporal.start_workflow(
        SweepWorkflow.run, SweepInput(chain=CHAIN), id=run_id("sweep"), task_queue=stack.task_queue
    )


def sweep_sends(stack: BtcStack) -> list[tuple[str, int, int | None]]:
    """(status, amount, fee paid) of every sweep to the module's cold address."""
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(treasury_movements).where(
                treasury_movements.c.kind == "sweep",
                treasury_movements.c.to_address == COLD_ADDRESS,
            )
        ).all()
    return [
        (r.status, int(r.amount), None if r.fee_paid is None else int(r.fee_paid)) for r in rows
    ]


def signed_for_sweeps(stack: BtcStack) -> list[int]:
    """The fee of every transaction the hot wallet signed for a sweep to cold."""
    with stack.engine.connect() as conn:
        send_ids = select(treasury_movements.c.send_id).where(
            treasury_movements.c.to_address == COLD_ADDRESS
        )
        return [
            int(fee)
            for fee in conn.execute(
                select(btc_hot_wallet_transactions.c.fee_sat).where(
                    btc_hot_wallet_transactions.c.withdrawal_id.in_(send_ids)
                )
            ).scalars()
        ]


def cold_account(stack: BtcStack) -> int:
    spec = AccountSpec(AccountKind.COLD_WALLET, COLD_ADDRESS, Currency.BTC)
    return open_account(stack.engine, spec).id


def cold_ledger(stack: BtcStack) -> int:
    return balance(stack.engine, cold_account(stack)).posted


def hot(stack: BtcStack) -> tuple[int, int]:
    """(ledger, chain) of the hot wallet: tests compare how both changed."""
    ledger = system_balance(stack.engine, AccountKind.HOT_WALLET, Currency.BTC).posted
    return ledger, stack.received(stack.hot_address)


async def test_a_btc_sweep_moves_exactly_the_excess_once_across_runs(btc_stack: BtcStack) -> None:
    stack = btc_stack
    ledger_before, chain_before = hot(stack)
    excess = chain_before - 25 * BTC - SWEEP_FEE_BOUND

    first = await start_sweep(stack)
    await eventually(lambda: len(signed_for_sweeps(stack)) == 1, what="the sweep signed")
    second = await start_sweep(stack)  # the schedule's next run, the sweep still unmined
    async with mining(stack):
        swept = await first.result()
        resumed = await second.result()
    async with mining(stack):
        later = await sweep(stack)

    ((status, amount, fee_paid),) = sweep_sends(stack)
    (signed_fee,) = signed_for_sweeps(stack)
    assert chain_before == 100 * BTC
    assert [(c.currency, c.amount, c.status) for c in swept.currencies] == [
        ("BTC", str(excess), "completed")
    ]
    assert [c.amount for c in resumed.currencies] == [str(excess)]
    assert [c.status for c in later.currencies] == ["nothing to sweep"]
    assert (status, amount, fee_paid) == ("completed", excess, signed_fee)
    assert 0 < signed_fee <= SWEEP_FEE_BOUND
    assert stack.received(COLD_ADDRESS) == excess == cold_ledger(stack)
    ledger_after, chain_after = hot(stack)
    assert chain_after == 25 * BTC + SWEEP_FEE_BOUND - signed_fee
    assert ledger_after - ledger_before == chain_after - chain_before
    assert_ledger_whole(stack.engine)


def batch_inputs(stack: BtcStack) -> list[tuple[str, int, str]]:
    with stack.engine.connect() as conn:
        rows = conn.execute(select(treasury_btc_inputs)).all()
    return sorted((row.txid, int(row.vout), row.spent_by) for row in rows)


def batch_fee(stack: BtcStack, txid: str) -> int:
    with stack.engine.connect() as conn:
        return int(
            conn.execute(
                select(treasury_btc_transactions.c.fee_sat).where(
                    treasury_btc_transactions.c.txid == txid
                )
            ).scalar_one()
        )


def consolidations_from(stack: BtcStack, addresses: list[str]) -> dict[str, tuple[str, int, int]]:
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(treasury_movements).where(
                treasury_movements.c.kind == "consolidation",
                treasury_movements.c.from_address.in_(addresses),
            )
        ).all()
    return {r.from_address: (r.status, int(r.amount), int(r.fee_paid or 0)) for r in rows}


def status_of(stack: BtcStack, key: str) -> DepositStatus | None:
    try:
        return get_deposit(stack.engine, key).status
    except DepositNotFound:
        return None


async def consolidate(stack: BtcStack) -> ConsolidationResult:
    async with mining(stack):
        return await stack.temporal.execute_workflow(
            ConsolidationWorkflow.run,
            ConsolidationInput(chain=CHAIN),
            id=run_id("consolidation"),
            task_queue=stack.task_queue,
        )


def in_flight_ledger(stack: BtcStack) -> tuple[int, int]:
    deposits = system_balance(stack.engine, AccountKind.DEPOSITS_IN_FLIGHT, Currency.BTC).posted
    fees = system_balance(stack.engine, AccountKind.FEES, Currency.BTC).posted
    return deposits, fees


async def test_btc_consolidation_moves_credited_coins_in_one_batch_and_leaves_held_ones(
    scanner: BtcStack,
) -> None:
    stack = scanner
    alice, bob, carol = (new_player(stack.engine) for _ in range(3))
    addresses = [await stack.deposit_address(p) for p in (alice, bob, carol)]
    # Carol's 0.06 BTC is above an unverified player's daily deposit limit (0.05): held.
    paid = [(addresses[0], BTC // 100), (addresses[0], BTC // 100), (addresses[1], 3 * BTC // 200)]
    paid.append((addresses[2], 6 * BTC // 100))
    sent = stack.payer.pay([TxOut(address, amount) for address, amount in paid])
    keys = [deposit_id(CHAIN, sent.txid, vout) for vout in range(len(paid))]
    stack.mine(3)
    await eventually(
        lambda: (
            [status_of(stack, k) for k in keys]
            == [DepositStatus.CREDITED] * 3 + [DepositStatus.HELD]
        ),
        what="three deposits credited and carol's held",
    )
    hot_before = hot(stack)
    in_flight_before, fees_before = in_flight_ledger(stack)
    gap_before = books_gap(stack)

    result = await consolidate(stack)
    again = await consolidate(stack)

    inputs = batch_inputs(stack)
    assert {(t, v) for t, v, _ in inputs} >= {(sent.txid, 0), (sent.txid, 1), (sent.txid, 2)}
    assert (sent.txid, 3) not in {(t, v) for t, v, _ in inputs}
    (batch_txid,) = {s for t, _, s in inputs if t == sent.txid}
    fee = batch_fee(stack, batch_txid)
    moved = consolidations_from(stack, addresses)
    assert set(moved) == set(addresses[:2])
    assert {status for status, _, _ in moved.values()} == {"completed"}
    assert moved[addresses[0]][1] + moved[addresses[0]][2] == 2 * BTC // 100
    assert moved[addresses[1]][1] + moved[addresses[1]][2] == 3 * BTC // 200
    assert sum(f for _, _, f in moved.values()) == fee
    reached = sum(a for _, a, _ in moved.values())
    assert (result.consolidations, result.consolidated, result.failed) == (
        2,
        {"BTC": str(reached)},
        0,
    )
    assert (again.consolidations, again.rounds) == (0, 0)
    hot_after = hot(stack)
    assert hot_after[1] - hot_before[1] == reached == hot_after[0] - hot_before[0]
    in_flight_after, fees_after = in_flight_ledger(stack)
    assert in_flight_before - in_flight_after == 2 * BTC // 100 + 3 * BTC // 200
    # The network fee is the casino's expense: it comes out of the fees account.
    assert fees_before - fees_after == fee
    # Monitoring's records: the consolidated addresses hold nothing booked; carol's coin
    # is unbooked (held), and the chain agrees with each.
    with stack.engine.connect() as conn:
        records = address_holdings(conn, CHAIN, addresses)
    for address in addresses:
        holdings = records[address, Currency.BTC]
        on_chain = stack.client.balance(address, Currency.BTC)
        assert holdings.low <= on_chain <= holdings.high, (address, holdings, on_chain)
    assert records[addresses[0], Currency.BTC].booked == 0
    assert records[addresses[2], Currency.BTC].unbooked == 6 * BTC // 100
    assert books_gap(stack) == gap_before
    assert_ledger_whole(stack.engine)


def books_gap(stack: BtcStack) -> tuple[int, int, int]:
    """How far the ledger's BTC deposits-in-flight account is from the deposit records
    (posted, leaving, arriving). Other modules' setup credits players straight from that
    account in the session's shared database, so the gap need not be zero here; a
    consolidation must move ledger and records together, leaving it unchanged."""
    (check,) = (c for c in check_deposit_books(stack.engine, [CHAIN]) if c.currency is Currency.BTC)
    records = check.records
    return (
        check.posted - records.booked,
        check.pending_out - records.leaving,
        check.pending_in - records.arriving,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def api(api_factory: ApiFactory, btc_stack: BtcStack) -> AsyncIterator[Api]:
    async with api_factory(**btc_stack.overrides) as built:
        yield built


def fund_cold(stack: BtcStack) -> None:
    """A mature coin at the cold address, booked (with whatever a sweep sent there
    before) as the cold wallet's opening balance: its ledger then follows the chain."""
    fund(stack.chain, COLD_KEY.address)
    unbooked = stack.received(COLD_ADDRESS) - cold_ledger(stack)
    book_opening(stack.engine, cold_account(stack), unbooked, Currency.BTC)


def refill_movement(stack: BtcStack, txid: str) -> tuple[str, int, int | None]:
    with stack.engine.connect() as conn:
        row = conn.execute(
            select(treasury_movements).where(
                treasury_movements.c.id == movement_id("refill", CHAIN, txid)
            )
        ).one()
    return row.status, int(row.amount), None if row.fee_paid is None else int(row.fee_paid)


async def test_a_btc_refill_takes_two_approvals_then_exactly_its_cold_transaction(
    api: Api, btc_stack: BtcStack
) -> None:
    stack = btc_stack
    fund_cold(stack)
    cold_before, hot_before = stack.received(COLD_ADDRESS), hot(stack)
    (alice, alice_id), (bob, bob_id) = (
        await treasury_staff(api, stack.engine),
        await treasury_staff(api, stack.engine),
    )
    amount = 3 * BTC

    raised = await post(
        api, "/admin/refills", alice, {"currency": "BTC", "amount": str(amount), "reason": "test"}
    )
    assert raised.status_code == 201, raised.text
    refill = f"/admin/refills/{raised.json()['id']}"
    await post(api, f"{refill}/approve", alice, {"reason": "payouts due"})
    await post(api, f"{refill}/approve", bob, {"reason": "checked"})

    async def status(expected: str) -> dict[str, Any] | None:
        view = (await api.client.get(refill, headers=alice)).json()
        return view if view["status"] == expected else None

    awaiting_tx = await eventually(lambda: status("awaiting_transaction"), what="two approvals")
    not_from_cold = stack.payer.pay([TxOut(stack.hot_address, amount)])
    from_stranger = await post(api, f"{refill}/tx", bob, {"tx_hash": not_from_cold.txid})
    cold_wallet = PlayerWallet(COLD_KEY, stack.chain)
    signed_offline = cold_wallet.pay([TxOut(stack.hot_address, amount)])
    ethereum_form = await post(api, f"{refill}/tx", bob, {"tx_hash": "0x" + signed_offline.txid})
    submitted = await post(api, f"{refill}/tx", bob, {"tx_hash": signed_offline.txid.upper()})
    async with mining(stack):
        done = await eventually(lambda: status("completed"), what="the refill confirmed")

    assert awaiting_tx["approvals"] == [alice_id, bob_id]
    assert from_stranger.status_code == 422, from_stranger.text
    assert from_stranger.json()["type"] == "/problems/refill_transaction_mismatch"
    assert ethereum_form.status_code == 422, ethereum_form.text
    assert ethereum_form.json()["type"] == "/problems/invalid_input"
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "confirming"
    assert (done["tx_hash"], done["cold_address"]) == (signed_offline.txid, COLD_ADDRESS)
    fee = signed_offline.fee_sat
    assert refill_movement(stack, signed_offline.txid) == ("completed", amount, fee)
    # Hot: the stranger's payment is the only coin the ledger did not book.
    hot_after = hot(stack)
    assert hot_after[0] - hot_before[0] == amount == hot_after[1] - hot_before[1] - amount
    # Cold: paid the amount and the fee, its change came back; the ledger agrees.
    assert cold_before - stack.received(COLD_ADDRESS) == amount + fee
    assert cold_ledger(stack) == stack.received(COLD_ADDRESS)
    assert_ledger_whole(stack.engine)
