"""Payment rules from settings: what may be withdrawn, by whom, how much, to where."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from croupier.chains.errors import InvalidAddress
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.payments.errors import AmountBelowMinimum, UnsupportedCurrency
from croupier.payments.keys import deposit_id, withdrawal_id_for
from croupier.payments.rules import PaymentRules

ETH = 10**18
TOKEN = "0x" + "ab" * 20
CHECKSUMMED = "0x52908400098527886E0F7030069857D2E4169EE7"


def rules(**changes: Any) -> PaymentRules:
    return PaymentRules(Settings(_env_file=None, **changes))  # type: ignore[call-arg]


def test_a_valid_request_carries_the_fee_and_a_checksummed_address() -> None:
    checked = rules().check_request("eth", ETH // 100, CHECKSUMMED.lower())

    assert checked.currency is Currency.ETH
    assert checked.address == CHECKSUMMED
    assert checked.fee == 5 * 10**14  # the default 0.0005 ETH
    assert checked.hold_amount == ETH // 100 + checked.fee


def test_the_minimum_itself_is_accepted_and_one_unit_less_refused() -> None:
    minimum = 5 * 10**15  # the default 0.005 ETH
    rules().check_request("ETH", minimum, CHECKSUMMED)

    with pytest.raises(AmountBelowMinimum, match=re.escape("smallest ETH withdrawal is 0.005 ETH")):
        rules().check_request("ETH", minimum - 1, CHECKSUMMED)


def test_a_mistyped_checksum_is_refused_not_corrected() -> None:
    typo = CHECKSUMMED[:-1] + "e"

    with pytest.raises(InvalidAddress, match="bad checksum"):
        rules().check_request("ETH", ETH, typo)


def test_bitcoin_and_an_unconfigured_token_cannot_be_withdrawn_or_deposited() -> None:
    with pytest.raises(UnsupportedCurrency):
        rules().check_request("BTC", 10**6, CHECKSUMMED)
    with pytest.raises(UnsupportedCurrency, match="CROUPIER_USDT_CONTRACT_ADDRESS"):
        rules().check_request("USDT", 100 * 10**6, CHECKSUMMED)
    with pytest.raises(UnsupportedCurrency):
        rules().depositable("BTC")
    assert rules(usdt_contract_address=TOKEN).depositable("usdt") is Currency.USDT


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"confirmations_by_currency": {"ETH": 64}}, "window must be larger"),
        ({"eth_scan_batch_blocks": 10}, "in one batch"),
        ({"withdrawal_approval_expiry_s": 60, "withdrawal_approval_reminder_s": 60}, "longer"),
        ({"withdrawal_fee": {"ETH": "0.0000000000000000001"}}, "decimals"),
        ({"withdrawal_minimum": {"DOGE": "1"}}, "unknown currency"),
    ],
)
def test_payment_settings_refuse_what_could_not_work(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(_env_file=None, **changes)  # type: ignore[call-arg]


def test_confirmations_default_to_the_chain_and_are_overridden_per_currency() -> None:
    settings = Settings(_env_file=None, confirmations_by_currency={"usdt": 20})  # type: ignore[call-arg]

    assert settings.confirmations_for(Currency.ETH) == settings.eth_confirmations
    assert settings.confirmations_for(Currency.USDT) == 20


def test_business_keys_name_native_and_token_deposits_and_retried_withdrawals() -> None:
    tx = "0x" + "AB" * 32
    player = uuid.uuid4()

    assert deposit_id("ethereum", tx, -1) == f"deposit-eth-{tx.lower()}-native"
    assert deposit_id("ethereum", tx, 3) == f"deposit-eth-{tx.lower()}-3"
    assert deposit_id("ethereum", tx, -2) == f"deposit-eth-{tx.lower()}-internal1"
    assert deposit_id("ethereum", tx, -5) == f"deposit-eth-{tx.lower()}-internal4"
    assert withdrawal_id_for(player, "key-1") == withdrawal_id_for(player, "key-1")
    assert withdrawal_id_for(player, "key-1") != withdrawal_id_for(uuid.uuid4(), "key-1")
