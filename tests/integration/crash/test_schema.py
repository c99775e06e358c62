"""The hand-written crash migration and its SQLAlchemy tables describe one schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from croupier.crash.tables import metadata

CRASH_TABLES = frozenset(metadata.tables)


def crash_objects_only(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table":
        return name in CRASH_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in CRASH_TABLES


def test_the_migrated_schema_matches_the_table_definitions(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": crash_objects_only, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)

    assert differences == []
