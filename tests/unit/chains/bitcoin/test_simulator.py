"""The regtest simulator is load-bearing: it must refuse what bitcoind refuses.

Transactions here are built by hand with bitcoinlib, not by croupier's planner, so the
simulator is judged on transactions croupier would never produce (non-signalling,
wrongly signed, tampered, dust, immature coinbase spends).
"""

from __future__ import annotations

import pytest
from bitcoinlib.keys import Key
from bitcoinlib.transactions import Transaction

from croupier.chains.bitcoin.addresses import Bip84Key, parse_address
from croupier.chains.bitcoin.errors import (
    AlreadyInChain,
    BtcFeeTooLow,
    InputsMissingOrSpent,
    MalformedTransaction,
    MaxFeeExceeded,
    MempoolConflict,
    TransactionRejected,
)
from croupier.chains.bitcoin.signing import RBF_SEQUENCE
from tests.btc_simulator.chain import (
    COINBASE_MATURITY,
    REGTEST_GENESIS_HASH,
    RegtestSimulator,
)
from tests.btc_simulator.encoding import REGTEST_TARGET, dsha256, merkle_root
from tests.btc_simulator.wallets import COINBASE_SAT, NETWORK, miner_address, outsider_key

FINAL_SEQUENCE = 0xFFFF_FFFF  # does not signal BIP-125
ALICE, BOB, CAROL = outsider_key(11), outsider_key(12), outsider_key(13)


def script_of(key: Bip84Key) -> bytes:
    return parse_address(key.address, NETWORK).script_pubkey


def raw_spend(
    spends: list[tuple[str, int, int, Bip84Key]],
    outputs: list[tuple[bytes, int]],
    *,
    sequence: int = RBF_SEQUENCE,
) -> bytes:
    """A P2WPKH spend of (txid, vout, value, key) inputs, each signed by its ``key``."""
    tx = Transaction(network="testnet", witness_type="segwit", version=2)
    for txid, vout, value, key in spends:
        tx.add_input(
            txid,
            vout,
            keys=Key(key.public_key),
            value=value,
            witness_type="segwit",
            sequence=sequence,
        )
    for script, value in outputs:
        tx.add_output(value, lock_script=script)
    for index, (*_, key) in enumerate(spends):
        tx.sign(keys=Key(key.signing_key.reveal()), index_n=index)
    return bytes(tx.raw())


def mature_coinbase(chain: RegtestSimulator, key: Bip84Key) -> str:
    """Mine a block paying ``key`` and bury it until its coinbase is spendable."""
    block_hash = chain.mine(1, key.address)[0]
    chain.mine(COINBASE_MATURITY, miner_address())
    block = chain.block(block_hash)
    assert block is not None
    return block.transactions[0].txid


def send(chain: RegtestSimulator, raw: bytes) -> str:
    return chain.send_raw_transaction(raw, max_fee_rate_sat_kvb=0)


# -- blocks -------------------------------------------------------------------------------


def test_block_zero_is_the_real_regtest_genesis_block(chain: RegtestSimulator) -> None:
    assert chain.block_count() == 0
    assert chain.block_hash(0) == REGTEST_GENESIS_HASH


def test_mined_blocks_are_real_headers_linked_to_their_parents(chain: RegtestSimulator) -> None:
    hashes = chain.mine(3, ALICE.address)
    parent = REGTEST_GENESIS_HASH
    for height, block_hash in enumerate(hashes, start=1):
        stored = chain.stored_block(block_hash)
        assert stored is not None and stored.height == height
        assert stored.header[4:36][::-1].hex() == parent
        assert dsha256(stored.header)[::-1].hex() == block_hash
        assert int.from_bytes(dsha256(stored.header), "little") <= REGTEST_TARGET
        txids = [bytes.fromhex(tx.txid)[::-1] for tx in stored.txs]
        assert stored.header[36:68] == merkle_root(txids)
        parent = block_hash
    assert len(set(hashes)) == 3


def test_a_coinbase_pays_the_subsidy_plus_the_fees_of_its_block(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    raw = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 5000)])
    send(chain, raw)
    block = chain.block(chain.mine(1, CAROL.address)[0])
    assert block is not None
    assert block.transactions[0].outputs[0].value_sat == COINBASE_SAT + 5000


def test_a_coinbase_can_be_spent_only_100_blocks_deep(chain: RegtestSimulator) -> None:
    block_hash = chain.mine(1, ALICE.address)[0]
    chain.mine(COINBASE_MATURITY - 2, miner_address())
    block = chain.block(block_hash)
    assert block is not None
    raw = raw_spend(
        [(block.transactions[0].txid, 0, COINBASE_SAT, ALICE)],
        [(script_of(BOB), COINBASE_SAT - 5000)],
    )
    with pytest.raises(TransactionRejected, match="premature-spend-of-coinbase"):
        send(chain, raw)
    chain.mine(1, miner_address())
    assert send(chain, raw) in chain.mempool_txids()


# -- validation ---------------------------------------------------------------------------


def test_a_spend_signed_by_the_wrong_key_is_refused(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    forged = raw_spend([(txid, 0, COINBASE_SAT, BOB)], [(script_of(BOB), COINBASE_SAT - 5000)])
    with pytest.raises(TransactionRejected, match="Witness program hash mismatch"):
        send(chain, forged)


def test_a_tampered_transaction_fails_signature_verification(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    raw = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), 10**8)])
    tampered = Transaction.parse_bytes(raw, network="testnet")
    tampered.outputs[0].value = 2 * 10**8  # the signature committed to 1 BTC
    with pytest.raises(TransactionRejected, match="mandatory-script-verify-flag-failed"):
        send(chain, bytes(tampered.raw()))


def test_a_spend_of_a_mined_output_is_refused_as_missing_inputs(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    send(
        chain, raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 5000)])
    )
    chain.mine(1, miner_address())
    again = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(CAROL), COINBASE_SAT - 9000)])
    with pytest.raises(InputsMissingOrSpent, match="bad-txns-inputs-missingorspent"):
        send(chain, again)


def test_an_output_that_never_existed_is_a_missing_input(chain: RegtestSimulator) -> None:
    raw = raw_spend([("ab" * 32, 0, 10**8, ALICE)], [(script_of(BOB), 10**8 - 5000)])
    with pytest.raises(InputsMissingOrSpent):
        send(chain, raw)


def test_a_double_spend_of_a_non_signalling_transaction_is_refused(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    spend = [(txid, 0, COINBASE_SAT, ALICE)]
    first = raw_spend(spend, [(script_of(BOB), COINBASE_SAT - 5000)], sequence=FINAL_SEQUENCE)
    send(chain, first)
    second = raw_spend(spend, [(script_of(CAROL), COINBASE_SAT - 50_000)])
    with pytest.raises(MempoolConflict, match="txn-mempool-conflict"):
        send(chain, second)
    assert chain.mempool_txids() == (Transaction.parse_bytes(first).txid,)


def test_a_fee_below_the_minimum_relay_feerate_is_refused(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    raw = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 100)])
    with pytest.raises(BtcFeeTooLow, match=r"min relay fee not met, 100 < 110"):
        send(chain, raw)


def test_outputs_above_the_inputs_are_refused(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    raw = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT + 1)])
    with pytest.raises(TransactionRejected, match="bad-txns-in-belowout"):
        send(chain, raw)


def test_a_dust_output_is_refused(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    outputs = [(script_of(BOB), 293), (script_of(ALICE), COINBASE_SAT - 10_000)]
    with pytest.raises(TransactionRejected, match="dust"):
        send(chain, raw_spend([(txid, 0, COINBASE_SAT, ALICE)], outputs))


def test_garbage_is_refused_as_undecodable(chain: RegtestSimulator) -> None:
    with pytest.raises(MalformedTransaction, match="TX decode failed"):
        send(chain, b"\x02\x00\x00\x00garbage")


def test_the_callers_maximum_feerate_guards_the_broadcast(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    raw = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 110_000)])
    with pytest.raises(MaxFeeExceeded):  # 1000 sat/vB against a 500 sat/vB ceiling
        chain.send_raw_transaction(raw, max_fee_rate_sat_kvb=500_000)
    assert chain.send_raw_transaction(raw, max_fee_rate_sat_kvb=2_000_000)


def test_a_known_transaction_is_accepted_again_and_a_mined_one_is_already_in_chain(
    chain: RegtestSimulator,
) -> None:
    txid = mature_coinbase(chain, ALICE)
    raw = raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 5000)])
    assert send(chain, raw) == send(chain, raw)
    chain.mine(1, miner_address())
    with pytest.raises(AlreadyInChain):
        send(chain, raw)


def test_mempool_outputs_can_be_spent_in_a_chain(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    parent = send(
        chain, raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 5000)])
    )
    child = send(
        chain,
        raw_spend(
            [(parent, 0, COINBASE_SAT - 5000, BOB)], [(script_of(CAROL), COINBASE_SAT - 10_000)]
        ),
    )
    assert chain.mempool_txids() == (parent, child)
    chain.mine(1, miner_address())
    assert chain.mempool_txids() == () and chain.is_confirmed_unspent(child, 0)


# -- BIP-125 replacement ------------------------------------------------------------------


@pytest.fixture
def original(chain: RegtestSimulator) -> tuple[str, list[tuple[str, int, int, Bip84Key]]]:
    """A signalling payment to Bob paying 5000 sat (about 45 sat/vB), and its inputs."""
    txid = mature_coinbase(chain, ALICE)
    spends = [(txid, 0, COINBASE_SAT, ALICE)]
    return send(chain, raw_spend(spends, [(script_of(BOB), COINBASE_SAT - 5000)])), spends


def test_a_replacement_paying_more_evicts_the_original_and_its_descendants(
    chain: RegtestSimulator, original: tuple[str, list[tuple[str, int, int, Bip84Key]]]
) -> None:
    original_txid, spends = original
    child = send(
        chain,
        raw_spend(
            [(original_txid, 0, COINBASE_SAT - 5000, BOB)],
            [(script_of(CAROL), COINBASE_SAT - 8000)],
        ),
    )
    replacement = send(chain, raw_spend(spends, [(script_of(BOB), COINBASE_SAT - 9000)]))
    assert chain.mempool_txids() == (replacement,)
    assert child not in chain.mempool_txids()


def test_a_replacement_at_a_lower_feerate_is_refused(
    chain: RegtestSimulator, original: tuple[str, list[tuple[str, int, int, Bip84Key]]]
) -> None:
    original_txid, spends = original
    cheaper = raw_spend(spends, [(script_of(CAROL), COINBASE_SAT - 4000)])
    with pytest.raises(BtcFeeTooLow, match=r"new feerate .* <= old feerate"):
        send(chain, cheaper)
    assert chain.mempool_txids() == (original_txid,)


def test_a_replacement_must_add_the_relay_fee_for_its_own_size(
    chain: RegtestSimulator, original: tuple[str, list[tuple[str, int, int, Bip84Key]]]
) -> None:
    _, spends = original
    barely = raw_spend(spends, [(script_of(BOB), COINBASE_SAT - 5050)])  # +50 sat < 110
    with pytest.raises(BtcFeeTooLow, match="not enough additional fees to relay"):
        send(chain, barely)


def test_a_replacement_must_outbid_the_evicted_descendants_too(
    chain: RegtestSimulator, original: tuple[str, list[tuple[str, int, int, Bip84Key]]]
) -> None:
    original_txid, spends = original
    send(
        chain,
        raw_spend(
            [(original_txid, 0, COINBASE_SAT - 5000, BOB)],
            [(script_of(CAROL), COINBASE_SAT - 105_000)],
        ),
    )
    short = raw_spend(spends, [(script_of(BOB), COINBASE_SAT - 50_000)])  # < 5000 + 100_000
    with pytest.raises(BtcFeeTooLow, match="less fees than conflicting txs"):
        send(chain, short)


def test_a_replacement_may_not_add_unconfirmed_inputs(chain: RegtestSimulator) -> None:
    alices, carols = mature_coinbase(chain, ALICE), mature_coinbase(chain, CAROL)
    spends = [(alices, 0, COINBASE_SAT, ALICE)]
    send(chain, raw_spend(spends, [(script_of(BOB), COINBASE_SAT - 5000)]))
    pending = send(
        chain,
        raw_spend([(carols, 0, COINBASE_SAT, CAROL)], [(script_of(CAROL), COINBASE_SAT - 5000)]),
    )
    greedy = raw_spend(
        [*spends, (pending, 0, COINBASE_SAT - 5000, CAROL)],
        [(script_of(BOB), 2 * COINBASE_SAT - 50_000)],
    )
    with pytest.raises(TransactionRejected, match="replacement-adds-unconfirmed"):
        send(chain, greedy)


# -- reorganisations ----------------------------------------------------------------------


def test_a_reorg_returns_the_orphaned_transactions_to_the_mempool(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    payment = send(
        chain, raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 5000)])
    )
    orphaned = chain.mine(2, miner_address())
    tip = chain.block_count()
    assert chain.invalidate(2) == (payment,)
    assert chain.block_count() == tip - 2
    assert chain.mempool_txids() == (payment,)
    assert [chain.confirmations_of(h) for h in orphaned] == [-1, -1]
    lookup = chain.raw_transaction(payment)
    assert lookup is not None and lookup.block_hash is None  # the mempool answers first
    competing = chain.mine(3, CAROL.address)
    assert not set(competing) & set(orphaned)
    assert chain.is_confirmed_unspent(payment, 0)


def test_a_dropped_transaction_leaves_only_a_stale_index_entry(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    payment = send(
        chain, raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(BOB), COINBASE_SAT - 5000)])
    )
    chain.mine(1, miner_address())
    assert chain.invalidate(1, drop={payment}) == ()
    chain.mine(2, miner_address(), include=())
    lookup = chain.raw_transaction(payment)
    assert lookup is not None and lookup.block_hash is not None and lookup.confirmations == 0
    assert not chain.is_confirmed_unspent(payment, 0)


def test_a_reorg_drops_spends_of_coinbases_it_disconnects(chain: RegtestSimulator) -> None:
    block_hash = chain.mine(1, ALICE.address)[0]
    chain.mine(COINBASE_MATURITY, miner_address())
    block = chain.block(block_hash)
    assert block is not None
    spend = raw_spend(
        [(block.transactions[0].txid, 0, COINBASE_SAT, ALICE)],
        [(script_of(BOB), COINBASE_SAT - 5000)],
    )
    send(chain, spend)
    chain.invalidate(COINBASE_MATURITY + 1)  # the coinbase itself is gone
    assert chain.mempool_txids() == ()


def test_a_block_mined_with_an_explicit_selection_leaves_the_rest_pending(
    chain: RegtestSimulator,
) -> None:
    first, second = mature_coinbase(chain, ALICE), mature_coinbase(chain, BOB)
    a = send(
        chain,
        raw_spend([(first, 0, COINBASE_SAT, ALICE)], [(script_of(CAROL), COINBASE_SAT - 5000)]),
    )
    b = send(
        chain,
        raw_spend([(second, 0, COINBASE_SAT, BOB)], [(script_of(CAROL), COINBASE_SAT - 5000)]),
    )
    chain.mine(1, miner_address(), include={b})
    assert chain.mempool_txids() == (a,)


# -- the watch-only wallet ----------------------------------------------------------------


def test_listunspent_sees_only_watched_spendable_outputs(chain: RegtestSimulator) -> None:
    txid = mature_coinbase(chain, ALICE)
    chain.mine(1, ALICE.address)  # an immature coinbase: not listed
    assert chain.list_unspent([ALICE.address], min_confirmations=0, limit=10) == ()
    chain.watch_addresses([ALICE.address], rescan_from=0)
    listed = chain.list_unspent([ALICE.address], min_confirmations=0, limit=10)
    assert [(u.txid, u.value_sat) for u in listed] == [(txid, COINBASE_SAT)]
    send(
        chain,
        raw_spend([(txid, 0, COINBASE_SAT, ALICE)], [(script_of(ALICE), COINBASE_SAT - 5000)]),
    )
    pending = chain.list_unspent([ALICE.address], min_confirmations=0, limit=10)
    assert [(u.value_sat, u.confirmations) for u in pending] == [(COINBASE_SAT - 5000, 0)]
    assert chain.list_unspent([ALICE.address], min_confirmations=1, limit=10) == ()


def test_an_import_without_rescan_sees_only_coins_mined_after_it(
    chain: RegtestSimulator,
) -> None:
    before = mature_coinbase(chain, ALICE)
    chain.watch_addresses([ALICE.address])  # "timestamp": "now"
    assert chain.list_unspent([ALICE.address], min_confirmations=0, limit=10) == ()
    assert chain.confirmed_balance(ALICE.address) == COINBASE_SAT  # the chain has it
    after = send(
        chain,
        raw_spend([(before, 0, COINBASE_SAT, ALICE)], [(script_of(ALICE), COINBASE_SAT - 5000)]),
    )
    chain.mine(1, miner_address())
    listed = chain.list_unspent([ALICE.address], min_confirmations=1, limit=10)
    assert [(u.txid, u.value_sat) for u in listed] == [(after, COINBASE_SAT - 5000)]


def test_a_rescan_from_a_time_sees_the_blocks_from_then_and_reimporting_never_forgets(
    chain: RegtestSimulator,
) -> None:
    old = mature_coinbase(chain, ALICE)
    chain.mine(30, miner_address())  # five hours later
    chain.watch_addresses([ALICE.address], rescan_from=chain.tip_time())
    assert chain.list_unspent([ALICE.address], min_confirmations=1, limit=10) == ()
    chain.watch_addresses([ALICE.address], rescan_from=0)
    [seen] = chain.list_unspent([ALICE.address], min_confirmations=1, limit=10)
    chain.watch_addresses([ALICE.address])  # importing again, "now", is harmless
    assert chain.list_unspent([ALICE.address], min_confirmations=1, limit=10) == (seen,)
    assert seen.txid == old
