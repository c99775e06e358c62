"""Property: random sequences of transfers, holds, posts, voids, batches, expiries and
duplicates keep every reconciliation invariant after each step, and end with exactly the
balances of a pure in-memory model of the same sequence."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from croupier.core.clock import ManualClock
from croupier.core.errors import CroupierError
from croupier.core.money import Currency
from croupier.ledger import (
    Account,
    AccountKind,
    AccountSpec,
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    TransferResult,
    TransferType,
    VoidPendingRequest,
    balance,
    expire_pending,
    hold,
    open_account,
    post_pending,
    reconcile,
    transfer,
    transfer_batch,
    void_pending,
)
from tests.integration.ledger.conftest import private_database
from tests.integration.ledger.ledger_model import (
    LedgerModel,
    ModelAccount,
    Movement,
    Outcome,
    Resolution,
)

ETH = Currency.ETH


@pytest.fixture(scope="module")
def engine(postgres_server_url: str) -> Iterator[Engine]:
    """This module's own database: expiring holds is global by design, and sweeping with a
    clock hours ahead must not expire holds that other tests' workflows still wait on."""
    yield from private_database(postgres_server_url)


ACCOUNTS = {
    "player_a": AccountKind.PLAYER_CASH,
    "player_b": AccountKind.PLAYER_CASH,
    "player_c": AccountKind.PLAYER_CASH,
    "house": AccountKind.HOUSE,
    "bank": AccountKind.DEPOSITS_IN_FLIGHT,
    "wallet": AccountKind.HOT_WALLET,
}
NAMES = sorted(ACCOUNTS)
HOUSE_SHARDS = 4
SEED_AMOUNT = 1_000

pairs = st.lists(st.sampled_from(NAMES), min_size=2, max_size=2, unique=True)
amounts = st.integers(min_value=1, max_value=300) | st.integers(min_value=300, max_value=2_000)
timeouts = st.sampled_from([None, 3_600, 7_200])
refs = st.integers(min_value=0, max_value=1_000)

movement_steps = st.one_of(
    st.tuples(st.just("transfer"), pairs, amounts, st.none()),
    st.tuples(st.just("hold"), pairs, amounts, timeouts),
)
steps = st.one_of(
    movement_steps,
    movement_steps,
    st.tuples(st.just("post"), refs, st.none() | amounts),
    st.tuples(st.just("void"), refs),
    st.tuples(st.just("replay"), refs),
    st.tuples(st.just("conflict"), refs),
    st.tuples(
        st.just("batch"),
        st.lists(
            movement_steps | st.tuples(st.sampled_from(["replay", "conflict"]), refs),
            min_size=1,
            max_size=6,
        ),
    ),
    st.tuples(st.just("expire"), st.integers(min_value=600, max_value=5_000)),
)


@dataclass
class Run:
    """One example: its own accounts, the model, and what was sent so far."""

    engine: Engine
    accounts: dict[str, Account]
    model: LedgerModel
    clock: ManualClock
    tag: str
    sent: list[Movement | Resolution]
    hold_ids: list[str]
    counter: int = 0

    def new_id(self, label: str) -> str:
        self.counter += 1
        return f"{label}-{self.tag}-{self.counter}"

    def movement(self, step: tuple[Any, ...]) -> Movement:
        kind, (debit, credit), amount, timeout_s = step
        return Movement(self.new_id(kind), debit, credit, amount, kind == "hold", timeout_s)


def open_run(engine: Engine) -> Run:
    tag = uuid.uuid4().hex[:12]
    accounts = {
        name: open_account(
            engine,
            AccountSpec(
                kind, f"{name}-{tag}", ETH, shards=HOUSE_SHARDS if name == "house" else None
            ),
        )
        for name, kind in ACCOUNTS.items()
    }
    model = LedgerModel(
        {
            name: ModelAccount(
                account.debits_must_not_exceed_credits, account.credits_must_not_exceed_debits
            )
            for name, account in accounts.items()
        }
    )
    run = Run(engine, accounts, model, ManualClock(datetime.now(UTC)), tag, [], [])
    # Seed money so most steps can succeed: players are funded by the bank, and the wallet
    # (which can never hold less than nothing) receives what it may later pay out.
    seed = [
        Movement(run.new_id("seed"), debit, credit, SEED_AMOUNT)
        for debit, credit in [
            ("bank", "player_a"),
            ("bank", "player_b"),
            ("bank", "player_c"),
            ("wallet", "bank"),
        ]
    ]
    send_batch(run, seed)
    return run


def request_for(run: Run, sent: Movement) -> TransferRequest | HoldRequest:
    debit, credit = run.accounts[sent.debit].id, run.accounts[sent.credit].id
    if sent.pending:
        return HoldRequest(
            sent.id, debit, credit, sent.amount, ETH, TransferType.BET, timeout_s=sent.timeout_s
        )
    return TransferRequest(sent.id, debit, credit, sent.amount, ETH, TransferType.BET)


def outcome_of(call: Callable[[], object]) -> tuple[Outcome, object]:
    """("ok", replayed) and the result, or the error type and None."""
    try:
        result = call()
    except CroupierError as error:
        return type(error), None
    replayed = result.replayed if isinstance(result, TransferResult) else None
    return ("ok", bool(replayed)), result


def describe(outcome: Outcome) -> str:
    if isinstance(outcome, tuple):
        return "replayed" if outcome[1] else "written"
    return outcome.__name__


def send(run: Run, sent: Movement | Resolution) -> None:
    """Apply one request to the database and the model; they must agree."""
    if isinstance(sent, Movement):
        if sent.pending:
            run.hold_ids.append(sent.id)
        expected = run.model.movement(sent)
        request = request_for(run, sent)
        if isinstance(request, HoldRequest):
            actual, result = outcome_of(lambda: hold(run.engine, request))
        else:
            actual, result = outcome_of(lambda: transfer(run.engine, request))
    elif sent.post:
        expected = run.model.resolution(sent)
        post = PostPendingRequest(sent.id, sent.pending_id, sent.amount)
        actual, result = outcome_of(lambda: post_pending(run.engine, post))
    else:
        expected = run.model.resolution(sent)
        void = VoidPendingRequest(sent.id, sent.pending_id)
        actual, result = outcome_of(lambda: void_pending(run.engine, void))
    assert actual == expected, f"{sent}: database {actual}, model {expected}"
    event(f"{type(sent).__name__}: {describe(actual)}")
    if isinstance(result, TransferResult) and not result.replayed and sent.id in run.model.holds:
        run.model.holds[sent.id].expires_at = result.expires_at
    run.sent.append(sent)


def send_batch(run: Run, batch: list[Movement]) -> None:
    if not batch:
        return
    run.hold_ids.extend(m.id for m in batch if m.pending and m.id not in run.hold_ids)
    already = [movement.id in run.model.used for movement in batch]
    expected = run.model.batch(batch)
    requests = [request_for(run, sent) for sent in batch]
    actual, results = outcome_of(lambda: transfer_batch(run.engine, requests))
    if isinstance(results, tuple):
        assert [r.replayed for r in results] == already
        actual = ("ok", False)
        for result in results:
            if not result.replayed and result.id in run.model.holds:
                run.model.holds[result.id].expires_at = result.expires_at
    assert actual == expected, f"batch {batch}: database {actual}, model {expected}"
    event(f"batch: {describe(actual)}")
    run.sent.extend(batch)


def step_once(run: Run, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind in ("transfer", "hold"):
        send(run, run.movement(step))
    elif kind in ("post", "void"):
        # Mostly holds, sometimes a plain transfer or an id never used.
        plain = [m.id for m in run.sent if isinstance(m, Movement) and not m.pending]
        candidates = [*run.hold_ids, *plain[:2], f"unknown-{run.tag}"]
        pending_id = candidates[step[1] % len(candidates)]
        amount = step[2] if kind == "post" else None
        send(run, Resolution(run.new_id(kind), pending_id, kind == "post", amount))
    elif kind in ("replay", "conflict") and run.sent:
        send(run, earlier(run, run.sent, step))
    elif kind == "batch":
        send_batch(run, batch_of(run, step[1]))
    elif kind == "expire":
        run.clock.advance(timedelta(seconds=step[1]))
        swept: set[str] = set()
        while True:
            batch = expire_pending(run.engine, run.clock, limit=500)
            swept.update(batch)
            if len(batch) < 500:
                break
        # The sweep is global: other tests' overdue holds may go too; ours must match.
        assert swept & set(run.model.holds) == run.model.expire(run.clock.now())


def earlier(run: Run, sent: list[Any], step: tuple[Any, ...]) -> Any:
    """An earlier request, as it was (a replay) or with other content (a conflict)."""
    again = sent[step[1] % len(sent)]
    if step[0] == "replay":
        return again
    if isinstance(again, Movement):
        return replace(again, amount=again.amount + 1)
    return replace(again, pending_id=run.new_id("other"))


def batch_of(run: Run, items: list[tuple[Any, ...]]) -> list[Movement]:
    movements: dict[str, Movement] = {}
    for item in items:
        sent_movements = [m for m in run.sent if isinstance(m, Movement)]
        if item[0] in ("transfer", "hold"):
            movement = run.movement(item)
        elif sent_movements:
            movement = earlier(run, sent_movements, item)
        else:
            continue
        movements.setdefault(movement.id, movement)  # ids are unique within a batch
    return list(movements.values())


def assert_matches_model(run: Run) -> None:
    ids = [account.id for account in run.accounts.values()]
    report = reconcile(run.engine, account_ids=ids)
    assert report.ok, report.violations
    for name, account in run.accounts.items():
        stored = balance(run.engine, account.id)
        actual = (
            stored.debits_posted,
            stored.credits_posted,
            stored.debits_pending,
            stored.credits_pending,
        )
        assert actual == run.model.accounts[name].totals(), f"{name} differs from the model"


@settings(max_examples=300, deadline=None)
@given(sequence=st.lists(steps, min_size=3, max_size=40))
def test_random_sequences_keep_the_invariants_and_match_the_model(
    engine: Engine, sequence: list[tuple[object, ...]]
) -> None:
    run = open_run(engine)
    for step in sequence:
        step_once(run, step)
        assert_matches_model(run)
