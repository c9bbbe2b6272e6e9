"""The audit log nobody can rewrite (issue 12), on both databases: each entry
carries the previous entry's hash, ``verify_chain`` names the first entry that
was altered, removed, inserted out of turn or back-dated, the database refuses
an insert that reuses an id or does not continue the chain, and on PostgreSQL
the app's role may only INSERT and SELECT the log (and nobody may TRUNCATE it)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from adapt import pipeline
from adapt.db import connect
from adapt.db.app_store import (
    APP_ROLE,
    GENESIS_HASH,
    audit_export_frame,
    record,
    row_hash,
    verify_chain,
)
from adapt.db.engine import downgrade, upgrade, utc_now
from tests.conftest import PG_URL, _database
from tests.extracts import simple_extract


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = connect(db_url)
    for n in range(5):
        record(eng, username=f"user{n}", action="view_person", person_id=f"P{n:07d}",
               purpose="Offender management", detail=f"entry {n}")  # fmt: skip
    yield eng
    eng.dispose()


def _postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _unguarded(engine: Engine, statement: str, **params: object) -> None:
    """Run ``statement`` as someone with the database file or the owner's
    password would, with the append-only triggers out of the way."""
    with engine.begin() as conn:
        if _postgres(engine):
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            conn.execute(text(statement), params)
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        else:
            for event in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER audit_log_no_{event}"))
            conn.execute(text(statement), params)


def _last(engine: Engine) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")).mappings()
        return dict(row.one())


def _forged(engine: Engine, **changes: object) -> dict:
    """The next entry as an insider who knows the hash rule would write it."""
    last = _last(engine)
    prev = changes.pop("prev_hash", last["row_hash"])
    entry = {"id": last["id"] + 1, "at": utc_now(), "username": "insider", "role": None,
             "action": "view_person", "person_id": "P0000009", "purpose": None,
             "detail": "forged"}  # fmt: skip
    entry.update(changes)
    return {**entry, "prev_hash": prev, "row_hash": row_hash(prev, **entry)}


_INSERT = (
    "INSERT INTO audit_log (id, at, username, role, action, person_id, purpose, detail, "
    "prev_hash, row_hash) VALUES (:id, :at, :username, :role, :action, :person_id, :purpose, "
    ":detail, :prev_hash, :row_hash)"
)


# ------------------------------------------------------------------ the chain
def test_every_entry_carries_the_hash_of_the_one_before(engine: Engine) -> None:
    frame = audit_export_frame(engine)
    assert frame["prev_hash"].iloc[0] == GENESIS_HASH
    assert frame["prev_hash"].iloc[1:].tolist() == frame["row_hash"].iloc[:-1].tolist()
    report = verify_chain(engine)
    assert report.intact and report.entries == 5
    assert report.last_id == frame["id"].iloc[-1] and report.last_hash == frame["row_hash"].iloc[-1]


def test_an_altered_entry_is_named(engine: Engine) -> None:
    _unguarded(engine, "UPDATE audit_log SET detail = 'nothing to see' WHERE detail = 'entry 2'")
    report = verify_chain(engine)
    assert not report.intact
    assert report.broken.id == 3 and "altered" in report.broken.reason


def test_a_removed_entry_breaks_the_chain_at_the_next(engine: Engine) -> None:
    _unguarded(engine, "DELETE FROM audit_log WHERE detail = 'entry 1'")
    report = verify_chain(engine)
    assert report.broken.id == 3 and "removed, inserted or rewritten" in report.broken.reason


def test_a_back_dated_insert_is_named(engine: Engine) -> None:
    forged = _forged(engine, at=utc_now() - timedelta(hours=3))
    with engine.begin() as conn:  # continues the chain, so the triggers let it in
        conn.execute(text(_INSERT), forged)
    report = verify_chain(engine)
    assert report.broken.id == forged["id"] and "back-dated" in report.broken.reason
    # within the clock tolerance it is not
    assert verify_chain(engine, tolerance=timedelta(hours=4)).intact


def test_a_future_dated_insert_is_named(engine: Engine) -> None:
    forged = _forged(engine, at=utc_now() + timedelta(hours=3))
    with engine.begin() as conn:
        conn.execute(text(_INSERT), forged)
    assert "in the future" in verify_chain(engine).broken.reason


def test_concurrent_writers_do_not_fork_the_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(8):
                record(engine, username=f"writer{n}", action="sign_in", detail=str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain(engine)
    assert report.intact and report.entries == 5 + 32


# ---------------------------------------------------------------- the guards
def test_an_insert_that_reuses_an_id_is_refused(engine: Engine) -> None:
    """SQLite's INSERT OR REPLACE deletes the old row without firing a delete
    trigger; PostgreSQL's ON CONFLICT DO UPDATE is an update."""
    replacement = {**_forged(engine), "id": 2}
    if _postgres(engine):
        statement = _INSERT + " ON CONFLICT (id) DO UPDATE SET detail = excluded.detail"
    else:
        statement = _INSERT.replace("INSERT INTO", "INSERT OR REPLACE INTO")
    refused = pytest.raises(DBAPIError, match=r"above every stored one|append-only")
    with refused, engine.begin() as conn:
        conn.execute(text(statement), replacement)
    assert verify_chain(engine).intact
    assert audit_export_frame(engine)["detail"].tolist()[1] == "entry 1"


def test_an_insert_that_does_not_continue_the_chain_is_refused(engine: Engine) -> None:
    for forged in (_forged(engine, prev_hash=GENESIS_HASH), {**_forged(engine), "row_hash": None}):
        with pytest.raises(DBAPIError, match="continue the hash chain"), engine.begin() as conn:
            conn.execute(text(_INSERT), forged)
    assert verify_chain(engine).entries == 5


def test_truncate_is_refused_on_postgresql(engine: Engine) -> None:
    if not _postgres(engine):
        pytest.skip("SQLite has no TRUNCATE (DELETE is refused by the append-only trigger)")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log"))
    assert verify_chain(engine).entries == 5


def test_an_entry_written_without_hashes_is_sealed_into_the_chain_once(engine: Engine) -> None:
    """Code that appends to the log directly (an identity run's case moves, in
    bulk) writes no hashes; the next append, or verify, chains them in order,
    and after that the entry is as fixed as any other."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, username, action, detail) "
                "VALUES (:at, 'adapt', 'case_items_moved', 'bulk')"
            ),
            {"at": utc_now()},
        )
    record(engine, username="after", action="sign_in")
    frame = audit_export_frame(engine)
    assert frame["row_hash"].notna().all() and frame["detail"].tolist()[-2] == "bulk"
    assert verify_chain(engine).intact and verify_chain(engine).entries == 7
    sealed = int(frame["id"].iloc[-2])
    for change in ("row_hash = prev_hash", "detail = 'other'"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"UPDATE audit_log SET {change} WHERE id = :id"), {"id": sealed})
    # Filling an unsealed entry's hashes out of turn, or changing it meanwhile, is refused.
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_log (at, username, action) VALUES (:at, 'adapt', 'import')"),
            {"at": utc_now()},
        )
    bad_fills = (
        f"prev_hash = '{GENESIS_HASH}', row_hash = 'x'",
        "prev_hash = (SELECT max(row_hash) FROM audit_log), row_hash = 'x', detail = 'y'",
    )
    for fill in bad_fills:
        refused = pytest.raises(DBAPIError, match=r"append-only|continue the hash chain")
        with refused, engine.begin() as conn:
            conn.execute(text(f"UPDATE audit_log SET {fill} WHERE row_hash IS NULL"))
    assert verify_chain(engine).intact  # sealed properly by verify


# ------------------------------------------------------------- the migration
def test_the_migration_chains_the_entries_already_logged(db_url: str) -> None:
    engine = connect(db_url, migrate=False)
    try:
        upgrade(engine, "0009")
        with engine.begin() as conn:
            for day in (1, 2, 3):
                conn.execute(
                    text(
                        "INSERT INTO audit_log (at, username, action, detail) "
                        "VALUES (:at, 'old', 'sign_in', 'before the chain')"
                    ),
                    {"at": (utc_now() - timedelta(days=4 - day)).replace(microsecond=0)},
                )
        upgrade(engine)
        report = verify_chain(engine)
        assert report.intact and report.entries == 3
        record(engine, username="new", action="sign_in")
        assert verify_chain(engine).entries == 4
        downgrade(engine, "0009")  # and back: the columns go, the rows stay
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 4
        upgrade(engine)
        assert verify_chain(engine).intact
    finally:
        engine.dispose()


# ------------------------------------------------------ the app's own role
@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with _database("postgresql", tmp_path) as url:
        yield url


def test_the_app_role_may_only_insert_and_select_the_audit_log(pg_url: str, tmp_path: Path) -> None:
    owner = connect(pg_url)  # migrated by the owner, who creates adapt_app
    record(owner, username="owner", action="sign_in")
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    login = f"adapt_t_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {login} LOGIN IN ROLE {APP_ROLE}"))
    app = None
    try:
        app = connect(make_url(pg_url).set(username=login).render_as_string(hide_password=False))
        record(app, username="officer", action="view_person", purpose="Offender management")
        with pytest.raises(DBAPIError, match="append-only"), app.begin() as conn:
            conn.execute(text("UPDATE audit_log SET row_hash = 'x'"))  # sealed: refused
        for statement in (
            "UPDATE audit_log SET detail = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
        ):
            refused = pytest.raises(DBAPIError, match=r"permission denied|must be owner")
            with refused, app.begin() as conn:
                conn.execute(text(statement))
        # Everything else the app does still works as that role.
        pipeline.run(app, simple_extract(tmp_path / "x", range(1, 6)))
        report = verify_chain(app)
        assert report.intact and report.entries == 2
    finally:
        if app is not None:
            app.dispose()
        owner.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP ROLE {login}"))
        admin.dispose()


def test_a_read_only_role_verifies_without_sealing(pg_url: str) -> None:
    """The data protection officer may check the log with a role that can only
    read it: entries not sealed yet are counted, not called broken."""
    owner = connect(pg_url)
    record(owner, username="owner", action="sign_in")
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (at, username, action) "
                          "VALUES (now() at time zone 'utc', 'adapt', 'import')"))  # fmt: skip
    schema = make_url(pg_url).query["options"].split("=", 1)[1]
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    login = f"adapt_t_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {login} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {login}"))
        conn.execute(text(f"GRANT SELECT ON {schema}.audit_log, {schema}.alembic_version "
                          f"TO {login}"))  # fmt: skip
    reader = None
    try:
        reader = connect(make_url(pg_url).set(username=login).render_as_string(False))
        report = verify_chain(reader)
        assert report.intact and (report.entries, report.unsealed) == (2, 1)
        assert verify_chain(owner).unsealed == 0  # the owner seals it
    finally:
        if reader is not None:
            reader.dispose()
        owner.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {login}"))
            conn.execute(text(f"DROP ROLE {login}"))
        admin.dispose()
