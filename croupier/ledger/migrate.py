"""Run Alembic migrations programmatically, so ``croupier migrate`` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from croupier.core.settings import to_sqlalchemy_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", to_sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema at ``url`` to ``revision``; safe to run on every start.

    Each domain owns an independent branch of revisions (ledger, identity, ...), so the
    default target is every head.
    """
    command.upgrade(alembic_config(url), revision)


def current_revisions(url: str) -> set[str]:
    engine = create_engine(to_sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def missing_revisions(url: str) -> set[str]:
    """Revisions the database has not applied yet; empty when it is up to date.

    Comparing current heads with script heads is not enough: a revision reached through
    another branch's ``depends_on`` is applied without being a current head.
    """
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    current = tuple(current_revisions(url))
    applied = {rev.revision for rev in script.iterate_revisions(current, "base") if rev}
    everything = {rev.revision for rev in script.walk_revisions()}
    return everything - applied
