"""The read side: an account's balance and its statement, one keyset page at a time."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_

from croupier.core.errors import InvalidInput
from croupier.core.money import Currency
from croupier.ledger.connections import Bind, single_statement, snapshot
from croupier.ledger.errors import AccountNotFound
from croupier.ledger.kinds import AccountKind, Direction, TransferType
from croupier.ledger.schema import account_balances, accounts, ledger_entries

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class Balance:
    """The four TigerBeetle totals of an account (summed over its shards), and the
    figures people read, signed so that growth on the account's normal side is positive."""

    account_id: int
    kind: AccountKind
    currency: Currency
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def posted(self) -> int:
        if self.kind.normal_side is Direction.CREDIT:
            return self.credits_posted - self.debits_posted
        return self.debits_posted - self.credits_posted

    @property
    def pending(self) -> int:
        """Reserved by holds going out of the account (a player's pending bets)."""
        if self.kind.normal_side is Direction.CREDIT:
            return self.debits_pending
        return self.credits_pending

    @property
    def incoming(self) -> int:
        """Reserved by holds coming into the account, not spendable until posted."""
        if self.kind.normal_side is Direction.CREDIT:
            return self.credits_pending
        return self.debits_pending

    @property
    def available(self) -> int:
        """What a new movement out of the account may use."""
        return self.posted - self.pending


@dataclass(frozen=True, slots=True)
class StatementLine:
    entry_id: int
    transfer_id: str
    direction: Direction
    amount: int
    # ``amount`` signed for this account: positive when it grows the balance.
    change: int
    type: TransferType
    reference_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StatementPage:
    """Newest first. ``next_cursor`` fetches the older entries; None on the last page."""

    account_id: int
    lines: tuple[StatementLine, ...]
    next_cursor: str | None


def balance(bind: Bind, account_id: int) -> Balance:
    b = account_balances.c
    query = (
        select(
            accounts.c.kind,
            accounts.c.currency,
            func.sum(b.debits_posted).label("debits_posted"),
            func.sum(b.credits_posted).label("credits_posted"),
            func.sum(b.debits_pending).label("debits_pending"),
            func.sum(b.credits_pending).label("credits_pending"),
        )
        .join(account_balances, b.account_id == accounts.c.id)
        .where(accounts.c.id == account_id)
        .group_by(accounts.c.id)
    )
    with single_statement(bind) as conn:
        row = conn.execute(query).one_or_none()
    if row is None:
        raise AccountNotFound(f"account {account_id} does not exist")
    return Balance(
        account_id=account_id,
        kind=AccountKind(row.kind),
        currency=Currency(row.currency),
        debits_posted=int(row.debits_posted),
        credits_posted=int(row.credits_posted),
        debits_pending=int(row.debits_pending),
        credits_pending=int(row.credits_pending),
    )


def statement(
    bind: Bind, account_id: int, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> StatementPage:
    """One page of the account's posted entries, newest first.

    Keyset pagination on (created_at, id): a page costs the same however deep it is, and
    entries posted meanwhile do not shift later pages.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page size must be from 1 to {MAX_PAGE_SIZE}, got {limit!r}")
    e = ledger_entries.c
    query = (
        select(e.id, e.transfer_id, e.direction, e.amount, e.type, e.reference_id, e.created_at)
        .where(e.account_id == account_id)
        .order_by(e.created_at.desc(), e.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        after_created_at, after_id = _decode_cursor(cursor)
        # The plain bound lets PostgreSQL skip partitions newer than the cursor.
        query = query.where(
            e.created_at <= after_created_at,
            tuple_(e.created_at, e.id) < tuple_(after_created_at, after_id),
        )
    with snapshot(bind) as conn:
        kind = conn.execute(
            select(accounts.c.kind).where(accounts.c.id == account_id)
        ).scalar_one_or_none()
        if kind is None:
            raise AccountNotFound(f"account {account_id} does not exist")
        rows = conn.execute(query).all()
    normal_side = AccountKind(kind).normal_side
    lines = tuple(
        StatementLine(
            entry_id=row.id,
            transfer_id=row.transfer_id,
            direction=Direction(row.direction),
            amount=row.amount,
            change=row.amount if row.direction == normal_side else -row.amount,
            type=TransferType(row.type),
            reference_id=row.reference_id,
            created_at=row.created_at,
        )
        for row in rows[:limit]
    )
    more = len(rows) > limit
    next_cursor = _encode_cursor(lines[-1].created_at, lines[-1].entry_id) if more else None
    return StatementPage(account_id=account_id, lines=lines, next_cursor=next_cursor)


def _encode_cursor(created_at: datetime, entry_id: int) -> str:
    raw = f"{created_at.isoformat()}|{entry_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at_text, entry_id_text = base64.urlsafe_b64decode(padded).decode().split("|")
        created_at = datetime.fromisoformat(created_at_text)
        entry_id = int(entry_id_text)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("statement cursor is not one this ledger issued") from None
    if created_at.tzinfo is None:
        raise InvalidInput("statement cursor is not one this ledger issued")
    return created_at, entry_id
