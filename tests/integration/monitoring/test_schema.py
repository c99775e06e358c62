"""The hand-written monitoring migration and its SQLAlchemy tables describe one schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from croupier.monitoring.tables import MONITORING_TABLES, metadata


def monitoring_objects_only(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table":
        return name in MONITORING_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in MONITORING_TABLES


def test_the_migrated_schema_matches_the_table_definitions(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": monitoring_objects_only, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)

    assert differences == []
