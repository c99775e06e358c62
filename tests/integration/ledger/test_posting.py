"""Transfers, holds, posts and voids against the real database: what moves, what is
refused, and that a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.core.money import Currency
from croupier.ledger import (
    AccountKind,
    HoldRequest,
    PostPendingRequest,
    TransferPhase,
    TransferRequest,
    TransferStatus,
    TransferType,
    VoidPendingRequest,
    balance,
    close_account,
    get_account,
    hold,
    post_pending,
    transfer,
    void_pending,
)
from croupier.ledger.errors import (
    AccountClosed,
    AccountNotEmpty,
    AccountNotFound,
    CurrencyMismatch,
    NotAPendingTransfer,
    PartialPostExceedsHold,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingTransferNotFound,
)
from tests.integration.ledger.conftest import Books

BET = TransferType.BET
ETH = Currency.ETH


def bet(books: Books, player_id: int, amount: int, **fields: object) -> TransferRequest:
    return TransferRequest(
        books.tid("bet"),
        player_id,
        books.house.id,
        amount,
        ETH,
        BET,
        **fields,  # type: ignore[arg-type]
    )


def stake(books: Books, player_id: int, amount: int, timeout_s: int | None = 60) -> HoldRequest:
    return HoldRequest(
        books.tid("stake"), player_id, books.house.id, amount, ETH, BET, timeout_s=timeout_s
    )


def assert_refused_and_nothing_written(
    books: Books, error: type[Exception], match: str, act: Callable[[], object]
) -> None:
    before = books.state()
    with pytest.raises(error, match=match):
        act()
    assert books.state() == before


def test_a_transfer_moves_money_from_debit_to_credit(books: Books) -> None:
    player = books.player(funded=1_000)

    result = transfer(books.engine, bet(books, player.id, 300, reference_id="bet-1"))

    assert (result.phase, result.status, result.replayed) == (
        TransferPhase.SINGLE,
        TransferStatus.POSTED,
        False,
    )
    assert result.amount == 300 and result.reference_id == "bet-1"
    assert books.available(player) == 700
    assert balance(books.engine, books.house.id).posted == 300


def test_a_player_cannot_bet_more_than_their_balance(books: Books) -> None:
    player = books.player(funded=100)

    assert_refused_and_nothing_written(
        books,
        InsufficientFunds,
        rf"account {player.id} has 100 available.* needs 101",
        lambda: transfer(books.engine, bet(books, player.id, 101)),
    )


def test_the_whole_balance_can_be_spent_to_exactly_zero(books: Books) -> None:
    player = books.player(funded=100)

    transfer(books.engine, bet(books, player.id, 100))

    assert books.available(player) == 0


def test_a_transfer_in_another_currency_than_its_account_is_refused(books: Books) -> None:
    player = books.player(funded=100)
    btc_house = books.open(AccountKind.HOUSE, name="btc", currency=Currency.BTC)

    assert_refused_and_nothing_written(
        books,
        CurrencyMismatch,
        rf"account {btc_house.id} holds BTC, not ETH",
        lambda: transfer(
            books.engine,
            TransferRequest(books.tid("bet"), player.id, btc_house.id, 10, ETH, BET),
        ),
    )


@pytest.mark.parametrize("side", ["debit", "credit"])
def test_a_transfer_naming_an_unknown_account_is_refused(books: Books, side: str) -> None:
    player = books.player(funded=100)
    unknown = 2**62
    debit, credit = (unknown, player.id) if side == "debit" else (player.id, unknown)

    assert_refused_and_nothing_written(
        books,
        AccountNotFound,
        rf"account {unknown} does not exist",
        lambda: transfer(
            books.engine, TransferRequest(books.tid("x"), debit, credit, 10, ETH, BET)
        ),
    )


def test_a_closed_account_takes_no_new_movements(books: Books) -> None:
    player = books.player()
    closed = close_account(books.engine, player.id)
    assert closed.closed

    assert_refused_and_nothing_written(
        books, AccountClosed, rf"account {player.id} is closed", lambda: books.fund(player, 10)
    )


def test_an_account_with_money_cannot_be_closed(books: Books) -> None:
    player = books.player(funded=5)

    with pytest.raises(AccountNotEmpty, match="balance is 5"):
        close_account(books.engine, player.id)

    assert not get_account(books.engine, player.id).closed


def test_the_same_id_and_content_is_a_replay_that_writes_nothing(books: Books) -> None:
    player = books.player(funded=1_000)
    request = bet(books, player.id, 300, metadata={"game": "dice", "round": 7})
    first = transfer(books.engine, request)
    after_first = books.state()

    again = transfer(books.engine, request)

    assert again.replayed and not first.replayed
    assert (again.id, again.amount, again.created_at) == (first.id, first.amount, first.created_at)
    assert books.state() == after_first


def test_the_same_id_with_other_content_is_an_idempotency_conflict(books: Books) -> None:
    player = books.player(funded=1_000)
    request = bet(books, player.id, 300)
    transfer(books.engine, request)

    assert_refused_and_nothing_written(
        books,
        IdempotencyConflict,
        rf"transfer id {request.id} was already used with different content.*amount 300, not 301",
        lambda: transfer(
            books.engine,
            TransferRequest(request.id, player.id, books.house.id, 301, ETH, BET),
        ),
    )


def test_a_refused_id_is_not_used_up(books: Books) -> None:
    player = books.player(funded=100)
    request = bet(books, player.id, 150)
    with pytest.raises(InsufficientFunds):
        transfer(books.engine, request)
    books.fund(player, 100)

    result = transfer(books.engine, request)

    assert not result.replayed and books.available(player) == 50


def test_a_hold_counts_against_the_available_balance_until_posted(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600, timeout_s=120))

    assert held.status is TransferStatus.PENDING and held.expires_at is not None
    assert (held.expires_at - held.created_at).total_seconds() == 120
    held_balance = balance(books.engine, player.id)
    assert (held_balance.posted, held_balance.pending, held_balance.available) == (1_000, 600, 400)
    with pytest.raises(InsufficientFunds, match="400 available"):
        transfer(books.engine, bet(books, player.id, 401))

    posted = post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id))

    assert (posted.phase, posted.status, posted.amount) == (
        TransferPhase.POST,
        TransferStatus.POSTED,
        600,
    )
    assert (posted.pending_id, posted.debit_account_id, posted.type) == (held.id, player.id, BET)
    final = balance(books.engine, player.id)
    assert (final.posted, final.pending, final.available) == (400, 0, 400)
    assert balance(books.engine, books.house.id).posted == 600


def test_a_partial_post_moves_part_and_releases_the_rest(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))

    post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id, amount=250))

    final = balance(books.engine, player.id)
    assert (final.posted, final.pending) == (750, 0)


def test_a_void_releases_the_hold_and_moves_nothing(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))

    voided = void_pending(books.engine, VoidPendingRequest(books.tid("void"), held.id))

    assert (voided.phase, voided.status, voided.amount) == (
        TransferPhase.VOID,
        TransferStatus.VOIDED,
        600,
    )
    final = balance(books.engine, player.id)
    assert (final.posted, final.pending) == (1_000, 0)
    assert balance(books.engine, books.house.id).posted == 0


def test_a_hold_cannot_be_posted_twice(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))
    post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id))

    assert_refused_and_nothing_written(
        books,
        PendingAlreadyPosted,
        rf"pending transfer {held.id} was already posted",
        lambda: post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id)),
    )


def test_a_voided_hold_cannot_be_posted(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))
    void_pending(books.engine, VoidPendingRequest(books.tid("void"), held.id))

    assert_refused_and_nothing_written(
        books,
        PendingAlreadyVoided,
        rf"pending transfer {held.id} was already voided",
        lambda: post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id)),
    )


def test_a_posted_hold_cannot_be_voided(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))
    post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id))

    assert_refused_and_nothing_written(
        books,
        PendingAlreadyPosted,
        "already posted",
        lambda: void_pending(books.engine, VoidPendingRequest(books.tid("void"), held.id)),
    )


def test_a_partial_post_larger_than_the_hold_is_refused(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))

    assert_refused_and_nothing_written(
        books,
        PartialPostExceedsHold,
        rf"cannot post 601 from pending transfer {held.id} which holds only 600",
        lambda: post_pending(
            books.engine, PostPendingRequest(books.tid("post"), held.id, amount=601)
        ),
    )


def test_posting_an_unknown_hold_is_refused(books: Books) -> None:
    assert_refused_and_nothing_written(
        books,
        PendingTransferNotFound,
        "pending transfer no-such-hold does not exist",
        lambda: post_pending(books.engine, PostPendingRequest(books.tid("post"), "no-such-hold")),
    )


def test_posting_a_plain_transfer_as_if_it_were_a_hold_is_refused(books: Books) -> None:
    player = books.player(funded=1_000)
    plain = transfer(books.engine, bet(books, player.id, 10))

    assert_refused_and_nothing_written(
        books,
        NotAPendingTransfer,
        rf"transfer {plain.id} is not a pending transfer \(it is a single transfer\)",
        lambda: post_pending(books.engine, PostPendingRequest(books.tid("post"), plain.id)),
    )


def test_a_replayed_post_returns_the_first_post_and_moves_nothing_more(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 600))
    request = PostPendingRequest(books.tid("post"), held.id, amount=500)
    first = post_pending(books.engine, request)
    after_first = books.state()

    again = post_pending(books.engine, request)

    assert again.replayed and (again.amount, again.created_at) == (500, first.created_at)
    assert books.state() == after_first
    with pytest.raises(IdempotencyConflict, match="amount 500, not 600"):
        post_pending(books.engine, PostPendingRequest(request.id, held.id))


def test_a_bet_settles_atomically_in_the_callers_transaction(books: Books) -> None:
    """The settlement shape of the next issue: post the stake, pay the win, one commit."""
    player = books.player(funded=1_000)
    bet_id = books.tid("bet")
    held = hold(
        books.engine,
        HoldRequest(
            f"{bet_id}-stake", player.id, books.house.id, 100, ETH, BET, reference_id=bet_id
        ),
    )

    with books.engine.begin() as conn:
        post_pending(conn, PostPendingRequest(f"{bet_id}-stake-post", held.id))
        transfer(
            conn,
            TransferRequest(
                f"{bet_id}-win",
                books.house.id,
                player.id,
                198,
                ETH,
                TransferType.WIN,
                reference_id=bet_id,
            ),
        )

    assert books.available(player) == 1_098
    assert balance(books.engine, books.house.id).posted == -98


def test_a_failure_inside_the_callers_transaction_undoes_the_whole_settlement(
    books: Books, engine: Engine
) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 100))
    before = books.state()

    with pytest.raises(InsufficientFunds), engine.begin() as conn:
        post_pending(conn, PostPendingRequest(books.tid("post"), held.id))
        transfer(conn, bet(books, player.id, 5_000))

    assert books.state() == before
    assert balance(engine, player.id).pending == 100
