"""Shared fixtures. Database tests take ``db_url`` and run on SQLite and, when
``ADAPT_TEST_DATABASE_URL`` is set, on PostgreSQL too (each test in a schema
of its own, dropped afterwards). The database is never mocked."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("ADAPT_TEST_DATABASE_URL")


def _pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database URL of ``kind`` (sqlite or postgresql)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'adapt.sqlite'}"
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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL."""
    with _database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database shared by the tests of one module (they must not
    depend on each other's writes)."""
    with _database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def demo_history(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The committed demo extract loaded, resolved and scored into SQLite once
    per test session, read back as a History (treat it as read-only)."""
    from typer.testing import CliRunner

    from adapt.cli import app
    from adapt.db import connect
    from adapt.db.history import load_history

    demo = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "demo"
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    result = CliRunner().invoke(app, ["run", str(demo), "--db", url])
    assert result.exit_code == 0, result.output
    engine = connect(url)
    try:
        return load_history(engine)
    finally:
        engine.dispose()
