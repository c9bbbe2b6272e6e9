"""The migrations and ``adapt.db.models`` describe the same schema.

Every query is written against ``adapt.db.models``; the database is made by the
migrations. If the two drift (a column added to the wrong table, a migration
without its model), queries fail only on the path that uses the column, or
silently write to a column the migration never made. Alembic's own comparison
of a migrated database with the metadata finds any such drift.

On PostgreSQL the tables that grow with the data are partitioned (migration
0019; declared in the models with ``postgresql_partition_by``). The models
name the partitioned table only: its partitions (``incidents_p00`` ..) are
PostgreSQL's own tables, left out of the comparison and checked instead to be
exactly the partitions the models declare.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from adapt.db import connect
from adapt.db.models import PG_PARTITIONS, metadata


def _partitions(conn: Connection) -> dict[str, str]:
    """Partition name -> its partitioned table, in the current schema (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return {}
    rows = conn.execute(
        text(
            "SELECT c.relname, p.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE c.relispartition AND c.relkind IN ('r', 'p') "
            "AND c.relnamespace = current_schema()::regnamespace"
        )
    ).all()
    return {child: parent for child, parent in rows}


def test_the_migrated_database_matches_the_models(db_url: str) -> None:
    engine = connect(db_url)  # runs every migration to head
    try:
        with engine.connect() as conn:
            partitions = _partitions(conn)

            def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
                if type_ == "table":
                    return name not in partitions
                return parent_names.get("table_name") not in partitions

            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            drift = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert drift == [], f"migrations and adapt.db.models disagree: {drift}"
    declared = {
        t.name for t in metadata.tables.values() if t.dialect_options["postgresql"]["partition_by"]
    }
    if engine.dialect.name == "postgresql":
        expected = {f"{t}_p{n:02d}": t for t in declared for n in range(PG_PARTITIONS)}
        assert partitions == expected
    else:
        assert partitions == {}
