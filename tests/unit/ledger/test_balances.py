"""How the four TigerBeetle totals read as a balance, and statement cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from croupier.core.errors import InvalidInput
from croupier.core.money import Currency
from croupier.ledger import AccountKind, Balance
from croupier.ledger.balances import _decode_cursor, _encode_cursor


def totals(kind: AccountKind, dp: int, cp: int, dpe: int, cpe: int) -> Balance:
    return Balance(1, kind, Currency.ETH, dp, cp, dpe, cpe)


def test_a_player_balance_is_credits_minus_debits_less_what_is_held() -> None:
    player = totals(AccountKind.PLAYER_CASH, dp=300, cp=1_000, dpe=200, cpe=50)

    assert (player.posted, player.pending, player.incoming, player.available) == (700, 200, 50, 500)


def test_a_wallet_balance_is_debits_minus_credits() -> None:
    wallet = totals(AccountKind.HOT_WALLET, dp=1_000, cp=300, dpe=50, cpe=200)

    assert (wallet.posted, wallet.pending, wallet.incoming, wallet.available) == (700, 200, 50, 500)


def test_the_house_can_be_down() -> None:
    assert totals(AccountKind.HOUSE, dp=500, cp=200, dpe=0, cpe=0).posted == -300


def test_cursors_round_trip() -> None:
    at = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

    assert _decode_cursor(_encode_cursor(at, 42)) == (at, 42)


@pytest.mark.parametrize("cursor", ["", "!!!", "bm8tc2VwYXJhdG9y", "MjAyNS0wMS0wMXwxMg"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        _decode_cursor(cursor)
