"""``/balances`` and ``/statement``: the player's cash, read from the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine

from croupier.api.auth.models import problem_responses
from croupier.api.play.models import (
    BalanceResponse,
    BalancesResponse,
    StatementLineResponse,
    StatementResponse,
)
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.core.money import Currency
from croupier.ledger.accounts import Account, find_account
from croupier.ledger.balances import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, balance, statement
from croupier.ledger.errors import AccountNotFound
from croupier.ledger.kinds import AccountKind

router = APIRouter(tags=["wallet"])
State = Annotated[AppState, Depends(app_state)]


@router.get("/balances", response_model=BalancesResponse, responses=problem_responses(401, 403))
def balances(claims: Claims, state: State) -> BalancesResponse:
    """Your cash in every currency, in minor units."""
    lines = []
    for currency in Currency:
        account = _cash_account(state.engine, str(claims.user_id), currency)
        found = None if account is None else balance(state.engine, account.id)
        lines.append(BalanceResponse.of(currency.value, found))
    return BalancesResponse(balances=lines)


@router.get(
    "/statement", response_model=StatementResponse, responses=problem_responses(401, 403, 422)
)
def read_statement(
    claims: Claims,
    state: State,
    currency: Annotated[str, Query(min_length=2, max_length=10, examples=["ETH"])],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> StatementResponse:
    """Your cash movements in ``currency``, newest first, one page at a time."""
    code = Currency.parse(currency)
    account = _cash_account(state.engine, str(claims.user_id), code)
    if account is None:
        return StatementResponse(currency=code.value, lines=[], next_cursor=None)
    page = statement(state.engine, account.id, limit=limit, cursor=cursor)
    return StatementResponse(
        currency=code.value,
        lines=[StatementLineResponse.of(line) for line in page.lines],
        next_cursor=page.next_cursor,
    )


def _cash_account(engine: Engine, owner: str, currency: Currency) -> Account | None:
    try:
        return find_account(engine, AccountKind.PLAYER_CASH, owner, currency)
    except AccountNotFound:
        return None
