"""Many connections at once: duplicates write once, opposite transfers never deadlock,
and the books still balance."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, text

from croupier.core.errors import InsufficientFunds
from croupier.core.money import Currency
from croupier.ledger import (
    Account,
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    TransferResult,
    TransferType,
    VoidPendingRequest,
    balance,
    hold,
    post_pending,
    reconcile,
    transfer,
    void_pending,
)
from croupier.ledger.db import make_engine
from croupier.ledger.schema import ledger_entries, transfers
from tests.integration.ledger.conftest import Books

ETH = Currency.ETH
THREADS = 16
OPERATIONS_PER_THREAD = 40
WAIT_FOR_LOCK_S = 10.0


def wait_until_blocked_on_a_lock(engine: Engine) -> None:
    """Return once another backend of this database waits for a lock (the duplicate)."""
    with engine.connect() as conn:
        conn.execute(text(f"SET statement_timeout = {int(WAIT_FOR_LOCK_S * 1000)}"))
        conn.execute(
            text(
                """
                DO $$ BEGIN
                    WHILE NOT EXISTS (
                        SELECT 1 FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock'
                    ) LOOP
                        PERFORM pg_sleep(0.01);
                    END LOOP;
                END $$
                """
            )
        )


def race_a_duplicate(books: Books, *, first_commits: bool) -> TransferResult:
    """Post a transfer in an open transaction, send its duplicate on another connection,
    then end the first transaction; return the duplicate's result."""
    player = books.player(funded=1_000)
    request = TransferRequest(
        books.tid("bet"), player.id, books.house.id, 10, ETH, TransferType.BET
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        with books.engine.connect() as first:
            transfer(first, request)
            duplicate: Future[TransferResult] = pool.submit(transfer, books.engine, request)
            wait_until_blocked_on_a_lock(books.engine)
            assert not duplicate.done()
            if first_commits:
                first.commit()
            else:
                first.rollback()
        return duplicate.result(timeout=WAIT_FOR_LOCK_S)


def count_rows(engine: Engine, transfer_id: str) -> tuple[int, int]:
    with engine.connect() as conn:
        journal = conn.execute(
            select(func.count()).select_from(transfers).where(transfers.c.id == transfer_id)
        ).scalar_one()
        entries = conn.execute(
            select(func.count())
            .select_from(ledger_entries)
            .where(ledger_entries.c.transfer_id == transfer_id)
        ).scalar_one()
    return journal, entries


def test_a_duplicate_racing_a_commit_waits_and_replays(books: Books) -> None:
    result = race_a_duplicate(books, first_commits=True)

    assert result.replayed
    assert count_rows(books.engine, result.id) == (1, 2)


def test_a_duplicate_racing_a_rollback_waits_and_writes_it_once(books: Books) -> None:
    result = race_a_duplicate(books, first_commits=False)

    assert not result.replayed
    assert count_rows(books.engine, result.id) == (1, 2)


@dataclass(frozen=True)
class Outcome:
    request_id: str
    replayed: bool | None  # None when refused
    error: type[Exception] | None


def random_operation(
    rng: random.Random, books: Books, accounts: list[Account], shared: list[TransferRequest]
) -> Callable[[Engine], list[Outcome]]:
    """One step of a worker: a shared duplicate, a transfer either way, or a hold resolved."""
    roll = rng.random()
    if roll < 0.3:
        request = rng.choice(shared)
        return lambda engine: [attempt(engine, request.id, lambda: transfer(engine, request))]
    debit, credit = rng.sample(accounts, 2)
    amount = rng.randint(1, 400)
    if roll < 0.8:
        request = TransferRequest(
            books.tid("t"), debit.id, credit.id, amount, ETH, TransferType.BET
        )
        return lambda engine: [attempt(engine, request.id, lambda: transfer(engine, request))]
    held = HoldRequest(
        books.tid("h"), debit.id, credit.id, amount, ETH, TransferType.BET, timeout_s=600
    )
    post = rng.random() < 0.5

    def hold_then_resolve(engine: Engine) -> list[Outcome]:
        outcome = attempt(engine, held.id, lambda: hold(engine, held))
        if outcome.error is not None:
            return [outcome]
        resolution_id = books.tid("r")
        resolve = (
            (lambda: post_pending(engine, PostPendingRequest(resolution_id, held.id)))
            if post
            else (lambda: void_pending(engine, VoidPendingRequest(resolution_id, held.id)))
        )
        return [outcome, attempt(engine, resolution_id, resolve)]

    return hold_then_resolve


def attempt(engine: Engine, request_id: str, act: Callable[[], TransferResult]) -> Outcome:
    try:
        return Outcome(request_id, act().replayed, None)
    except InsufficientFunds as error:
        return Outcome(request_id, None, type(error))


def test_sixteen_connections_of_random_transfers_keep_the_books_whole(
    books: Books, database_url: str
) -> None:
    # Few accounts, many opposite transfers between them: the worst case for deadlocks.
    players = [books.player(str(n), funded=2_000) for n in range(5)]
    accounts = [*players, books.house]
    rng = random.Random(20_240_601)
    pairs = [rng.sample(accounts, 2) for _ in range(12)]
    shared = [
        TransferRequest(books.tid("dup"), debit.id, credit.id, 50, ETH, TransferType.BET)
        for debit, credit in pairs
    ]
    plans = [
        [
            random_operation(random.Random(rng.random()), books, accounts, shared)
            for _ in range(OPERATIONS_PER_THREAD)
        ]
        for _ in range(THREADS)
    ]
    engine = make_engine(database_url, pool_size=THREADS)
    start = threading.Barrier(THREADS)

    def work(plan: list[Callable[[Engine], list[Outcome]]]) -> list[Outcome]:
        start.wait()
        return [outcome for step in plan for outcome in step(engine)]

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            outcomes = [o for done in pool.map(work, plans) for o in done]
    finally:
        engine.dispose()

    # Only business refusals escaped (no deadlock, no serialization failure).
    assert {o.error for o in outcomes} <= {None, InsufficientFunds}
    # Each shared id was written by exactly one of the racing connections.
    written = Counter(o.request_id for o in outcomes if o.replayed is False)
    assert all(count == 1 for count in written.values())
    for request in shared:
        attempts = [o for o in outcomes if o.request_id == request.id and o.error is None]
        if attempts:
            assert sum(not o.replayed for o in attempts) == 1
            assert count_rows(books.engine, request.id) == (1, 2)
    report = reconcile(books.engine, account_ids=[a.id for a in books.accounts])
    assert report.ok, report.violations
    # Money was only moved, never made: the players and the house still hold the deposits.
    total = sum(balance(books.engine, a.id).posted for a in accounts)
    assert total == 5 * 2_000
