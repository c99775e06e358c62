"""The database as a one-off command sees it: checked reachable before any work, one
connection, disposed when the command is done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from croupier.core.errors import InvalidInput
from croupier.core.settings import Settings


@contextmanager
def command_engine(settings: Settings) -> Iterator[Engine]:
    """Refuses in one line (``InvalidInput``, ``ServiceUnavailable``) before the command
    has done anything, when the URL is missing or the server does not answer."""
    # Imported here: the database driver is not every command's cost.
    from croupier.ledger.db import check_database, make_engine

    if settings.database_url is None:
        raise InvalidInput("CROUPIER_DATABASE_URL is not set; expected a PostgreSQL URL")
    check_database(settings.database_url, connect_timeout_s=settings.database_connect_timeout_s)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        yield engine
    finally:
        engine.dispose()
