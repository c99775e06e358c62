"""EIP-1559 building, pricing and replacement rules, and signing with the sender's key."""

from __future__ import annotations

import logging

import pytest
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from hypothesis import given
from hypothesis import strategies as st

from croupier.chains.base import FeeEstimate
from croupier.chains.errors import InvalidAddress
from croupier.chains.ethereum.tx import (
    MAX_GAS_LIMIT,
    NATIVE_TRANSFER_GAS,
    WEI_PER_GAS,
    FeeDecision,
    Fees,
    address_of,
    encode_erc20_transfer,
    erc20_transfer,
    market_fees,
    native_transfer,
    replacement_fees,
    sign,
    with_gas_margin,
)
from croupier.chains.keys import InvalidKey, SigningKey
from croupier.core.errors import InvalidAmount

GWEI = 10**9
KEY = SigningKey.from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
SENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_KEY = SigningKey.from_hex(
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
)
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
FEES = Fees(max_fee_per_gas=30 * GWEI, max_priority_fee_per_gas=2 * GWEI)

fee_values = st.integers(min_value=1, max_value=10**15)


def estimate(base_fee_wei: int, priority_fee_wei: int = 0) -> FeeEstimate:
    return FeeEstimate("ethereum", WEI_PER_GAS, base_fee_wei, priority_fee_wei)


# -- fees -----------------------------------------------------------------------------------


@given(max_fee=fee_values, tip=fee_values)
def test_a_bump_raises_both_fees_by_at_least_ten_percent(max_fee: int, tip: int) -> None:
    fees = Fees(max_fee_per_gas=max(max_fee, tip), max_priority_fee_per_gas=min(max_fee, tip))

    bumped = fees.bumped()

    assert bumped.max_fee_per_gas * 100 >= fees.max_fee_per_gas * 110
    assert bumped.max_priority_fee_per_gas * 100 >= fees.max_priority_fee_per_gas * 110
    assert bumped.max_fee_per_gas > fees.max_fee_per_gas
    assert bumped.covers_replacement_of(fees)


def test_a_bump_of_a_zero_tip_still_raises_it() -> None:
    bumped = Fees(max_fee_per_gas=100, max_priority_fee_per_gas=0).bumped()

    assert bumped == Fees(max_fee_per_gas=110, max_priority_fee_per_gas=1)


def test_fees_that_raise_only_one_field_do_not_cover_a_replacement() -> None:
    only_max_fee = Fees(max_fee_per_gas=40 * GWEI, max_priority_fee_per_gas=2 * GWEI)

    assert not only_max_fee.covers_replacement_of(FEES)


def test_a_tip_above_the_max_fee_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds max fee"):
        Fees(max_fee_per_gas=GWEI, max_priority_fee_per_gas=2 * GWEI)


def test_market_fees_pay_twice_the_base_fee_plus_the_tip() -> None:
    decision = market_fees(estimate(10 * GWEI), priority_fee_wei=GWEI, max_fee_cap_wei=100 * GWEI)

    assert decision == FeeDecision(Fees(max_fee_per_gas=21 * GWEI, max_priority_fee_per_gas=GWEI))


def test_market_fees_take_the_nodes_tip_when_it_is_higher_than_ours() -> None:
    decision = market_fees(
        estimate(10 * GWEI, 3 * GWEI), priority_fee_wei=GWEI, max_fee_cap_wei=100 * GWEI
    )

    assert decision.fees is not None
    assert decision.fees.max_priority_fee_per_gas == 3 * GWEI


def test_market_fees_are_clipped_to_the_cap_while_base_fee_plus_tip_fits() -> None:
    decision = market_fees(estimate(40 * GWEI), priority_fee_wei=GWEI, max_fee_cap_wei=50 * GWEI)

    assert decision.fees == Fees(max_fee_per_gas=50 * GWEI, max_priority_fee_per_gas=GWEI)


def test_market_fees_say_wait_rather_than_overpay_above_the_cap() -> None:
    decision = market_fees(estimate(60 * GWEI), priority_fee_wei=GWEI, max_fee_cap_wei=50 * GWEI)

    assert decision.should_wait
    assert decision.fees is None
    assert decision.wait_reason is not None and "exceeds the cap" in decision.wait_reason


def test_a_replacement_bumps_the_stuck_fees_when_the_market_is_calm() -> None:
    calm = market_fees(estimate(GWEI), priority_fee_wei=GWEI, max_fee_cap_wei=100 * GWEI)

    decision = replacement_fees(FEES, calm, max_fee_cap_wei=100 * GWEI)

    assert decision.fees == Fees(max_fee_per_gas=33 * GWEI, max_priority_fee_per_gas=2_200_000_000)


def test_a_replacement_follows_the_market_when_it_moved_more_than_the_bump() -> None:
    hot = market_fees(estimate(40 * GWEI), priority_fee_wei=5 * GWEI, max_fee_cap_wei=100 * GWEI)

    decision = replacement_fees(FEES, hot, max_fee_cap_wei=100 * GWEI)

    assert decision.fees == Fees(max_fee_per_gas=85 * GWEI, max_priority_fee_per_gas=5 * GWEI)


def test_a_replacement_that_would_cross_the_cap_waits() -> None:
    calm = market_fees(estimate(GWEI), priority_fee_wei=GWEI, max_fee_cap_wei=31 * GWEI)

    decision = replacement_fees(FEES, calm, max_fee_cap_wei=31 * GWEI)

    assert decision.should_wait


# -- building -------------------------------------------------------------------------------


def test_a_native_transfer_costs_exactly_the_intrinsic_gas() -> None:
    tx = native_transfer(
        chain_id=31337, sender=SENDER, nonce=7, to=RECIPIENT, amount_wei=5, fees=FEES
    )

    assert tx.gas_limit == NATIVE_TRANSFER_GAS
    assert tx.to == RECIPIENT
    assert tx.value_wei == 5
    assert tx.data == b""


def test_an_erc20_transfer_calls_transfer_on_the_token_with_no_value() -> None:
    tx = erc20_transfer(
        chain_id=31337,
        sender=SENDER,
        nonce=0,
        token=TOKEN,
        to=RECIPIENT,
        amount_minor=1_500_000,
        gas_limit=60_000,
        fees=FEES,
    )

    assert tx.to == TOKEN
    assert tx.value_wei == 0
    assert tx.data == bytes.fromhex(
        "a9059cbb" + "000000000000000000000000" + RECIPIENT[2:].lower() + f"{1_500_000:064x}"
    )


def test_calldata_refuses_a_zero_or_negative_token_amount() -> None:
    for amount in (0, -1):
        with pytest.raises(InvalidAmount):
            encode_erc20_transfer(RECIPIENT, amount)


def test_building_refuses_a_recipient_with_a_bad_checksum() -> None:
    with pytest.raises(InvalidAddress, match="bad checksum"):
        native_transfer(
            chain_id=1,
            sender=SENDER,
            nonce=0,
            to=RECIPIENT.swapcase().replace("0X", "0x"),
            amount_wei=1,
            fees=FEES,
        )


def test_gas_margin_adds_twenty_percent_and_is_bounded() -> None:
    assert with_gas_margin(50_000) == 60_000
    with pytest.raises(ValueError, match="above our limit"):
        with_gas_margin(MAX_GAS_LIMIT)


def test_a_replacement_keeps_everything_but_the_fees() -> None:
    tx = native_transfer(chain_id=1, sender=SENDER, nonce=9, to=RECIPIENT, amount_wei=1, fees=FEES)

    replaced = tx.replaced_with(FEES.bumped())

    assert replaced.nonce == 9
    assert (replaced.to, replaced.value_wei, replaced.data) == (tx.to, tx.value_wei, tx.data)
    assert replaced.fees == FEES.bumped()


def test_a_replacement_with_less_than_ten_percent_bump_is_refused() -> None:
    tx = native_transfer(chain_id=1, sender=SENDER, nonce=9, to=RECIPIENT, amount_wei=1, fees=FEES)
    timid = Fees(
        max_fee_per_gas=FEES.max_fee_per_gas * 105 // 100, max_priority_fee_per_gas=3 * GWEI
    )

    with pytest.raises(ValueError, match="do not raise both"):
        tx.replaced_with(timid)


# -- signing --------------------------------------------------------------------------------


def test_signing_produces_the_transaction_that_was_built() -> None:
    tx = native_transfer(
        chain_id=31337, sender=SENDER, nonce=4, to=RECIPIENT, amount_wei=10**18, fees=FEES
    )

    signed = sign(tx, KEY)

    decoded = TypedTransaction.from_bytes(HexBytes(signed.raw)).as_dict()
    assert Account.recover_transaction(signed.raw) == SENDER
    assert signed.tx_hash == "0x" + keccak(signed.raw).hex()
    assert decoded["type"] == 2
    assert decoded["chainId"] == 31337
    assert decoded["nonce"] == 4
    assert decoded["value"] == 10**18
    assert decoded["maxFeePerGas"] == FEES.max_fee_per_gas
    assert decoded["maxPriorityFeePerGas"] == FEES.max_priority_fee_per_gas


def test_signing_with_another_accounts_key_is_refused() -> None:
    tx = native_transfer(chain_id=1, sender=SENDER, nonce=0, to=RECIPIENT, amount_wei=1, fees=FEES)

    with pytest.raises(InvalidKey, match="does not belong"):
        sign(tx, OTHER_KEY)


def test_signing_logs_nothing_about_the_key(caplog: pytest.LogCaptureFixture) -> None:
    tx = native_transfer(chain_id=1, sender=SENDER, nonce=0, to=RECIPIENT, amount_wei=1, fees=FEES)

    with caplog.at_level(logging.DEBUG):
        sign(tx, KEY)
        with pytest.raises(InvalidKey) as refused:
            sign(tx, OTHER_KEY)

    secret = KEY.reveal().hex()
    assert secret not in caplog.text
    assert OTHER_KEY.reveal().hex() not in str(refused.value)
    assert address_of(KEY) == SENDER
