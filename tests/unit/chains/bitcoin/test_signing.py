"""Signing: P2WPKH with opt-in RBF on every input, deterministic, keys matched by address."""

from __future__ import annotations

import pytest
from bitcoinlib.transactions import Transaction

from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.coins import TxOut, plan_spend, plan_sweep
from croupier.chains.bitcoin.errors import MissingSigningKey
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.bitcoin.signing import (
    RBF_SEQUENCE,
    TX_VERSION,
    SignedTransaction,
    sign_spend,
    signing_key_from_wif,
    txid_of,
)
from croupier.chains.keys import InvalidKey
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.wallets import (
    NETWORK,
    POLICY,
    PlayerWallet,
    deposit_key,
    fund,
    hot_key,
    outsider_key,
)


def withdrawal(
    client: BitcoinClient, hot_address: str, amount_sat: int = 1_000_000
) -> SignedTransaction:
    plan = plan_spend(
        client.utxos([hot_address]),
        [TxOut(outsider_key(1).address, amount_sat)],
        change_address=hot_address,
        target=FeeTarget(client.fee_rate_sat_kvb()),
        policy=POLICY,
    )
    return sign_spend(plan, [hot_key().signing_key], NETWORK)


def test_a_signed_withdrawal_is_accepted_by_the_node(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str
) -> None:
    signed = withdrawal(client, hot_address)
    assert client.broadcast(signed.raw) == signed.txid
    assert chain.mempool_txids() == (signed.txid,)
    assert chain.mempool_fee(signed.txid) == signed.fee_sat


def test_every_input_signals_replaceability(client: BitcoinClient, hot_address: str) -> None:
    signed = withdrawal(client, hot_address, amount_sat=60 * 10**8)  # needs both coins
    parsed = Transaction.parse_bytes(signed.raw)
    assert len(parsed.inputs) == 2
    assert all(tx_input.sequence == RBF_SEQUENCE for tx_input in parsed.inputs)
    assert parsed.version_int == TX_VERSION
    assert parsed.locktime == 0


def test_signing_the_same_plan_twice_gives_the_same_transaction(
    client: BitcoinClient, hot_address: str
) -> None:
    first, second = withdrawal(client, hot_address), withdrawal(client, hot_address)
    assert first.raw_hex == second.raw_hex and first.txid == second.txid == txid_of(first.raw)


def test_the_fee_paid_is_at_least_the_target_rate(client: BitcoinClient, hot_address: str) -> None:
    signed = withdrawal(client, hot_address)
    assert signed.fee_rate_sat_kvb >= client.fee_rate_sat_kvb()
    assert signed.vsize <= signed.plan.vsize_estimate


def test_an_input_without_its_key_is_refused(client: BitcoinClient, hot_address: str) -> None:
    plan = withdrawal(client, hot_address).plan
    with pytest.raises(MissingSigningKey, match=hot_address):
        sign_spend(plan, [outsider_key(1).signing_key], NETWORK)


def test_a_sweep_signs_each_input_with_its_own_addresss_key(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str
) -> None:
    player = PlayerWallet(outsider_key(2), chain)
    fund(chain, player.key.address)
    player.pay([TxOut(deposit_key(0).address, 300_000), TxOut(deposit_key(1).address, 400_000)])
    chain.mine(1, outsider_key(0).address)
    deposits = [deposit_key(0).address, deposit_key(1).address]
    client.watch(deposits, rescan_from=0)  # the coins arrived before the import
    plan = plan_sweep(client.utxos(deposits), hot_address, target=FeeTarget(1000), policy=POLICY)
    keys = [deposit_key(1).signing_key, deposit_key(0).signing_key, hot_key().signing_key]
    signed = sign_spend(plan, keys, NETWORK)
    assert len(plan.inputs) == 2 and plan.change is None
    assert plan.payments == (TxOut(hot_address, 700_000 - plan.fee_sat),)
    assert client.broadcast(signed.raw) == signed.txid


def test_wif_keys_of_another_network_or_uncompressed_are_refused() -> None:
    mainnet_wif = "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d"
    with pytest.raises(InvalidKey, match="not for regtest"):
        signing_key_from_wif(mainnet_wif, BtcNetwork.REGTEST)
    with pytest.raises(InvalidKey, match="compressed"):
        signing_key_from_wif(
            "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", BtcNetwork.BITCOIN
        )


def test_a_bad_wif_error_never_repeats_the_key() -> None:
    typo = "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9e"
    with pytest.raises(InvalidKey) as raised:
        signing_key_from_wif(typo, BtcNetwork.BITCOIN)
    assert typo not in str(raised.value)
