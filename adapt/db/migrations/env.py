"""Alembic environment. The package runs migrations itself (``adapt.db.engine``);
it passes an open connection in ``config.attributes['connection']``."""

from __future__ import annotations

from alembic import context

from adapt.db.models import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` command line on a developer machine
        from adapt.db.engine import connect

        engine = connect(config.get_main_option("sqlalchemy.url"), migrate=False)
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
