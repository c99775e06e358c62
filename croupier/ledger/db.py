"""Engines and connectivity checks for PostgreSQL (psycopg 3 through SQLAlchemy 2)."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
from sqlalchemy import Engine, create_engine, text

from croupier.core.errors import ServiceUnavailable
from croupier.core.settings import to_sqlalchemy_url


def make_engine(
    url: str, *, pool_size: int = 10, connect_timeout_s: int = 5, pre_ping: bool = True
) -> Engine:
    """An engine that fails fast when the server is unreachable instead of hanging.

    ``pre_ping`` tests each pooled connection with a round trip before handing it out.
    A hot path whose work is idempotent and retried (ledger postings in activities) may
    turn it off: a stale connection then fails one attempt, which is retried, instead of
    every call paying a round trip.
    """
    return create_engine(
        to_sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        connect_args={"connect_timeout": connect_timeout_s},
    )


def _libpq_url(url: str) -> str:
    """psycopg wants ``postgresql://``; SQLAlchemy URLs name the driver."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def redact(url: str) -> str:
    """The URL without its password, safe for logs and error messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def check_database(url: str, *, connect_timeout_s: int = 5) -> str:
    """Connect once and return the server version, or raise ``ServiceUnavailable`` quickly."""
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=connect_timeout_s) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ServiceUnavailable(
            f"cannot reach PostgreSQL at {redact(url)} within {connect_timeout_s}s: {reason}"
        ) from None
    assert row is not None
    return str(row[0])


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server if missing; return a URL pointing at it."""
    with psycopg.connect(_libpq_url(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(_libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_database(url: str, name: str) -> str:
    """Return ``url`` with its database path replaced by ``name`` (query string kept)."""
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def server_now(engine: Engine) -> str:
    """The database server's clock, as ISO text; used by health probes."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT now()")).scalar_one())
