"""Property, through the database: any mutation of a valid folder either stops
as a structural error with nothing written, or stores every record or
quarantines it (nothing lost), and loading it again changes nothing."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from sqlalchemy import create_engine, text

from adapt.contract import StructuralError, read_extract
from adapt.db import connect, load_extract
from adapt.db.models import CONTRACT_TABLES
from tests.conftest import PG_URL, _pg_schema_url
from tests.test_contract_properties import NOW, mutated


def _check(url: str, folder: Path) -> None:
    engine = connect(url)
    try:
        extract = read_extract(folder, now=NOW)
    except StructuralError:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM imports")).scalar_one() == 0
        return
    first = load_extract(engine, extract)
    with engine.connect() as conn:
        for name, parsed in extract.files.items():
            table = CONTRACT_TABLES[name][0].name
            stored = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            quarantined = extract.quarantine.loc[
                extract.quarantine.source_file == name, "source_row"
            ].nunique()
            assert stored + quarantined == parsed.records, name
    again = load_extract(engine, read_extract(folder, now=NOW))
    assert all(c.loaded == 0 and c.updated == 0 for c in again.files)
    assert [c.unchanged for c in again.files] == [c.loaded for c in first.files]
    assert again.new_quarantine_rows == 0
    engine.dispose()


def _run(files: dict[str, str], url_for) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "extract"
        folder.mkdir()
        for name, body in files.items():
            (folder / name).write_text(body, encoding="utf-8", newline="")
        with url_for(Path(tmp)) as url:
            _check(url, folder)


class _Sqlite:
    def __init__(self, tmp: Path) -> None:
        self.url = f"sqlite:///{tmp / 'p.sqlite'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


class _Postgres:
    def __init__(self, tmp: Path) -> None:
        self.schema = f"p_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(str(PG_URL).replace("postgresql://", "postgresql+psycopg://"))

    def __enter__(self) -> str:
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
        return _pg_schema_url(str(PG_URL), self.schema)

    def __exit__(self, *exc: object) -> None:
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")
        self.admin.dispose()


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mutated())
def test_mutated_folder_loses_nothing_sqlite(files: dict[str, str]) -> None:
    _run(files, _Sqlite)


@SETTINGS
@given(mutated())
def test_mutated_folder_loses_nothing_postgresql(files: dict[str, str]) -> None:
    if not PG_URL:
        import pytest

        pytest.skip("ADAPT_TEST_DATABASE_URL is not set")
    _run(files, _Postgres)
