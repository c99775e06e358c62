"""Withdrawals through the API, on a real chain: held, reviewed, sent once, settled.

Every path ends with the player's hold posted or released, the hot wallet's ledger
balance equal to its balance on chain, and the whole ledger reconciling.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from eth_account import Account
from sqlalchemy import func, select

from croupier.compliance.audit import verify_chain
from croupier.compliance.exclusions import exclude
from croupier.compliance.limits import ExclusionKind
from croupier.compliance.tables import audit_log
from croupier.core.money import Currency
from croupier.identity.roles import Role
from croupier.ledger import AccountKind
from croupier.monitoring.breaker import breaker_state, resume
from croupier.payments.tables import withdrawals
from tests.integration.api.conftest import Api, ApiFactory, bearer
from tests.integration.api.conftest import api_factory as api_factory
from tests.integration.api.conftest import api_settings as api_settings
from tests.integration.payments.conftest import (
    ETH,
    USDT,
    PaymentsStack,
    assert_ledger_whole,
    cash,
    credit_player,
    eventually,
    fund_hot_wallet,
    mint_usdt,
    record_hot_wallet_funding,
    system_balance,
    verify_kyc,
)

FEE = ETH // 10_000  # the module's withdrawal fee (0.0001 ETH)


@pytest_asyncio.fixture(loop_scope="session")
async def api(api_factory: ApiFactory, stack: PaymentsStack) -> AsyncIterator[Api]:
    _close_the_circuit_breaker(stack)
    async with api_factory(**stack.overrides) as built:
        yield built


class Player:
    def __init__(self, api: Api, tokens: dict[str, Any], user_id: uuid.UUID) -> None:
        self.api = api
        self.headers = bearer(tokens["access_token"])
        self.user_id = user_id

    async def withdraw(
        self, amount: int, address: str, *, key: str | None = None, currency: str = "ETH"
    ) -> Any:
        return await self.api.client.post(
            "/withdrawals",
            json={"currency": currency, "amount": str(amount), "address": address},
            headers={**self.headers, "Idempotency-Key": key or str(uuid.uuid4())},
        )

    async def status(self, withdrawal_id: str) -> dict[str, Any]:
        response = await self.api.client.get(f"/withdrawals/{withdrawal_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())


async def new_player(api: Api, stack: PaymentsStack, cash_wei: int) -> Player:
    tokens = await api.player()
    me = await api.client.get("/me", headers=bearer(tokens["access_token"]))
    player = Player(api, tokens, uuid.UUID(me.json()["id"]))
    if cash_wei:
        credit_player(stack.engine, player.user_id, cash_wei, Currency.ETH)
    return player


async def staff(api: Api, stack: PaymentsStack) -> dict[str, str]:
    tokens = await api.staff(stack.engine, Role.COMPLIANCE)
    me = await api.client.get("/me", headers=bearer(tokens["access_token"]))
    return {**bearer(tokens["access_token"]), "x-staff-id": me.json()["id"]}


async def settled(stack: PaymentsStack, player: Player, withdrawal_id: str) -> dict[str, Any]:
    """Mine a block per look until the withdrawal is completed (confirmations need blocks)."""

    async def completed() -> dict[str, Any] | None:
        view = await player.status(withdrawal_id)
        if view["status"] == "broadcast":
            stack.mine(1)
        return view if view["status"] in {"completed", "failed"} else None

    view: dict[str, Any] = await eventually(completed, what=f"withdrawal {withdrawal_id} settled")
    return view


def fresh_address() -> str:
    address: str = Account.create().address
    return address


def withdrawal_rows(stack: PaymentsStack, user_id: uuid.UUID) -> int:
    with stack.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).where(withdrawals.c.user_id == user_id)).scalar_one()
        )


def hot_wallet(stack: PaymentsStack, currency: Currency = Currency.ETH) -> tuple[int, int]:
    """(ledger, chain) balances of the hot wallet. The ledger has one hot-wallet account
    per currency, which other modules (other nodes, other hot addresses) also move, so
    tests compare how both changed across what they did."""
    return (
        system_balance(stack.engine, AccountKind.HOT_WALLET, currency).posted,
        stack.chain.balance(stack.hot_address, currency),
    )


def assert_hot_wallet_moved_alike(
    stack: PaymentsStack, before: tuple[int, int], currency: Currency = Currency.ETH
) -> None:
    ledger, chain = hot_wallet(stack, currency)
    assert ledger - before[0] == chain - before[1]
    assert chain < before[1]


def _close_the_circuit_breaker(stack: PaymentsStack) -> None:
    with stack.engine.begin() as conn:
        if breaker_state(conn).tripped:
            resume(conn, "payments-tests", "the payments tests need auto-approval")


async def test_auto_approved_withdrawal_is_paid_on_chain_once_and_the_ledger_reconciles(
    api: Api, stack: PaymentsStack
) -> None:
    fund_hot_wallet(stack, 5 * ETH)
    hot_before = hot_wallet(stack)
    player = await new_player(api, stack, ETH)
    recipient = fresh_address()
    amount = ETH // 10
    key = str(uuid.uuid4())

    accepted = await player.withdraw(amount, recipient, key=key)
    replayed = await player.withdraw(amount, recipient, key=key)
    assert accepted.status_code == 202, accepted.text
    withdrawal_id = accepted.json()["id"]
    done = await settled(stack, player, withdrawal_id)

    assert accepted.json()["status"] in {"approved", "sending", "broadcast"}
    assert replayed.json()["id"] == withdrawal_id
    assert done["status"] == "completed"
    assert stack.chain.balance(recipient, Currency.ETH) == amount
    assert stack.chain.nonce(stack.hot_address, include_pending=True) == 1
    balance = cash(stack.engine, player.user_id, Currency.ETH)
    assert (balance.posted, balance.pending) == (ETH - amount - FEE, 0)
    assert_hot_wallet_moved_alike(stack, hot_before)
    assert_ledger_whole(stack.engine)


async def test_a_token_withdrawal_pays_the_token_and_books_the_gas_in_eth(
    api: Api, stack: PaymentsStack
) -> None:
    fund_hot_wallet(stack, ETH)  # for gas
    mint_usdt(stack, stack.hot_address, 1_000 * USDT)
    record_hot_wallet_funding(stack.engine, 1_000 * USDT, Currency.USDT)
    eth_before, usdt_before = hot_wallet(stack), hot_wallet(stack, Currency.USDT)
    player = await new_player(api, stack, 0)
    credit_player(stack.engine, player.user_id, 100 * USDT, Currency.USDT)
    recipient = fresh_address()

    accepted = await player.withdraw(50 * USDT, recipient, currency="USDT")
    done = await settled(stack, player, accepted.json()["id"])

    assert done["status"] == "completed", done
    assert stack.chain.balance(recipient, Currency.USDT) == 50 * USDT
    balance = cash(stack.engine, player.user_id, Currency.USDT)
    assert (balance.posted, balance.pending) == (100 * USDT - 50 * USDT - USDT // 2, 0)
    assert_hot_wallet_moved_alike(stack, usdt_before, Currency.USDT)
    assert_hot_wallet_moved_alike(stack, eth_before, Currency.ETH)
    assert_ledger_whole(stack.engine)


async def test_withdrawal_above_the_limit_is_sent_once_compliance_approves(
    api: Api, stack: PaymentsStack
) -> None:
    fund_hot_wallet(stack, 5 * ETH)
    hot_before = hot_wallet(stack)
    player = await new_player(api, stack, 2 * ETH)
    verify_kyc(stack.engine, player.user_id)  # level 0 may withdraw 0.5 ETH a day
    officer = await staff(api, stack)
    recipient = fresh_address()
    nonce_before = stack.chain.nonce(stack.hot_address, include_pending=True)

    accepted = await player.withdraw(ETH, recipient)
    withdrawal_id = accepted.json()["id"]
    waiting = await player.status(withdrawal_id)
    approved = await api.client.post(
        f"/admin/withdrawals/{withdrawal_id}/approve",
        json={"reason": "source of funds verified"},
        headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
    )
    done = await settled(stack, player, withdrawal_id)

    assert accepted.status_code == 202, accepted.text
    assert waiting["status"] == "awaiting_approval"
    assert waiting["review_reasons"] == ["above_auto_approve_limit"]
    assert approved.status_code == 202, approved.text
    assert done["status"] == "completed"
    assert done["decided_by"] == officer["x-staff-id"]
    assert stack.chain.balance(recipient, Currency.ETH) == ETH
    assert stack.chain.nonce(stack.hot_address, include_pending=True) == nonce_before + 1
    assert cash(stack.engine, player.user_id, Currency.ETH).posted == ETH - FEE
    assert_hot_wallet_moved_alike(stack, hot_before)
    assert_ledger_whole(stack.engine)
    assert audit_rows(stack, withdrawal_id) == [
        (officer["x-staff-id"], "withdrawal.approve", "source of funds verified")
    ]
    assert verify_chain(stack.engine).intact


async def test_rejected_withdrawal_releases_the_hold_and_sends_nothing(
    api: Api, stack: PaymentsStack
) -> None:
    player = await new_player(api, stack, 2 * ETH)
    verify_kyc(stack.engine, player.user_id)
    officer = await staff(api, stack)
    recipient = fresh_address()

    withdrawal_id = (await player.withdraw(ETH, recipient)).json()["id"]
    held = cash(stack.engine, player.user_id, Currency.ETH)
    rejected = await api.client.post(
        f"/admin/withdrawals/{withdrawal_id}/reject",
        json={"reason": "documents do not match"},
        headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
    )
    done = await eventually(lambda: _final(player, withdrawal_id), what="the rejection processed")

    assert held.pending == ETH + FEE
    assert rejected.status_code == 202, rejected.text
    assert (done["status"], done["decision_reason"]) == ("rejected", "documents do not match")
    balance = cash(stack.engine, player.user_id, Currency.ETH)
    assert (balance.posted, balance.pending) == (2 * ETH, 0)
    assert stack.chain.balance(recipient, Currency.ETH) == 0
    assert_ledger_whole(stack.engine)
    assert audit_rows(stack, withdrawal_id) == [
        (officer["x-staff-id"], "withdrawal.reject", "documents do not match")
    ]
    assert verify_chain(stack.engine).intact


async def test_player_cancels_a_withdrawal_awaiting_approval(
    api: Api, stack: PaymentsStack
) -> None:
    player = await new_player(api, stack, 2 * ETH)
    verify_kyc(stack.engine, player.user_id)
    stranger = await new_player(api, stack, 0)
    withdrawal_id = (await player.withdraw(ETH, fresh_address())).json()["id"]

    peeked = await api.client.get(f"/withdrawals/{withdrawal_id}", headers=stranger.headers)
    cancelled = await api.client.post(
        f"/withdrawals/{withdrawal_id}/cancel",
        headers={**player.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    again = await api.client.post(
        f"/withdrawals/{withdrawal_id}/cancel",
        headers={**player.headers, "Idempotency-Key": str(uuid.uuid4())},
    )

    assert peeked.status_code == 404
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/withdrawal_not_cancellable"
    balance = cash(stack.engine, player.user_id, Currency.ETH)
    assert (balance.posted, balance.pending) == (2 * ETH, 0)
    assert_ledger_whole(stack.engine)


@pytest.mark.parametrize(
    ("case", "amount", "address", "status", "problem"),
    [
        ("malformed address", ETH // 100, "0x1234", 422, "invalid_address"),
        (
            "bad checksum",
            ETH // 100,
            "0x52908400098527886E0F7030069857D2E4169Ee7",
            422,
            "invalid_address",
        ),
        ("below the minimum", ETH // 10_000, None, 422, "amount_below_minimum"),
        ("more than the player has", ETH // 5, None, 409, "insufficient_funds"),
        # KYC level 0 allows 0.5 ETH a day (croupier.compliance.levels), whatever the cash.
        ("above the KYC level's daily limit", ETH // 2 + 1, None, 409, "daily_limit_exceeded"),
    ],
)
async def test_a_request_that_cannot_be_paid_is_refused_with_nothing_held(
    api: Api,
    stack: PaymentsStack,
    case: str,
    amount: int,
    address: str | None,
    status: int,
    problem: str,
) -> None:
    funds = ETH if problem == "daily_limit_exceeded" else ETH // 10
    player = await new_player(api, stack, funds)

    refused = await player.withdraw(amount, address or fresh_address())

    assert refused.status_code == status, (case, refused.text)
    assert refused.json()["type"] == f"/problems/{problem}"
    balance = cash(stack.engine, player.user_id, Currency.ETH)
    assert (balance.posted, balance.pending) == (funds, 0)
    assert withdrawal_rows(stack, player.user_id) == 0


async def test_deposit_address_is_assigned_once_and_shared_by_eth_and_usdt(
    api: Api, stack: PaymentsStack
) -> None:
    player = await new_player(api, stack, 0)

    first = await api.client.get("/deposits/address?currency=ETH", headers=player.headers)
    again = await api.client.get("/deposits/address?currency=eth", headers=player.headers)
    token = await api.client.get("/deposits/address?currency=USDT", headers=player.headers)
    bitcoin = await api.client.get("/deposits/address?currency=BTC", headers=player.headers)
    listed = await api.client.get("/deposits", headers=player.headers)

    assert first.status_code == 200, first.text
    address = first.json()["address"]
    assert again.json()["address"] == token.json()["address"] == address
    assert token.json()["currency"] == "USDT"
    assert address == stack.deposit_address(player.user_id)
    assert bitcoin.status_code == 422
    assert listed.json() == {"deposits": []}


async def _final(player: Player, withdrawal_id: str) -> dict[str, Any] | None:
    view = await player.status(withdrawal_id)
    return None if view["status"] in {"awaiting_approval", "held"} else view


async def test_a_self_excluded_player_gets_no_deposit_address_but_can_withdraw(
    api: Api, stack: PaymentsStack
) -> None:
    fund_hot_wallet(stack, ETH)
    player = await new_player(api, stack, ETH // 2)
    exclude(stack.engine, player.user_id, ExclusionKind.SELF_EXCLUSION, 180, now=datetime.now(UTC))
    recipient = fresh_address()

    address = await api.client.get("/deposits/address?currency=ETH", headers=player.headers)
    accepted = await player.withdraw(ETH // 10, recipient)
    done = await settled(stack, player, accepted.json()["id"])

    assert address.status_code == 403, address.text
    assert address.json()["type"] == "/problems/self_excluded"
    assert accepted.status_code == 202, accepted.text
    assert done["status"] == "completed"
    assert stack.chain.balance(recipient, Currency.ETH) == ETH // 10
    assert cash(stack.engine, player.user_id, Currency.ETH).posted == ETH // 2 - ETH // 10 - FEE


def audit_rows(stack: PaymentsStack, withdrawal_id: str) -> list[tuple[str, str, str]]:
    """(actor, action, reason) of the audit rows about one withdrawal, in order."""
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.details)
            .where(audit_log.c.subject == f"withdrawal:{withdrawal_id}")
            .order_by(audit_log.c.seq)
        ).all()
    return [(row.actor, row.action, row.details["reason"]) for row in rows]
