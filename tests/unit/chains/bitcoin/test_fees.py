"""Fee arithmetic is integer, rounds against us, and the size estimate bounds the real size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from croupier.chains.bitcoin.addresses import parse_address
from croupier.chains.bitcoin.coins import SpendPlan, TxOut, Utxo
from croupier.chains.bitcoin.fees import (
    FeeTarget,
    btc_to_sat,
    dust_limit_sat,
    fee_for,
    p2wpkh_spend_vsize,
    rate_of,
    sat_vb_to_sat_kvb,
)
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.bitcoin.signing import sign_spend
from croupier.core.errors import InvalidInput
from tests.btc_simulator.wallets import NETWORK, hot_key, outsider_key

TAPROOT = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"


def test_fees_round_up_and_rates_round_down() -> None:
    assert fee_for(141, 1000) == 141
    assert fee_for(141, 1001) == 142  # 141.141 sat rounds up, never under the target
    assert rate_of(142, 141) == 1007  # 1007.09 sat/kvB rounds down, never flattering


def test_sat_per_vbyte_settings_convert_exactly() -> None:
    assert sat_vb_to_sat_kvb(Decimal("0.1")) == 100
    assert sat_vb_to_sat_kvb(Decimal("12.345")) == 12345
    with pytest.raises(InvalidInput):
        sat_vb_to_sat_kvb(Decimal("0.0001"))


def test_btc_amounts_convert_to_satoshis_exactly() -> None:
    assert btc_to_sat(Decimal("0.00000546")) == 546
    assert btc_to_sat(Decimal("20999999.97690000")) == 2_099_999_997_690_000
    assert btc_to_sat(50) == 5_000_000_000
    with pytest.raises(InvalidInput):
        btc_to_sat(Decimal("0.000000001"))


@pytest.mark.parametrize(
    ("address", "dust_sat"),
    [
        ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", 294),  # P2WPKH
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 546),  # P2PKH
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", 540),  # P2SH
        (TAPROOT, 330),  # P2TR
    ],
)
def test_dust_limits_are_bitcoin_cores(address: str, dust_sat: int) -> None:
    script = parse_address(address, BtcNetwork.BITCOIN).script_pubkey
    assert dust_limit_sat(script) == dust_sat


def test_an_op_return_output_has_no_dust_limit() -> None:
    assert dust_limit_sat(bytes.fromhex("6a0568656c6c6f")) == 0


def test_a_replacement_target_pays_the_replaced_fee_plus_relay_for_its_own_size() -> None:
    target = FeeTarget(rate_sat_kvb=2000, replaced_fee_sat=1000, incremental_rate_sat_kvb=1000)
    assert target.fee_for(141) == 1000 + 141  # more than 2 sat/vB * 141 vB = 282
    assert FeeTarget(rate_sat_kvb=20_000, replaced_fee_sat=1000).fee_for(141) == 2820


@pytest.mark.parametrize(("inputs", "outputs"), [(1, 1), (1, 2), (3, 2), (7, 5)])
def test_the_size_estimate_bounds_the_signed_size_tightly(inputs: int, outputs: int) -> None:
    key = hot_key()
    coins = tuple(Utxo(f"{i:064x}", 0, 100_000, key.address, 6) for i in range(1, inputs + 1))
    payees = tuple(TxOut(outsider_key(i).address, 10_000) for i in range(outputs))
    scripts = [parse_address(p.address, NETWORK).script_pubkey for p in payees]
    estimate = p2wpkh_spend_vsize(inputs, scripts)
    fee = inputs * 100_000 - outputs * 10_000
    plan = SpendPlan(coins, payees, None, fee, estimate)
    signed = sign_spend(plan, [key.signing_key], NETWORK)
    # Signatures are 71 or 72 bytes; the estimate assumes 72, a quarter vbyte each.
    assert estimate - inputs <= signed.vsize <= estimate
