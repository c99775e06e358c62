"""Opening, finding and closing accounts.

Account ids are ``bigint`` identities: compact in every index and every entry, and never
shown to players (the API finds a player's account by owner, kind and currency). Opening
is idempotent on (kind, owner, currency): opening the same account twice returns the
first one; opening it again with different limits or shards is an ``IdempotencyConflict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select, text

from croupier.core.errors import IdempotencyConflict, InvalidInput
from croupier.core.money import Currency
from croupier.ledger.connections import Bind, single_statement, transaction
from croupier.ledger.errors import AccountNotEmpty, AccountNotFound, ledger_errors
from croupier.ledger.kinds import (
    HOUSE_SHARDS,
    MAX_SHARDS,
    SYSTEM_OWNER,
    AccountKind,
    parse_choice,
)
from croupier.ledger.schema import account_balances, accounts

MAX_OWNER_LENGTH = 200


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What to open. Limits and shards left as ``None`` take the kind's defaults:
    player accounts can never go below zero, wallets can never hold less than nothing,
    the house is sharded and unlimited, everything else is unlimited."""

    kind: AccountKind
    owner: str
    currency: Currency
    debits_must_not_exceed_credits: bool | None = None
    credits_must_not_exceed_debits: bool | None = None
    shards: int | None = None

    def __post_init__(self) -> None:
        kind = parse_choice(AccountKind, self.kind, what="account kind")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "currency", Currency.parse(self.currency))
        if not isinstance(self.owner, str) or not 1 <= len(self.owner) <= MAX_OWNER_LENGTH:
            raise InvalidInput(f"account owner must be 1-{MAX_OWNER_LENGTH} characters")
        if kind.is_player and self.owner == SYSTEM_OWNER:
            raise InvalidInput(f"a player account cannot be owned by {SYSTEM_OWNER!r}")
        debit_limited = _default(self.debits_must_not_exceed_credits, kind.is_player)
        credit_limited = _default(
            self.credits_must_not_exceed_debits,
            kind in (AccountKind.HOT_WALLET, AccountKind.COLD_WALLET),
        )
        shards = self.shards if self.shards is not None else _default_shards(kind)
        if kind.is_player and not debit_limited:
            raise InvalidInput("player accounts must never go below zero")
        if debit_limited and credit_limited:
            raise InvalidInput("an account can limit its debits or its credits, not both")
        if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
            raise InvalidInput(f"shards must be an integer from 1 to {MAX_SHARDS}")
        if shards > 1 and (debit_limited or credit_limited):
            raise InvalidInput(
                "a sharded account cannot have a balance limit: checking it would need "
                "every shard locked, which is what sharding avoids"
            )
        object.__setattr__(self, "debits_must_not_exceed_credits", debit_limited)
        object.__setattr__(self, "credits_must_not_exceed_debits", credit_limited)
        object.__setattr__(self, "shards", shards)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    kind: AccountKind
    owner: str
    currency: Currency
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    shards: int
    created_at: datetime
    closed_at: datetime | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def matches(self, spec: AccountSpec) -> bool:
        return (
            self.debits_must_not_exceed_credits == spec.debits_must_not_exceed_credits
            and self.credits_must_not_exceed_debits == spec.credits_must_not_exceed_debits
            and self.shards == spec.shards
        )


_OPEN = text(
    """
    WITH opened AS (
        INSERT INTO accounts (
            kind, owner, currency, debits_must_not_exceed_credits,
            credits_must_not_exceed_debits, shards)
        VALUES (:kind, :owner, :currency, :debit_limited, :credit_limited, :shards)
        ON CONFLICT (kind, owner, currency) DO NOTHING
        RETURNING *
    ), balance_rows AS (
        INSERT INTO account_balances (
            account_id, shard, debits_must_not_exceed_credits, credits_must_not_exceed_debits)
        SELECT o.id, s.shard, o.debits_must_not_exceed_credits, o.credits_must_not_exceed_debits
        FROM opened o CROSS JOIN generate_series(0, o.shards - 1) AS s(shard)
    )
    SELECT * FROM opened
    """
)


def open_account(bind: Bind, spec: AccountSpec) -> Account:
    """Open the account described by ``spec``, or return it if it already exists."""
    params = {
        "kind": spec.kind.value,
        "owner": spec.owner,
        "currency": spec.currency.value,
        "debit_limited": spec.debits_must_not_exceed_credits,
        "credit_limited": spec.credits_must_not_exceed_debits,
        "shards": spec.shards,
    }
    with ledger_errors(), single_statement(bind) as conn:
        row = conn.execute(_OPEN, params).one_or_none()
        # Opened concurrently or before: a new statement sees the committed row.
        account = _account(row) if row is not None else _find(conn, spec)
    if not account.matches(spec):
        raise IdempotencyConflict(
            f"account {spec.kind.value}/{spec.owner}/{spec.currency.value} already exists "
            f"as id {account.id} with other limits or shards"
        )
    return account


def system_account(bind: Bind, kind: AccountKind, currency: Currency) -> Account:
    """The casino's own account of ``kind`` in ``currency``, opened on first use.

    Account ids never change, so callers on a hot path may cache the result.
    """
    if parse_choice(AccountKind, kind, what="account kind").is_player:
        raise InvalidInput(f"{kind} is a player account kind, not a system one")
    return open_account(bind, AccountSpec(kind, SYSTEM_OWNER, currency))


def player_account(bind: Bind, owner: str, kind: AccountKind, currency: Currency) -> Account:
    """The player's account of ``kind`` in ``currency``, opened on first use."""
    if not parse_choice(AccountKind, kind, what="account kind").is_player:
        raise InvalidInput(f"{kind} is not a player account kind")
    return open_account(bind, AccountSpec(kind, owner, currency))


def get_account(bind: Bind, account_id: int) -> Account:
    with single_statement(bind) as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == account_id)).one_or_none()
    if row is None:
        raise AccountNotFound(f"account {account_id} does not exist")
    return _account(row)


def find_account(bind: Bind, kind: AccountKind, owner: str, currency: Currency) -> Account:
    """The existing account of (kind, owner, currency); never opens one."""
    with single_statement(bind) as conn:
        return _find(conn, AccountSpec(kind, owner, currency))


def close_account(bind: Bind, account_id: int) -> Account:
    """Close an account with a zero balance and nothing pending; closing twice is a no-op.

    The balance rows are locked first, so a posting waiting on them sees the closure and
    is refused with ``AccountClosed``.
    """
    with ledger_errors(), transaction(bind) as conn:
        rows = conn.execute(
            select(account_balances)
            .where(account_balances.c.account_id == account_id)
            .order_by(account_balances.c.shard)
            .with_for_update()
        ).all()
        if not rows:
            raise AccountNotFound(f"account {account_id} does not exist")
        debits = sum(row.debits_posted for row in rows)
        credits = sum(row.credits_posted for row in rows)
        pending = sum(row.debits_pending + row.credits_pending for row in rows)
        if debits != credits or pending:
            raise AccountNotEmpty(
                f"account {account_id} cannot be closed: its balance is {credits - debits} "
                f"with {pending} pending; move the funds out first"
            )
        conn.execute(
            account_balances.update()
            .where(account_balances.c.account_id == account_id)
            .values(closed=True)
        )
        conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id, accounts.c.closed_at.is_(None))
            .values(closed_at=text("now()"))
        )
        row = conn.execute(select(accounts).where(accounts.c.id == account_id)).one()
    return _account(row)


def _find(conn: Connection, spec: AccountSpec) -> Account:
    row = conn.execute(
        select(accounts).where(
            accounts.c.kind == spec.kind.value,
            accounts.c.owner == spec.owner,
            accounts.c.currency == spec.currency.value,
        )
    ).one_or_none()
    if row is None:
        raise AccountNotFound(
            f"no {spec.kind.value} account of {spec.owner} in {spec.currency.value}"
        )
    return _account(row)


def _account(row: Row[tuple[object, ...]]) -> Account:
    return Account(
        id=row.id,
        kind=AccountKind(row.kind),
        owner=row.owner,
        currency=Currency(row.currency),
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        shards=row.shards,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def _default(value: bool | None, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput(f"a balance limit flag must be a bool, got {type(value).__name__}")
    return value


def _default_shards(kind: AccountKind) -> int:
    return HOUSE_SHARDS if kind is AccountKind.HOUSE else 1
