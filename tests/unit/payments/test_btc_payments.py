"""Bitcoin in the payment rules and the stored form of a signed spend."""

from __future__ import annotations

from typing import Any

import pytest

from croupier.chains.bitcoin.coins import SpendPlan, TxOut, Utxo
from croupier.chains.errors import InvalidAddress
from croupier.core.money import Currency, native_currency
from croupier.core.settings import Settings
from croupier.payments.btc_sends import plan_from_record, plan_record
from croupier.payments.errors import AmountBelowMinimum, UnsupportedCurrency
from croupier.payments.keys import deposit_id, scanner_workflow_id, sender_workflow_id
from croupier.payments.rules import PaymentRules
from tests.btc_simulator.wallets import deposit_key, hot_key

NODE = "http://127.0.0.1:18443"
MAINNET_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def rules(**changes: Any) -> PaymentRules:
    return PaymentRules(Settings(_env_file=None, **changes))  # type: ignore[call-arg]


def test_btc_needs_a_node_before_it_can_be_deposited_or_withdrawn() -> None:
    with pytest.raises(UnsupportedCurrency, match="CROUPIER_BTC_RPC_URL"):
        rules().depositable("BTC")
    with pytest.raises(UnsupportedCurrency, match="CROUPIER_BTC_RPC_URL"):
        rules().check_request("BTC", 10**6, deposit_key(1).address)

    assert rules(btc_rpc_url=NODE).depositable("btc") is Currency.BTC


def test_a_btc_withdrawal_takes_a_regtest_address_in_its_canonical_form() -> None:
    address = deposit_key(1).address

    checked = rules(btc_rpc_url=NODE).check_request("BTC", 10**6, address.upper())

    assert (checked.currency, checked.amount, checked.address) == (Currency.BTC, 10**6, address)
    assert checked.fee == 2_000  # the default 0.00002 BTC


@pytest.mark.parametrize(
    "address", [MAINNET_ADDRESS, "0x52908400098527886E0F7030069857D2E4169EE7", "bcrt1qnotanaddress"]
)
def test_a_btc_withdrawal_to_another_network_or_chain_is_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        rules(btc_rpc_url=NODE).check_request("BTC", 10**6, address)


def test_a_btc_withdrawal_below_the_minimum_is_refused() -> None:
    with pytest.raises(AmountBelowMinimum, match=r"0\.0002 BTC"):
        rules(btc_rpc_url=NODE).check_request("BTC", 19_999, deposit_key(1).address)


def test_bitcoin_keys_and_its_network_fee_currency() -> None:
    txid = "ab" * 32
    assert deposit_id("bitcoin", txid, 1) == f"deposit-btc-{txid}-1"
    assert scanner_workflow_id("bitcoin") == "deposit-scanner-btc"
    assert sender_workflow_id("bitcoin", "bcrt1qxyz") == "hot-wallet-btc-bcrt1qxyz"
    assert native_currency("bitcoin") is Currency.BTC
    assert native_currency("ethereum") is Currency.ETH


def test_a_stored_spend_plan_reads_back_exactly() -> None:
    coin = Utxo("cd" * 32, 3, 5_000_000_000, hot_key().address, confirmations=7)
    plan = SpendPlan(
        inputs=(coin,),
        payments=(TxOut(deposit_key(2).address, 123_456),),
        change=TxOut(hot_key().address, 5_000_000_000 - 123_456 - 1_410),
        fee_sat=1_410,
        vsize_estimate=141,
    )

    record = plan_record(plan)

    assert plan_from_record(record) == plan
    assert record["fee_sat"] == "1410" and record["inputs"][0]["value_sat"] == "5000000000"
