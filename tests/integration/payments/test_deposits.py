"""Deposits on a real chain: found by the scanner, credited after N confirmations and
not before, exactly once, whatever reorgs and restarts happen while they wait."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle

from croupier.chains.ethereum.tx import address_of
from croupier.core.money import Currency
from croupier.ledger.schema import transfers
from croupier.payments.deposits import DepositRecord, get_deposit
from croupier.payments.errors import DepositNotFound
from croupier.payments.keys import deposit_id, scanner_workflow_id
from croupier.payments.states import DepositStatus
from croupier.payments.tables import chain_cursors
from croupier.workflows import search_attributes
from croupier.workflows.deposit_scanner import DepositScannerWorkflow, RescanRequest
from tests.integration.eth_forwarder import deploy_forwarder, forward
from tests.integration.payments.conftest import (
    CHAIN,
    CONFIRMATIONS,
    ETH,
    USDT,
    PaymentsStack,
    assert_ledger_whole,
    cash,
    eventually,
    forget_scanner_cursor,
    funded_key,
    mint_usdt,
    new_player,
    node_rpc,
    send_eth,
    send_token,
    start_scanner,
    terminate,
    wait_mined,
)

NATIVE = -1
FIRST_INTERNAL_CALL = -2
# Every scan here also traces its blocks' calls (ETH that contracts send on to players).
SETTINGS = {"eth_internal_transfers": True}


def find(stack: PaymentsStack, key: str) -> DepositRecord | None:
    try:
        return get_deposit(stack.engine, key)
    except DepositNotFound:
        return None


def status_of(stack: PaymentsStack, key: str) -> DepositStatus | None:
    record = find(stack, key)
    return None if record is None else record.status


def at_confirmations(stack: PaymentsStack, key: str, confirmations: int) -> bool:
    record = find(stack, key)
    return record is not None and record.confirmations == confirmations


def is_credited(stack: PaymentsStack, key: str) -> bool:
    return status_of(stack, key) is DepositStatus.CREDITED


def ledger_postings(stack: PaymentsStack, transfer_id: str) -> int:
    with stack.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(transfers).where(transfers.c.id == transfer_id)
            ).scalar_one()
        )


async def test_deposit_is_credited_after_n_confirmations_and_not_before(
    scanner: PaymentsStack,
) -> None:
    stack = scanner
    player = new_player(stack.engine)
    payer = funded_key(stack.w3, 10 * ETH)
    # At most what KYC level 0 may deposit a day (1 ETH), or it would be held.
    sent = send_eth(stack.chain, payer, stack.deposit_address(player), ETH)
    key = deposit_id(CHAIN, sent.tx_hash, NATIVE)
    wait_mined(stack.w3, sent.tx_hash)

    def confirmations() -> int | None:
        record = find(stack, key)
        return None if record is None else record.confirmations

    await eventually(lambda: confirmations() == 1, what="the deposit at 1 confirmation")
    stack.mine(CONFIRMATIONS - 2)
    await eventually(
        lambda: confirmations() == CONFIRMATIONS - 1,
        what=f"the deposit at {CONFIRMATIONS - 1} confirmations",
    )
    one_block_short = cash(stack.engine, player, Currency.ETH)
    status_one_block_short = status_of(stack, key)
    stack.mine(1)
    await eventually(lambda: status_of(stack, key) is DepositStatus.CREDITED, what="the credit")

    assert status_one_block_short is DepositStatus.CONFIRMING
    assert one_block_short.posted == 0
    assert cash(stack.engine, player, Currency.ETH).posted == ETH
    assert ledger_postings(stack, key) == 1


async def test_eth_a_contract_wallet_sends_is_credited_once_as_its_own_deposit(
    scanner: PaymentsStack,
) -> None:
    stack = scanner
    player = new_player(stack.engine)
    payer = funded_key(stack.w3, 10 * ETH)
    wallet = deploy_forwarder(stack.chain, payer)

    tx_hash = forward(stack.chain, payer, wallet, stack.deposit_address(player), ETH // 2)
    key = deposit_id(CHAIN, tx_hash, FIRST_INTERNAL_CALL)
    await eventually(lambda: find(stack, key) is not None, what="the internal deposit seen")
    stack.mine(CONFIRMATIONS)
    await eventually(lambda: is_credited(stack, key), what="the internal deposit credited")

    assert key.endswith("-internal1")
    assert cash(stack.engine, player, Currency.ETH).posted == ETH // 2
    assert ledger_postings(stack, key) == 1
    assert find(stack, deposit_id(CHAIN, tx_hash, NATIVE)) is None  # the wallet is not ours
    assert_ledger_whole(stack.engine)


async def test_token_deposit_is_credited_and_dust_is_recorded_but_never_credited(
    scanner: PaymentsStack,
) -> None:
    stack = scanner
    player = new_player(stack.engine)
    address = stack.deposit_address(player)
    payer = funded_key(stack.w3, 10 * ETH)
    mint_usdt(stack, address_of(payer), 1_000 * USDT)
    real = send_token(stack.chain, stack.token, payer, address, 250 * USDT)
    dust = send_token(stack.chain, stack.token, payer, address, USDT // 2)
    wait_mined(stack.w3, dust.tx_hash)
    stack.mine(CONFIRMATIONS)

    real_key = await _key_of(stack, real.tx_hash)
    dust_key = await _key_of(stack, dust.tx_hash)
    await eventually(lambda: status_of(stack, real_key) is DepositStatus.CREDITED, what="credit")

    assert status_of(stack, dust_key) is DepositStatus.DUST
    assert cash(stack.engine, player, Currency.USDT).posted == 250 * USDT
    assert ledger_postings(stack, dust_key) == 0
    assert_ledger_whole(stack.engine)


@pytest.mark.parametrize("depth", range(1, CONFIRMATIONS + 3))
async def test_reorg_while_deposits_wait_never_credits_the_orphan_and_credits_the_remined_once(
    scanner: PaymentsStack, depth: int
) -> None:
    stack = scanner
    kept_player, lost_player = new_player(stack.engine), new_player(stack.engine)
    kept_payer, lost_payer = funded_key(stack.w3, 10 * ETH), funded_key(stack.w3, 10 * ETH)
    stack.mine(depth)  # enough history below the deposits for a reorg this deep
    node_rpc(stack.w3, "evm_setAutomine", False)
    try:
        kept = send_eth(stack.chain, kept_payer, stack.deposit_address(kept_player), ETH)
        lost = send_eth(stack.chain, lost_payer, stack.deposit_address(lost_player), ETH)
        stack.mine(1)
    finally:
        node_rpc(stack.w3, "evm_setAutomine", True)
    kept_key = deposit_id(CHAIN, kept.tx_hash, NATIVE)
    lost_key = deposit_id(CHAIN, lost.tx_hash, NATIVE)
    waiting_depth = min(depth, CONFIRMATIONS - 1)  # still short of N when the reorg hits
    stack.mine(waiting_depth - 1)
    for key in (kept_key, lost_key):
        await eventually(
            partial(at_confirmations, stack, key, waiting_depth),
            what=f"{key} waiting at {waiting_depth} confirmations",
        )

    node_rpc(stack.w3, "anvil_reorg", depth, [])
    await eventually(
        lambda: status_of(stack, kept_key) is DepositStatus.PENDING, what="the reorg noticed"
    )
    stack.chain.broadcast(kept.raw)  # the kept transaction is mined again in a new block
    wait_mined(stack.w3, kept.tx_hash)
    stack.mine(CONFIRMATIONS)
    await eventually(
        lambda: status_of(stack, kept_key) is DepositStatus.CREDITED, what="the re-mined credit"
    )
    await eventually(
        lambda: status_of(stack, lost_key) is DepositStatus.ORPHANED, what="the orphan given up"
    )

    assert cash(stack.engine, kept_player, Currency.ETH).posted == ETH
    assert cash(stack.engine, lost_player, Currency.ETH).posted == 0
    assert ledger_postings(stack, kept_key) == 1
    assert ledger_postings(stack, lost_key) == 0
    assert_ledger_whole(stack.engine)


async def test_a_restarted_scanner_resumes_from_its_last_block_losing_and_repeating_nothing(
    stack: PaymentsStack,
) -> None:
    players = [new_player(stack.engine) for _ in range(4)]
    payer = funded_key(stack.w3, 10 * ETH)
    forget_scanner_cursor(stack.engine)
    await start_scanner(stack, start_block=stack.head() + 1)
    before = [send_eth(stack.chain, payer, stack.deposit_address(p), ETH) for p in players[:2]]
    stack.mine(CONFIRMATIONS)
    first_keys = [deposit_id(CHAIN, tx.tx_hash, NATIVE) for tx in before]
    for key in first_keys:
        await eventually(partial(is_credited, stack, key), what=f"{key} credited")
    await terminate(stack.temporal, scanner_workflow_id(CHAIN))
    stopped_at = _cursor_tip(stack)

    # While no scanner runs: more deposits, and many blocks (several scan batches).
    during = [send_eth(stack.chain, payer, stack.deposit_address(p), ETH) for p in players[2:]]
    stack.mine(3 * stack.settings.eth_scan_batch_blocks)
    # Started "from the head" it would miss them: the saved cursor must win.
    await start_scanner(stack, start_block=stack.head())
    second_keys = [deposit_id(CHAIN, tx.tx_hash, NATIVE) for tx in during]
    for key in second_keys:
        await eventually(partial(is_credited, stack, key), what=f"{key} credited")
    await terminate(stack.temporal, scanner_workflow_id(CHAIN))
    forget_scanner_cursor(stack.engine)

    assert stopped_at is not None and stopped_at < wait_mined(stack.w3, during[0].tx_hash)
    for player in players:
        assert cash(stack.engine, player, Currency.ETH).posted == ETH
    for key in first_keys + second_keys:
        assert ledger_postings(stack, key) == 1


def _cursor_tip(stack: PaymentsStack) -> int | None:
    with stack.engine.connect() as conn:
        tip: int | None = conn.execute(
            select(chain_cursors.c.tip_number).where(chain_cursors.c.chain == CHAIN)
        ).scalar_one_or_none()
    return tip


async def _key_of(stack: PaymentsStack, tx_hash: str) -> str:
    """The deposit key of a token transfer (its log index comes from the block)."""
    receipt = stack.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    (log,) = receipt["logs"]
    return deposit_id(CHAIN, tx_hash, int(log["logIndex"]))


async def test_a_reorg_deeper_than_the_window_halts_the_scanner_until_staff_rescan(
    scanner: PaymentsStack,
) -> None:
    stack = scanner
    window = stack.settings.eth_reorg_window_blocks
    stack.mine(window + 2)
    head = stack.head()
    await eventually(lambda: _cursor_tip(stack) == head, what="the scanner at the head")
    handle = stack.temporal.get_workflow_handle(scanner_workflow_id(CHAIN))

    node_rpc(stack.w3, "anvil_reorg", window + 2, [])
    await eventually(lambda: _status(handle, "halted"), what="the scanner halted")
    player = new_player(stack.engine)
    payer = funded_key(stack.w3, 10 * ETH)
    sent = send_eth(stack.chain, payer, stack.deposit_address(player), ETH)
    stack.mine(CONFIRMATIONS)
    halted_tip = _cursor_tip(stack)
    await handle.signal(
        DepositScannerWorkflow.rescan_from,
        RescanRequest(from_block=head - window, staff_id=str(uuid.uuid4()), reason="deep reorg"),
    )
    key = deposit_id(CHAIN, sent.tx_hash, NATIVE)
    await eventually(partial(is_credited, stack, key), what="the deposit after the rescan")

    assert halted_tip == head
    assert await _status(handle, "scanning")


async def _status(handle: WorkflowHandle[Any, Any], expected: str) -> bool:
    description = await handle.describe()
    return description.typed_search_attributes.get(search_attributes.STATUS) == expected
