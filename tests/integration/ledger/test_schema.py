"""The hand-written migrations and the SQLAlchemy tables describe the same schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from croupier.ledger.schema import LEDGER_TABLES, metadata


def ledger_objects_only(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Compare the ledger's tables; skip other domains' tables and the monthly partitions."""
    if type_ == "table":
        return name in LEDGER_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in LEDGER_TABLES


def test_the_migrated_schema_matches_the_table_definitions(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_object": ledger_objects_only, "compare_type": True},
        )
        differences = compare_metadata(context, metadata)

    assert differences == []
