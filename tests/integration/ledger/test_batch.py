"""transfer_batch: many movements in one statement, in order, all or nothing."""

from __future__ import annotations

import pytest

from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.core.money import Currency
from croupier.ledger import (
    HoldRequest,
    TransferRequest,
    TransferStatus,
    TransferType,
    balance,
    transfer_batch,
)
from croupier.ledger.errors import AccountNotFound, CurrencyMismatch, InvalidTransfer
from croupier.ledger.posting import MAX_BATCH_SIZE
from tests.integration.ledger.conftest import Books

ETH = Currency.ETH


def test_a_batch_posts_every_item_in_order(books: Books) -> None:
    player = books.player()
    items: list[TransferRequest | HoldRequest] = [
        TransferRequest(books.tid("dep"), books.bank.id, player.id, 100, ETH, TransferType.DEPOSIT),
        TransferRequest(books.tid("bet"), player.id, books.house.id, 60, ETH, TransferType.BET),
        HoldRequest(
            books.tid("stake"), player.id, books.house.id, 40, ETH, TransferType.BET, timeout_s=30
        ),
    ]

    results = transfer_batch(books.engine, items)

    assert [r.id for r in results] == [item.id for item in items]
    assert [r.status for r in results] == [
        TransferStatus.POSTED,
        TransferStatus.POSTED,
        TransferStatus.PENDING,
    ]
    assert results[2].expires_at is not None and not any(r.replayed for r in results)
    final = balance(books.engine, player.id)
    assert (final.posted, final.pending, final.available) == (40, 40, 0)


def test_each_item_sees_only_the_items_before_it(books: Books) -> None:
    """Spending first and depositing later is refused although the net would be fine."""
    player = books.player()
    items = [
        TransferRequest(books.tid("bet"), player.id, books.house.id, 60, ETH, TransferType.BET),
        TransferRequest(books.tid("dep"), books.bank.id, player.id, 100, ETH, TransferType.DEPOSIT),
    ]
    before = books.state()

    with pytest.raises(InsufficientFunds, match=rf"item 1 .*account {player.id} has 0 available"):
        transfer_batch(books.engine, items)

    assert books.state() == before


def test_one_refused_item_refuses_the_whole_batch(books: Books) -> None:
    rich, poor = books.player("rich", funded=1_000), books.player("poor", funded=5)
    items = [
        TransferRequest(books.tid("bet"), rich.id, books.house.id, 500, ETH, TransferType.BET),
        TransferRequest(books.tid("bet"), poor.id, books.house.id, 6, ETH, TransferType.BET),
    ]
    before = books.state()

    with pytest.raises(InsufficientFunds, match=rf"item 2 \(transfer {items[1].id}\)"):
        transfer_batch(books.engine, items)

    assert books.state() == before


def test_a_batch_replays_items_it_already_posted_and_posts_the_new_ones(books: Books) -> None:
    player = books.player(funded=1_000)
    first = [
        TransferRequest(books.tid("bet"), player.id, books.house.id, 10, ETH, TransferType.BET)
        for _ in range(3)
    ]
    transfer_batch(books.engine, first)
    extra = TransferRequest(books.tid("bet"), player.id, books.house.id, 7, ETH, TransferType.BET)

    results = transfer_batch(books.engine, [*first, extra])

    assert [r.replayed for r in results] == [True, True, True, False]
    assert books.available(player) == 1_000 - 37


def test_a_batch_reusing_an_id_with_other_content_is_refused(books: Books) -> None:
    player = books.player(funded=1_000)
    used = TransferRequest(books.tid("bet"), player.id, books.house.id, 10, ETH, TransferType.BET)
    transfer_batch(books.engine, [used])
    changed = TransferRequest(used.id, player.id, books.house.id, 11, ETH, TransferType.BET)
    fresh = TransferRequest(books.tid("bet"), player.id, books.house.id, 1, ETH, TransferType.BET)
    before = books.state()

    with pytest.raises(IdempotencyConflict, match=rf"item 2: transfer id {used.id}"):
        transfer_batch(books.engine, [fresh, changed])

    assert books.state() == before


def test_a_batch_with_an_unknown_account_or_wrong_currency_is_refused(books: Books) -> None:
    player = books.player(funded=1_000)
    before = books.state()

    with pytest.raises(AccountNotFound, match=r"item 1 .*account 4611686018427387904"):
        transfer_batch(
            books.engine,
            [TransferRequest(books.tid("x"), player.id, 2**62, 1, ETH, TransferType.BET)],
        )
    with pytest.raises(CurrencyMismatch, match=rf"account {player.id} holds ETH, not BTC"):
        transfer_batch(
            books.engine,
            [
                TransferRequest(
                    books.tid("x"), player.id, books.house.id, 1, Currency.BTC, TransferType.BET
                )
            ],
        )

    assert books.state() == before


def test_batches_are_bounded_and_ids_unique_within_them(books: Books) -> None:
    player = books.player(funded=10)
    item = TransferRequest(books.tid("bet"), player.id, books.house.id, 1, ETH, TransferType.BET)

    with pytest.raises(InvalidTransfer, match="appears more than once"):
        transfer_batch(books.engine, [item, item])
    with pytest.raises(InvalidTransfer, match=f"1 to {MAX_BATCH_SIZE} items"):
        transfer_batch(books.engine, [])
    with pytest.raises(InvalidTransfer, match=f"1 to {MAX_BATCH_SIZE} items"):
        transfer_batch(books.engine, [item] * (MAX_BATCH_SIZE + 1))
