"""The migrations and ``adapt.db.models`` describe the same schema.

Every query is written against ``adapt.db.models``; the database is made by the
migrations. If the two drift (a column added to the wrong table, a migration
without its model), queries fail only on the path that uses the column, or
silently write to a column the migration never made. Alembic's own comparison
of a migrated database with the metadata finds any such drift.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapt.db import connect
from adapt.db.models import metadata


def test_the_migrated_database_matches_the_models(db_url: str) -> None:
    engine = connect(db_url)  # runs every migration to head
    try:
        with engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert drift == [], f"migrations and adapt.db.models disagree: {drift}"
