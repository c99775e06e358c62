"""Requests that can never be valid are refused on construction, before any I/O."""

from __future__ import annotations

import pytest

from croupier.core.errors import InvalidAmount, InvalidInput, UnknownCurrency
from croupier.core.money import MAX_MINOR_UNITS, Currency
from croupier.ledger import (
    AccountKind,
    AccountSpec,
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    TransferType,
    VoidPendingRequest,
)
from croupier.ledger.errors import InvalidTransfer
from croupier.ledger.kinds import HOUSE_SHARDS
from croupier.ledger.requests import MAX_HOLD_TIMEOUT_S, MAX_METADATA_BYTES


def bet(**overrides: object) -> TransferRequest:
    fields: dict[str, object] = {
        "id": "bet-1",
        "debit_account_id": 1,
        "credit_account_id": 2,
        "amount": 100,
        "currency": Currency.ETH,
        "type": TransferType.BET,
    }
    return TransferRequest(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", True, None, MAX_MINOR_UNITS + 1])
def test_amounts_must_be_positive_integers_of_minor_units(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        bet(amount=amount)


def test_the_largest_storable_amount_is_accepted() -> None:
    assert bet(amount=MAX_MINOR_UNITS).amount == MAX_MINOR_UNITS


@pytest.mark.parametrize("transfer_id", ["", "has space", "é", "a/b", "x" * 256, 7])
def test_transfer_ids_are_safe_business_keys(transfer_id: object) -> None:
    with pytest.raises(InvalidTransfer, match="transfer id"):
        bet(id=transfer_id)


def test_a_transfer_needs_two_different_accounts() -> None:
    with pytest.raises(InvalidTransfer, match="same account 1"):
        bet(credit_account_id=1)


@pytest.mark.parametrize("account_id", [0, -3, "1", True])
def test_account_ids_are_positive_integers(account_id: object) -> None:
    with pytest.raises(InvalidTransfer, match="debit account id"):
        bet(debit_account_id=account_id)


def test_currency_and_type_are_parsed_or_refused() -> None:
    assert bet(currency="btc", type="win").currency is Currency.BTC
    with pytest.raises(UnknownCurrency):
        bet(currency="DOGE")
    with pytest.raises(InvalidInput, match="type must be one of"):
        bet(type="jackpot")


def test_metadata_must_be_small_json() -> None:
    assert bet(metadata={"b": 1, "a": [2]}).metadata_json == '{"a":[2],"b":1}'
    with pytest.raises(InvalidTransfer, match="JSON"):
        bet(metadata={"when": object()})
    with pytest.raises(InvalidTransfer, match="JSON"):
        bet(metadata={"x": float("nan")})
    with pytest.raises(InvalidTransfer, match=f"{MAX_METADATA_BYTES} bytes"):
        bet(metadata={"blob": "x" * MAX_METADATA_BYTES})


@pytest.mark.parametrize("timeout_s", [0, -1, 1.5, MAX_HOLD_TIMEOUT_S + 1])
def test_hold_timeouts_are_bounded_whole_seconds(timeout_s: object) -> None:
    with pytest.raises(InvalidInput, match="timeout"):
        HoldRequest("h", 1, 2, 5, Currency.ETH, TransferType.BET, timeout_s=timeout_s)  # type: ignore[arg-type]


def test_a_hold_is_pending_and_a_transfer_is_not() -> None:
    assert HoldRequest("h", 1, 2, 5, Currency.ETH, TransferType.BET).pending
    assert not bet().pending


def test_posts_and_voids_need_their_own_id_and_a_valid_amount() -> None:
    with pytest.raises(InvalidTransfer, match="its own id"):
        PostPendingRequest("hold-1", "hold-1")
    with pytest.raises(InvalidTransfer, match="pending id"):
        VoidPendingRequest("void-1", "bad id")
    with pytest.raises(InvalidAmount):
        PostPendingRequest("post-1", "hold-1", amount=0)


def test_account_specs_take_the_defaults_of_their_kind() -> None:
    player = AccountSpec(AccountKind.PLAYER_CASH, "p1", Currency.ETH)
    house = AccountSpec(AccountKind.HOUSE, "system", Currency.ETH)
    wallet = AccountSpec(AccountKind.HOT_WALLET, "system", "eth")  # type: ignore[arg-type]

    assert (player.debits_must_not_exceed_credits, player.shards) == (True, 1)
    assert (house.debits_must_not_exceed_credits, house.shards) == (False, HOUSE_SHARDS)
    assert wallet.credits_must_not_exceed_debits and wallet.currency is Currency.ETH


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": AccountKind.PLAYER_CASH, "debits_must_not_exceed_credits": False}, "below zero"),
        ({"kind": AccountKind.PLAYER_CASH, "owner": "system"}, "cannot be owned by"),
        (
            {"kind": AccountKind.FEES, "shards": 2, "credits_must_not_exceed_debits": True},
            "sharded",
        ),
        (
            {
                "kind": AccountKind.FEES,
                "debits_must_not_exceed_credits": True,
                "credits_must_not_exceed_debits": True,
            },
            "not both",
        ),
        ({"kind": AccountKind.HOUSE, "shards": 0}, "shards"),
        ({"kind": "casino"}, "account kind must be one of"),
        ({"kind": AccountKind.FEES, "owner": ""}, "owner"),
    ],
)
def test_impossible_accounts_are_refused(fields: dict[str, object], message: str) -> None:
    spec: dict[str, object] = {"owner": "o", "currency": Currency.ETH, **fields}
    with pytest.raises(InvalidInput, match=message):
        AccountSpec(**spec)  # type: ignore[arg-type]
