"""How ledger functions get a connection: the caller's transaction, or one of their own.

Every public ledger function takes a ``Bind``: an ``Engine`` or a ``Connection``.

- Given a ``Connection``, the function runs inside the caller's transaction and never
  commits: a bet settlement can post the stake, pay the win and write its own rows, and
  all of it commits or rolls back together. A refusal raises, and the caller's
  transaction must then be rolled back (``with engine.begin()`` does that).
- Given an ``Engine``, the function commits its own work. Work done in one statement (a
  posting) runs on an autocommit connection: one round trip instead of three (BEGIN,
  statement, COMMIT), and the statement is still atomic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine

Bind = Engine | Connection


def call(bind: Bind, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ONE statement (a call of a ledger function) and return its rows.

    This is the path of every bet, so with an ``Engine`` it goes to psycopg directly on a
    pooled connection switched to autocommit: one round trip, and about half the Python
    time of a SQLAlchemy execution. psycopg prepares the statement after a few calls.
    Errors are psycopg's own (``croupier.ledger.errors`` translates both kinds).
    """
    if isinstance(bind, Connection):
        return [tuple(row) for row in bind.exec_driver_sql(sql, tuple(params))]
    pooled = bind.raw_connection()
    try:
        driver = pooled.driver_connection
        assert driver is not None
        driver.autocommit = True
        try:
            rows: list[tuple[Any, ...]] = driver.execute(sql, params).fetchall()
            return rows
        finally:
            # A refused posting leaves the connection idle and reusable; anything else
            # (a dropped connection) leaves it in an unknown state: never pool it again.
            if driver.info.transaction_status is TransactionStatus.IDLE:
                driver.autocommit = False
            else:
                pooled.invalidate()
    finally:
        pooled.close()


@contextmanager
def transaction(bind: Bind) -> Iterator[Connection]:
    """The caller's transaction, or a new one committed on success."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.begin() as conn:
        yield conn


@contextmanager
def single_statement(bind: Bind) -> Iterator[Connection]:
    """For work that is ONE statement: the caller's transaction, or autocommit."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def snapshot(bind: Bind) -> Iterator[Connection]:
    """A read-only REPEATABLE READ transaction: several queries, one consistent view.

    Given a ``Connection``, its transaction is used as is (the caller chose its isolation).
    """
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn
