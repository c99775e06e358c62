"""Which Bitcoin transactions count as a refill: only the cold address's coins spent,
exactly the approved amount to the hot address, and nothing but change elsewhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from croupier.core.money import Currency
from croupier.sweeps.btc_refills import (
    BitcoinRefillTransaction,
    BtcCoin,
    check_btc_refill_transaction,
)
from croupier.sweeps.errors import RefillTransactionMismatch
from croupier.sweeps.refills import RefillRecord, RefillStatus, is_tx_hash

COLD, HOT, STRANGER = "bcrt1qcold", "bcrt1qhot", "bcrt1qstranger"
AMOUNT = 300_000_000
NOW = datetime(2026, 1, 1, tzinfo=UTC)
RECORD = RefillRecord(
    id=uuid.uuid4(),
    chain="bitcoin",
    currency=Currency.BTC,
    amount=AMOUNT,
    cold_address=COLD,
    hot_address=HOT,
    status=RefillStatus.AWAITING_TRANSACTION,
    requested_by="system:sweep",
    reason="test",
    tx_hash=None,
    expires_at=NOW,
    created_at=NOW,
    approvals=(),
)


def tx(spent: list[BtcCoin], outputs: list[BtcCoin]) -> BitcoinRefillTransaction:
    return BitcoinRefillTransaction("ab" * 32, tuple(spent), tuple(outputs))


def test_the_exact_transfer_with_change_back_to_cold_is_a_refill_whose_fee_is_the_rest() -> None:
    refill = tx(
        [BtcCoin(COLD, 400_000_000), BtcCoin(COLD, 50_000_000)],
        [BtcCoin(HOT, AMOUNT), BtcCoin(COLD, 149_990_000)],
    )

    check_btc_refill_transaction(RECORD, refill)

    assert refill.fee == refill.worst_fee == 10_000


@pytest.mark.parametrize(
    ("spent", "outputs", "says"),
    [
        ([BtcCoin(STRANGER, 4 * AMOUNT)], [BtcCoin(HOT, AMOUNT)], "spends coins of bcrt1qstranger"),
        (
            [BtcCoin(COLD, 4 * AMOUNT), BtcCoin(STRANGER, AMOUNT)],
            [BtcCoin(HOT, AMOUNT), BtcCoin(COLD, 4 * AMOUNT - 1000)],
            "spends coins of bcrt1qstranger",
        ),
        ([BtcCoin(COLD, 4 * AMOUNT)], [BtcCoin(HOT, AMOUNT - 1)], "pays 299999999, not"),
        (
            [BtcCoin(COLD, 4 * AMOUNT)],
            [BtcCoin(HOT, AMOUNT), BtcCoin(HOT, 1)],
            "pays 300000001, not",
        ),
        (
            [BtcCoin(COLD, 4 * AMOUNT)],
            [BtcCoin(HOT, AMOUNT), BtcCoin(STRANGER, 1000)],
            "also pays bcrt1qstranger",
        ),
        ([BtcCoin(COLD, 4 * AMOUNT)], [BtcCoin(HOT, AMOUNT), BtcCoin(None, 0)], "also pays None"),
    ],
)
def test_anything_else_is_refused_saying_why(
    spent: list[BtcCoin], outputs: list[BtcCoin], says: str
) -> None:
    with pytest.raises(RefillTransactionMismatch, match=says):
        check_btc_refill_transaction(RECORD, tx(spent, outputs))


@pytest.mark.parametrize(
    ("chain", "text", "valid"),
    [
        ("bitcoin", "ab" * 32, True),
        ("bitcoin", "AB" * 32, True),
        ("bitcoin", "0x" + "ab" * 32, False),
        ("bitcoin", "ab" * 31, False),
        ("ethereum", "0x" + "ab" * 32, True),
        ("ethereum", "ab" * 32, False),
        ("tron", "ab" * 32, False),
    ],
)
def test_a_transaction_hash_is_written_as_its_chain_writes_it(
    chain: str, text: str, valid: bool
) -> None:
    assert is_tx_hash(chain, text) is valid
