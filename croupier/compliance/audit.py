"""The staff audit log: append-only, and hash-chained so an edit or a removal shows.

Each row holds ``prev_hash`` (the previous row's ``hash``; 64 zeros for the first) and
``hash = sha256(canonical encoding of seq, at, actor, action, subject, details,
prev_hash)``. The database refuses UPDATE, DELETE and TRUNCATE and checks that every
insert extends the chain; ``verify_chain`` recomputes every hash, so even a superuser
who disables the triggers to edit or delete a row is found out (the last rows can only
be cut off unseen, which is what an ``anchor`` taken earlier detects).

Appends are serialised by a transaction-scoped advisory lock, so two staff actions
committing at once can never both claim the same predecessor and fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from croupier.compliance.errors import InvalidAuditEntry
from croupier.compliance.tables import audit_log

GENESIS_HASH = "0" * 64
# sha256("croupier.audit_log")[:8] as a signed int64: the advisory lock of the appenders.
APPEND_LOCK_KEY = 4398615495286294364
MAX_DETAILS_BYTES = 8192
MAX_DETAILS_DEPTH = 8
MAX_ACTOR_CHARS = 100
MAX_SUBJECT_CHARS = 200
VERIFY_PAGE_ROWS = 1000

_ACTION_RE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_MAX_ACTION_CHARS = 64
_SYSTEM_ACTOR_RE = re.compile(r"^system:[a-z][a-z0-9_-]{0,60}$")

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, JsonValue]
    prev_hash: str
    hash: str


def canonical_encoding(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    """The bytes a row's hash covers: a JSON array with sorted keys and no whitespace.

    Time is UTC with microseconds, the precision PostgreSQL stores, so the encoding of a
    row read back equals the encoding it was hashed with.
    """
    assert at.tzinfo is not None, "audit times are timezone-aware"
    moment = at.astimezone(UTC).isoformat(timespec="microseconds")
    record = [seq, moment, actor, action, subject, details, prev_hash]
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    encoding = canonical_encoding(seq, at, actor, action, subject, details, prev_hash)
    return hashlib.sha256(encoding).hexdigest()


def record_staff_action(
    conn: Connection,
    actor: uuid.UUID | str,
    action: str,
    subject: str,
    details: Mapping[str, JsonValue],
) -> AuditEntry:
    """Append one staff action to the chain, inside the caller's transaction.

    Call it in the transaction that performs the action, so both commit or neither does,
    and call it last: the append lock is held until that transaction ends.
    """
    assert conn.in_transaction(), "record_staff_action belongs in the action's transaction"
    actor_name = _actor(actor)
    _check_action(action, subject)
    checked_details = _check_details(details)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
    head = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    # The database clock, read under the lock: times never run backwards along the chain.
    at: datetime = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    seq = 1 if head is None else head.seq + 1
    prev_hash = GENESIS_HASH if head is None else head.hash
    digest = entry_hash(seq, at, actor_name, action, subject, checked_details, prev_hash)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=actor_name,
            action=action,
            subject=subject,
            details=checked_details,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    return AuditEntry(seq, at, actor_name, action, subject, checked_details, prev_hash, digest)


# --- verification -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first row that is not what the chain says it must be (or that is missing)."""

    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows_checked: int
    head_seq: int | None
    head_hash: str | None
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


@dataclass(frozen=True, slots=True)
class Anchor:
    """A (seq, hash) noted earlier, e.g. published daily: rows up to it must still be there."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, raw: str) -> Anchor:
        seq_text, _, digest = raw.partition(":")
        if not seq_text.isdigit() or int(seq_text) < 1 or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise InvalidAuditEntry(f"an anchor looks like SEQ:SHA256HEX, got {raw!r}")
        return cls(int(seq_text), digest)


def verify_chain(
    engine: Engine, *, anchor: Anchor | None = None, page_rows: int = VERIFY_PAGE_ROWS
) -> ChainReport:
    """Walk the whole log in seq order, in one snapshot, and report the first break."""
    assert 1 <= page_rows <= 10_000
    walk = _Walk(anchor)
    snapshot = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with snapshot as conn, conn.begin():
        while walk.first_break is None:
            rows = conn.execute(
                select(audit_log)
                .where(audit_log.c.seq > walk.last_seq)
                .order_by(audit_log.c.seq)
                .limit(page_rows)
            ).all()
            for row in rows:
                if not walk.step(row):
                    break
            if len(rows) < page_rows:
                break
    if walk.first_break is None:
        walk.check_anchor()
    return ChainReport(
        rows_checked=walk.rows_checked,
        head_seq=walk.last_seq or None,
        head_hash=walk.last_hash if walk.last_seq else None,
        first_break=walk.first_break,
    )


class _Walk:
    """State of a verification walk: the last good row, and the first break if any."""

    def __init__(self, anchor: Anchor | None) -> None:
        self.anchor = anchor
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.rows_checked = 0
        self.first_break: ChainBreak | None = None

    def step(self, row: Any) -> bool:
        self.rows_checked += 1
        expected_seq = self.last_seq + 1
        if row.seq != expected_seq:
            return self._break(expected_seq, f"seq {expected_seq} is missing (removed)")
        if row.prev_hash != self.last_hash:
            return self._break(
                row.seq,
                f"prev_hash does not match the hash of seq {self.last_seq} "
                "(that row or this one was altered or replaced)",
            )
        digest = entry_hash(
            row.seq, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash
        )
        if digest != row.hash:
            return self._break(row.seq, "its contents do not match its hash (edited)")
        if self.anchor is not None and row.seq == self.anchor.seq and row.hash != self.anchor.hash:
            return self._break(row.seq, "its hash differs from the anchor taken earlier")
        self.last_seq, self.last_hash = row.seq, row.hash
        return True

    def check_anchor(self) -> None:
        """After an intact walk: the anchored row must have been reached."""
        if self.anchor is not None and self.anchor.seq > self.last_seq:
            self._break(
                self.last_seq + 1,
                f"the log ends at seq {self.last_seq} but the anchor names seq "
                f"{self.anchor.seq} (rows at the end were removed)",
            )

    def _break(self, seq: int, reason: str) -> bool:
        self.first_break = ChainBreak(seq, reason)
        return False


# --- input checks -------------------------------------------------------------------


def _actor(actor: uuid.UUID | str) -> str:
    if isinstance(actor, uuid.UUID):
        return str(actor)
    if _SYSTEM_ACTOR_RE.match(actor):
        return actor
    try:
        return str(uuid.UUID(actor))
    except ValueError:
        raise InvalidAuditEntry(
            f"an audit actor is a staff user id or 'system:<name>', got {actor[:40]!r}"
        ) from None


def _check_action(action: str, subject: str) -> None:
    if len(action) > _MAX_ACTION_CHARS or not _ACTION_RE.match(action):
        raise InvalidAuditEntry(
            f"an audit action is dotted lower-case words such as 'kyc.approve', got {action!r}"
        )
    if not 1 <= len(subject) <= MAX_SUBJECT_CHARS:
        raise InvalidAuditEntry(f"an audit subject is 1-{MAX_SUBJECT_CHARS} characters")


def _check_details(details: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """A plain dict of JSON values that PostgreSQL's jsonb returns unchanged.

    Floats are refused (jsonb would not give back the same text, and amounts are
    strings of minor units anyway), and so is NUL, which jsonb cannot store.
    """
    plain = _plain(details, depth=0)
    assert isinstance(plain, dict)
    size = len(json.dumps(plain, sort_keys=True, separators=(",", ":")).encode())
    if size > MAX_DETAILS_BYTES:
        raise InvalidAuditEntry(f"audit details are {size} bytes; at most {MAX_DETAILS_BYTES}")
    return plain


def _plain(value: object, *, depth: int) -> JsonValue:
    if depth > MAX_DETAILS_DEPTH:
        raise InvalidAuditEntry(f"audit details nest deeper than {MAX_DETAILS_DEPTH}")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidAuditEntry("audit details must not contain NUL characters")
        return value
    if isinstance(value, list | tuple):
        return [_plain(item, depth=depth + 1) for item in value]
    if isinstance(value, Mapping):
        plain: dict[str, JsonValue] = {}
        for key, item in value.items():
            if not isinstance(key, str) or "\x00" in key:
                raise InvalidAuditEntry("audit detail keys must be strings without NUL")
            plain[key] = _plain(item, depth=depth + 1)
        return plain
    raise InvalidAuditEntry(
        f"audit details hold str, int, bool, None, lists and objects; got {type(value).__name__}"
    )
