"""Shared fixtures. Database tests take ``db_url`` and run on SQLite and, when
``ADAPT_TEST_DATABASE_URL`` is set, on PostgreSQL too (each test in a schema
of its own, dropped afterwards). The database is never mocked."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("ADAPT_TEST_DATABASE_URL")


def _pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'adapt.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("ADAPT_TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
