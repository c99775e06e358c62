"""Bitcoin deposits through the chain-neutral scanner and Deposit workflows: credited after
three confirmations and not before, exactly once, whatever reorgs happen while they wait.

Amounts stay below an unverified player's deposit limit (``croupier.compliance.levels``),
which would otherwise hold the deposit instead of crediting it."""

from __future__ import annotations

import uuid
from functools import partial

import pytest
from sqlalchemy import func, select

from croupier.chains.bitcoin.coins import TxOut
from croupier.core.money import Currency
from croupier.ledger.schema import transfers
from croupier.payments.deposits import DepositRecord, get_deposit
from croupier.payments.errors import DepositNotFound
from croupier.payments.keys import deposit_id
from croupier.payments.states import DepositStatus
from tests.integration.payments.conftest import assert_ledger_whole, cash, eventually, new_player
from tests.integration.payments_btc.conftest import BTC, CHAIN, CONFIRMATIONS, BtcStack


def find(stack: BtcStack, key: str) -> DepositRecord | None:
    try:
        return get_deposit(stack.engine, key)
    except DepositNotFound:
        return None


def status_of(stack: BtcStack, key: str) -> DepositStatus | None:
    record = find(stack, key)
    return None if record is None else record.status


def is_credited(stack: BtcStack, key: str) -> bool:
    return status_of(stack, key) is DepositStatus.CREDITED


def at_confirmations(stack: BtcStack, key: str, confirmations: int) -> bool:
    record = find(stack, key)
    return record is not None and record.confirmations == confirmations


def ledger_postings(stack: BtcStack, transfer_id: str) -> int:
    with stack.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(transfers).where(transfers.c.id == transfer_id)
            ).scalar_one()
        )


async def deposit(stack: BtcStack, user_id: uuid.UUID, amount_sat: int) -> str:
    """The payer sends ``amount_sat`` to the player's deposit address (output 0); returns
    the deposit's key, ``deposit-btc-<txid>-0``."""
    sent = stack.payer.pay([TxOut(await stack.deposit_address(user_id), amount_sat)])
    return deposit_id(CHAIN, sent.txid, 0)


async def test_a_btc_deposit_is_credited_after_three_confirmations_and_not_before(
    scanner: BtcStack,
) -> None:
    stack = scanner
    player = new_player(stack.engine)
    key = await deposit(stack, player, BTC // 100)
    stack.mine(1)

    await eventually(partial(at_confirmations, stack, key, 1), what="the deposit at 1 conf")
    stack.mine(CONFIRMATIONS - 2)
    await eventually(
        partial(at_confirmations, stack, key, CONFIRMATIONS - 1),
        what=f"the deposit at {CONFIRMATIONS - 1} confirmations",
    )
    one_block_short = cash(stack.engine, player, Currency.BTC)
    status_one_block_short = status_of(stack, key)
    stack.mine(1)
    await eventually(lambda: status_of(stack, key) is DepositStatus.CREDITED, what="the credit")

    assert key.startswith("deposit-btc-") and key.endswith("-0")
    assert status_one_block_short is DepositStatus.CONFIRMING
    assert one_block_short.posted == 0
    assert cash(stack.engine, player, Currency.BTC).posted == BTC // 100
    assert ledger_postings(stack, key) == 1
    assert_ledger_whole(stack.engine)


async def test_two_outputs_of_one_transaction_to_two_players_are_two_deposits(
    scanner: BtcStack,
) -> None:
    stack = scanner
    first, second = new_player(stack.engine), new_player(stack.engine)
    sent = stack.payer.pay(
        [
            TxOut(await stack.deposit_address(first), 300_000),
            TxOut(await stack.deposit_address(second), 500_000),
        ]
    )
    stack.mine(CONFIRMATIONS)
    keys = [deposit_id(CHAIN, sent.txid, vout) for vout in (0, 1)]
    for key in keys:
        await eventually(partial(is_credited, stack, key), what=f"{key} credited")

    assert cash(stack.engine, first, Currency.BTC).posted == 300_000
    assert cash(stack.engine, second, Currency.BTC).posted == 500_000
    assert [ledger_postings(stack, key) for key in keys] == [1, 1]


@pytest.mark.parametrize("depth", range(1, CONFIRMATIONS + 3))
async def test_a_btc_reorg_never_credits_the_orphan_and_credits_the_remined_deposit_once(
    scanner: BtcStack, depth: int
) -> None:
    stack = scanner
    kept_player, lost_player = new_player(stack.engine), new_player(stack.engine)
    stack.mine(depth)  # enough history below the deposits for a reorg this deep
    kept = await deposit(stack, kept_player, BTC // 200)
    lost = await deposit(stack, lost_player, BTC // 200)
    stack.mine(1)
    waiting_depth = min(depth, CONFIRMATIONS - 1)  # still short of N when the reorg hits
    if waiting_depth > 1:
        stack.mine(waiting_depth - 1)
    for key in (kept, lost):
        await eventually(
            partial(at_confirmations, stack, key, waiting_depth),
            what=f"{key} waiting at {waiting_depth} confirmations",
        )

    # A competing branch, one block longer, without either deposit: the kept one goes
    # back to the mempool, the lost one is gone (its payer double-spent it elsewhere).
    lost_txid = lost.split("-")[2]
    stack.chain.invalidate(depth, drop=[lost_txid])
    stack.mine(depth + 1, include=[])
    await eventually(
        lambda: status_of(stack, kept) is DepositStatus.PENDING, what="the reorg noticed"
    )
    stack.mine(1)  # the kept transaction is mined again, in another block
    stack.mine(CONFIRMATIONS - 1)
    await eventually(
        lambda: status_of(stack, kept) is DepositStatus.CREDITED, what="the re-mined credit"
    )
    await eventually(
        lambda: status_of(stack, lost) is DepositStatus.ORPHANED, what="the orphan given up"
    )

    assert cash(stack.engine, kept_player, Currency.BTC).posted == BTC // 200
    assert cash(stack.engine, lost_player, Currency.BTC).posted == 0
    assert ledger_postings(stack, kept) == 1
    assert ledger_postings(stack, lost) == 0
    assert_ledger_whole(stack.engine)
