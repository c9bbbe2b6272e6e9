"""The command line under issue 12, on both databases: every export states a
purpose and is audited with the operating-system user before the file is
written; ``adapt export audit`` and ``adapt audit verify``; ``adapt decide``
records the real user; ``adapt demo`` makes the demo accounts; an unsupported
database URL and a full disk are one line (exit 2); database and export files
are private (0600)."""

from __future__ import annotations

import csv
import errno
import os
import pwd
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import xlsxwriter.workbook
from sqlalchemy import event, text
from sqlalchemy.pool import Pool
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.core.settings import default_settings
from adapt.db import accounts, connect
from adapt.db.app_store import audit_frame, record
from adapt.db.engine import is_disk_full
from adapt.db.settings_store import decide_settings_version, save_settings_version
from adapt.exports import table as table_module
from adapt.synthetic import GeneratorConfig
from tests.extracts import simple_extract

runner = CliRunner()
REAL_USER = pwd.getpwuid(os.getuid()).pw_name
NO_SPACE = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def _one_line(result) -> str:  # type: ignore[no-untyped-def]
    """The single line a failing command prints (and no traceback)."""
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def loaded(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = simple_extract(tmp_path_factory.mktemp("extract") / "x", range(1, 6))
    assert _run("load", str(folder), "--db", module_db_url).exit_code == 0
    return module_db_url


def _log(url: str):  # type: ignore[no-untyped-def]
    """The audit log, newest first."""
    engine = connect(url)
    try:
        return audit_frame(engine)
    finally:
        engine.dispose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------- exports and purpose
def test_every_export_needs_a_purpose(loaded: str, tmp_path: Path) -> None:
    before = len(_log(loaded))
    out = tmp_path / "q.csv"
    result = _run("export", "quarantine", "--out", str(out), "--db", loaded)
    assert result.exit_code == 2 and "--purpose" in result.stderr
    result = _run("export", "quarantine", "--out", str(out), "--purpose", "  ", "--db", loaded)
    assert result.exit_code == 2 and "--purpose" in _one_line(result)
    assert not out.exists() and len(_log(loaded)) == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_export_is_audited_with_the_os_user_and_written_private(
    loaded: str, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "chief.constable")  # the environment is not who runs it
    monkeypatch.setenv("LOGNAME", "chief.constable")
    out = tmp_path / f"persons{suffix}"
    result = _run("export", "persons", "--out", str(out), "--purpose", "data quality",
                  "--db", loaded)  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = _log(loaded).iloc[0]
    assert (entry["action"], entry["username"], entry["role"]) == ("export", REAL_USER, "cli")
    assert entry["purpose"] == "Data quality"  # a listed purpose, whatever its case
    assert entry["detail"].startswith("persons: ")
    assert str(out.resolve()) in entry["detail"] and entry["detail"].endswith("data quality")
    assert f"audit entry {entry['id']}" in result.stdout
    assert _mode(out) == 0o600

    free = tmp_path / f"again{suffix}"
    why = "complaint 2026/114 from a victim's solicitor"
    assert _run("export", "persons", "--out", str(free), "--purpose", why,
                "--db", loaded).exit_code == 0  # fmt: skip
    entry = _log(loaded).iloc[0]
    assert pd.isna(entry["purpose"]) and entry["detail"].endswith(f"purpose: {why}")


class _FullDiskFile:
    """A file on a disk that has just filled up: every write fails with ENOSPC."""

    def __init__(self, handle) -> None:  # type: ignore[no-untyped-def]
        self._handle = handle

    def write(self, _data) -> int:  # type: ignore[no-untyped-def]
        raise NO_SPACE

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._handle, name)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self._handle.close()


class _FullDiskZip(zipfile.ZipFile):
    def writestr(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NO_SPACE

    def write(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NO_SPACE


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_export_to_a_full_disk_is_one_line_leaves_no_file_and_stays_audited(
    loaded: str, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if suffix == ".csv":
        real_open = open
        monkeypatch.setattr(
            table_module, "open",
            lambda path, mode="r", *a, **kw: _FullDiskFile(real_open(path, mode, *a, **kw)),
            raising=False,
        )  # fmt: skip
    else:  # XlsxWriter zips the workbook up as it closes it
        monkeypatch.setattr(xlsxwriter.workbook, "ZipFile", _FullDiskZip)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"persons{suffix}"
    result = _run("export", "persons", "--out", str(out), "--purpose", "Data quality",
                  "--db", loaded)  # fmt: skip
    assert result.exit_code == 2
    line = _one_line(result)
    assert str(out) in line and "No space left on device" in line
    assert list(folder.iterdir()) == []  # neither the file nor a temporary one
    failed, written = _log(loaded).iloc[0], _log(loaded).iloc[1]
    # The entry was written before the file was attempted; a second says it failed.
    assert written["action"] == failed["action"] == "export"
    assert "FAILED" not in written["detail"]
    assert failed["detail"] == written["detail"] + (
        " FAILED, nothing written: No space left on device"
    )


# ------------------------------------------------------------ the audit export
def test_the_audit_export_for_the_data_protection_officer(loaded: str, tmp_path: Path) -> None:
    today = date.today().isoformat()
    out = tmp_path / "audit.csv"
    result = _run("export", "audit", "--out", str(out), "--from", today, "--to", today,
                  "--purpose", "Audit", "--db", loaded)  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0])[-2:] == ["prev_hash", "row_hash"]
    assert all(row["at"].startswith(today) for row in rows)
    entry = _log(loaded).iloc[0]
    assert (entry["action"], entry["username"], entry["purpose"]) == (
        "audit_export", REAL_USER, "Audit")  # fmt: skip
    assert entry["detail"].startswith(f"audit: {len(rows)} rows, from {today} to {today}")
    assert _mode(out) == 0o600

    old = tmp_path / "old.csv"
    assert _run("export", "audit", "--out", str(old), "--from", "2001-01-01", "--to",
                "2001-12-31", "--purpose", "Audit", "--db", loaded).exit_code == 0  # fmt: skip
    assert len(old.read_text(encoding="utf-8-sig").splitlines()) == 1  # the header only
    late = _run("export", "audit", "--out", str(old), "--from", "2002-01-01", "--to",
                "2001-12-31", "--purpose", "Audit", "--db", loaded)  # fmt: skip
    assert late.exit_code == 2 and "after" in _one_line(late)
    other = _run("export", "persons", "--out", str(old), "--from", "2001-01-01",
                 "--purpose", "Audit", "--db", loaded)  # fmt: skip
    assert other.exit_code == 2 and "audit export only" in _one_line(other)


# --------------------------------------------------------------- audit verify
def test_audit_verify_says_intact_or_names_the_first_broken_entry(db_url: str) -> None:
    engine = connect(db_url)
    try:
        result = _run("audit", "verify", "--db", db_url)
        assert result.exit_code == 0 and result.stdout.strip() == "intact: 0 entries"
        for n in range(3):
            record(engine, username=f"u{n}", action="sign_in", detail=str(n))
        result = _run("audit", "verify", "--db", db_url)
        assert result.exit_code == 0 and result.stdout.startswith("intact: 3 entries; last entry 3")
        with engine.begin() as conn:  # the owner, triggers out of the way
            if engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET username = 'someone else' WHERE id = 2"))
        at = audit_frame(engine).set_index("id").loc[2, "at"]
    finally:
        engine.dispose()
    result = _run("audit", "verify", "--db", db_url)
    assert result.exit_code == 1
    line = _one_line(result)
    assert f"broken at entry 2 ({at:%Y-%m-%d %H:%M:%S})" in line and "altered" in line


# ------------------------------------------------------------ decide, undecide
def test_decide_and_undecide_record_the_os_user(loaded: str) -> None:
    result = _run("decide", "involvements:2", "involvements:4", "--same", "--reason",
                  "same date of birth", "--author", "Jane", "--db", loaded)  # fmt: skip
    assert result.exit_code == 0, result.output
    decision_id = int(result.stdout.split()[1])
    entry = _log(loaded).iloc[0]
    assert (entry["action"], entry["username"], entry["role"]) == (
        "identity_decision", REAL_USER, "cli")  # fmt: skip
    assert entry["detail"].startswith(f"decision {decision_id}: ")
    result = _run("undecide", str(decision_id), "--reason", "wrong pair", "--db", loaded)
    assert result.exit_code == 0, result.output
    engine = connect(loaded)
    try:
        with engine.connect() as conn:
            author, revoked_by = conn.execute(
                text("SELECT author, revoked_by FROM identity_decisions WHERE id = :id"),
                {"id": decision_id},
            ).one()
    finally:
        engine.dispose()
    assert (author, revoked_by) == (f"{REAL_USER} (Jane)", REAL_USER)
    assert _log(loaded).iloc[0]["detail"].startswith(f"decision {decision_id} revoked")


# ------------------------------------------------------ the settings in force
def test_score_and_the_cohort_export_use_the_approved_settings_and_say_so(
    db_url: str, tmp_path: Path
) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 8))
    assert _run("load", str(folder), "--db", db_url).exit_code == 0
    assert _run("resolve", "--db", db_url).exit_code == 0
    result = _run("score", "--db", db_url)
    assert "settings: packaged defaults" in result.stdout  # none approved yet
    engine = connect(db_url)
    try:
        draft = default_settings().with_changes(
            {}, name="force", version="2", author="analyst", reason="tuned"
        )
        save_settings_version(engine, draft)
        decide_settings_version(engine, "force", "2", approve=True, by="admin", role="admin",
                                reason="checked")  # fmt: skip
    finally:
        engine.dispose()
    result = _run("score", "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "settings: approved version 'force' v2, approved by admin" in result.stdout
    assert "settings force v2" in result.stdout
    out = tmp_path / "cohort.csv"
    result = _run("export", "cohort", "--out", str(out), "--purpose", "test", "--db", db_url)
    assert result.exit_code == 0 and "approved version 'force' v2" in result.stdout
    assert "settings force v2" in _log(db_url).iloc[0]["detail"]


# ------------------------------------------------------------------- adapt demo
def test_the_demo_makes_the_demo_accounts_on_sqlite_only(db_url: str, tmp_path: Path) -> None:
    config = GeneratorConfig(seed=3, incidents=120)
    result = pipeline.demo(db_url, tmp_path / "demo", config=config)
    engine = connect(db_url)
    try:
        present = accounts.users_frame(engine)["username"].tolist()
    finally:
        engine.dispose()
    if db_url.startswith("sqlite"):
        assert result.accounts == ("officer", "chair", "analyst", "admin")
        assert sorted(present) == sorted(result.accounts)
    else:
        assert result.accounts == () and present == []


# -------------------------------------------------------------- low findings
@pytest.mark.parametrize(
    "url",
    ["mysql://user@host/db", "nonsense", "sqlite+pysqlcipher:///x.db",
     "postgresql+psycopg2://user@host/db", "oracle://host/db"],
)  # fmt: skip
def test_an_unsupported_database_url_is_one_line(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("audit", "verify", "--db", url)
    assert result.exit_code == 2
    assert "cannot open database" in _one_line(result) or "not valid" in _one_line(result)
    assert list(tmp_path.iterdir()) == []  # no file made for a database never opened


@contextmanager
def _small_disk() -> Iterator[None]:
    """Every new SQLite connection may grow its database by 20 pages only:
    SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk."""

    def cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if type(dbapi_connection).__module__ != "sqlite3":
            return
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages + 20}")
        cursor.close()

    event.listen(Pool, "connect", cap)
    try:
        yield
    finally:
        event.remove(Pool, "connect", cap)


def test_a_full_disk_during_a_load_is_one_line_and_stores_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'adapt.sqlite'}"
    connect(url).dispose()  # the schema first
    folder = simple_extract(tmp_path / "x", range(1, 400))
    with _small_disk():
        result = _run("load", str(folder), "--db", url)
    assert result.exit_code == 2
    assert "disk is full" in _one_line(result)
    engine = connect(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0
    finally:
        engine.dispose()


def test_postgresql_disk_full_is_recognised() -> None:
    """PostgreSQL's disk cannot be filled from a test; its error is recognised
    by SQLSTATE 53100 (the same path as SQLite's SQLITE_FULL above)."""
    assert is_disk_full(psycopg.errors.DiskFull("could not extend file"))
    assert not is_disk_full(psycopg.errors.UniqueViolation("duplicate key"))
    assert is_disk_full(NO_SPACE) and not is_disk_full(OSError(errno.EACCES, "denied"))


def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which made them world-readable
    try:
        path = tmp_path / "new" / "adapt.sqlite"
        engine = connect(f"sqlite:///{path}")
        with engine.connect() as conn:  # open, so the -wal and -shm files exist
            record(engine, username="u", action="sign_in")
            conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        engine.dispose()
        assert _mode(path.parent) == 0o700
    finally:
        os.umask(old)
