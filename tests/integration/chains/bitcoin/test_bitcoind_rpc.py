"""``BitcoindRpc`` over HTTP: auth, the watch-only wallet, "not found" answers, and the
mapping of bitcoind's error codes to typed errors. The server is the simulator in
bitcoind's wire format; no real bitcoind is exercised here."""

from __future__ import annotations

import pytest

from croupier.chains.bitcoin.coins import TxOut, plan_spend
from croupier.chains.bitcoin.errors import (
    AlreadyInChain,
    BtcFeeTooLow,
    InputsMissingOrSpent,
    MalformedTransaction,
    MaxFeeExceeded,
    MempoolConflict,
    RpcCredentialsRejected,
    TransactionRejected,
)
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.rpc import BitcoindRpc, broadcast_error, sat_kvb_to_btc_text
from croupier.chains.bitcoin.signing import sign_spend
from croupier.chains.errors import NodeUnavailable
from croupier.workers.processes import free_port
from tests.btc_simulator.chain import REGTEST_GENESIS_HASH, RegtestSimulator
from tests.btc_simulator.rpc_server import RunningRpcServer
from tests.btc_simulator.wallets import (
    NETWORK,
    POLICY,
    PlayerWallet,
    fund,
    miner_address,
    outsider_key,
)
from tests.integration.chains.bitcoin.conftest import RPC_USER, WATCH_WALLET


def test_chain_reads_match_the_node(chain: RegtestSimulator, rpc: BitcoindRpc) -> None:
    chain.mine(3, miner_address())
    assert rpc.block_count() == 3
    assert rpc.block_hash(0) == REGTEST_GENESIS_HASH
    assert rpc.block_hash(4) is None
    tip = rpc.block_header(rpc.block_hash(3) or "")
    assert tip is not None and (tip.height, tip.confirmations) == (3, 1)
    assert rpc.block(rpc.block_hash(3) or "") == chain.block(chain.block_hash(3) or "")
    assert rpc.block_header("00" * 32) is None and rpc.block("00" * 32) is None
    assert rpc.raw_transaction("00" * 32) is None


def test_amounts_cross_the_wire_exactly(chain: RegtestSimulator, rpc: BitcoindRpc) -> None:
    player = PlayerWallet(outsider_key(3), chain)
    fund(chain, player.key.address)
    watched = outsider_key(4).address
    rpc.watch_addresses([watched])
    sent = player.pay([TxOut(watched, 987_654_321)])
    [unspent] = rpc.list_unspent([watched], min_confirmations=0, limit=10)
    assert (unspent.txid, unspent.value_sat, unspent.confirmations) == (sent.txid, 987_654_321, 0)
    lookup = rpc.raw_transaction(sent.txid)
    assert lookup is not None and lookup.raw == sent.raw and lookup.block_hash is None
    chain.fee_estimate_sat_kvb = 12_345
    assert rpc.estimate_smart_fee(6) == 12_345
    assert rpc.mempool_min_fee() == chain.min_relay_fee_sat_kvb


def test_the_watch_only_wallet_is_created_once_then_loaded(
    rpc_server: RunningRpcServer, rpc: BitcoindRpc
) -> None:
    wallets = rpc_server.rpc.wallets
    assert WATCH_WALLET not in wallets.existing
    rpc.watch_addresses([outsider_key(4).address])
    assert WATCH_WALLET in wallets.existing and WATCH_WALLET in wallets.loaded
    wallets.loaded.clear()  # bitcoind restarted without loading it
    assert rpc.list_unspent([outsider_key(4).address], min_confirmations=0, limit=10) == ()
    assert WATCH_WALLET in wallets.loaded


def test_wrong_credentials_are_a_configuration_error(rpc_server: RunningRpcServer) -> None:
    wrong = BitcoindRpc(
        rpc_server.url, user=RPC_USER, password="wrong", wallet=WATCH_WALLET, timeout_s=5
    )
    with pytest.raises(RpcCredentialsRejected, match="CROUPIER_BTC_RPC_PASSWORD"):
        wrong.block_count()


def test_a_node_that_does_not_answer_is_unavailable() -> None:
    nobody = BitcoindRpc(
        f"http://127.0.0.1:{free_port()}", user="u", password="p", wallet="w", timeout_s=2
    )
    with pytest.raises(NodeUnavailable):
        nobody.block_count()


def test_broadcast_rejections_arrive_typed(chain: RegtestSimulator, rpc: BitcoindRpc) -> None:
    player = PlayerWallet(outsider_key(3), chain)
    fund(chain, player.key.address)
    with pytest.raises(MalformedTransaction):
        rpc.send_raw_transaction(b"\x02\x00\x00\x00", max_fee_rate_sat_kvb=0)
    signed = player.pay([TxOut(outsider_key(4).address, 10**6)], broadcast=False)
    with pytest.raises(MaxFeeExceeded):  # it pays 2 sat/vB
        rpc.send_raw_transaction(signed.raw, max_fee_rate_sat_kvb=1000)
    assert rpc.send_raw_transaction(signed.raw, max_fee_rate_sat_kvb=POLICY.max_fee_rate_sat_kvb)
    chain.mine(1, miner_address())
    with pytest.raises(AlreadyInChain):
        rpc.send_raw_transaction(signed.raw, max_fee_rate_sat_kvb=0)
    respend = plan_spend(
        (),
        [TxOut(outsider_key(5).address, 10**6)],
        change_address=player.key.address,
        target=FeeTarget(2000),
        policy=POLICY,
        required=signed.plan.inputs,
    )
    with pytest.raises(InputsMissingOrSpent):
        rpc.send_raw_transaction(
            sign_spend(respend, [player.key.signing_key], NETWORK).raw, max_fee_rate_sat_kvb=0
        )


FEE, MAX_FEE = BtcFeeTooLow, MaxFeeExceeded


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (-26, "min relay fee not met, 100 < 141", BtcFeeTooLow),
        (-26, "mempool min fee not met, 100 < 2000", BtcFeeTooLow),
        (
            -26,
            "insufficient fee, rejecting replacement ab; new feerate x <= old feerate y",
            BtcFeeTooLow,
        ),
        (-26, "txn-mempool-conflict", MempoolConflict),
        (-26, "dust", TransactionRejected),
        (-25, "bad-txns-inputs-missingorspent", InputsMissingOrSpent),
        (
            -25,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
            MaxFeeExceeded,
        ),
        (-27, "Transaction outputs already in utxo set", AlreadyInChain),
        (-22, "TX decode failed", MalformedTransaction),
    ],
)
def test_bitcoind_reject_reasons_map_to_typed_errors(
    code: int, message: str, expected: type[Exception]
) -> None:
    error = broadcast_error(code, message)
    assert type(error) is expected
    assert error is not None and error.reason == message


def test_feerates_are_sent_as_exact_btc_per_kvb() -> None:
    assert sat_kvb_to_btc_text(1000) == "0.00001000"
    assert sat_kvb_to_btc_text(250_000_000) == "2.50000000"
