"""Alembic environment: online migrations only, URL supplied by ``croupier.ledger.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from croupier.ledger.schema import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "croupier.ledger.migrate sets sqlalchemy.url"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `croupier migrate`")
run_migrations_online()
