"""Opening a database: URL resolution, connection settings, migrations.

SQLite is the embedded default and PostgreSQL the production database; both
are first-class. On SQLite every connection runs in WAL mode with foreign keys
on and a long busy timeout, and a writer opens its transaction with
``BEGIN IMMEDIATE`` (a deferred transaction that reads and then writes can fail
at once with "database is locked" whatever the timeout). On PostgreSQL writers
serialise on an advisory lock taken inside their transaction.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from adapt.core.resources import data_folder

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary constant shared by every ADAPT writer on a PostgreSQL database.
WRITER_LOCK_KEY = 0x0ADA_9700
SQLITE_BUSY_TIMEOUT_MS = 15 * 60 * 1000
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def utc_now() -> datetime:
    """Now, in UTC, without a time zone: how every stored timestamp is kept."""
    return datetime.now(UTC).replace(tzinfo=None)


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened or reached. The message names the
    database (without any password) and the cause."""


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (a database error, wrapped or not, or an OSError) says
    the disk under the database or a file is full: SQLite's SQLITE_FULL,
    PostgreSQL's ``disk_full`` (SQLSTATE 53100), or ENOSPC."""
    if isinstance(exc, DBAPIError):
        exc = exc.orig or exc
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return getattr(exc, "sqlstate", None) == "53100"


def default_url() -> str:
    """``ADAPT_DATABASE_URL``, else an SQLite file in the user's data folder."""
    env = os.environ.get("ADAPT_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{data_folder() / 'adapt.sqlite'}"


def _normalise(url: str) -> str:
    # Plain postgresql:// URLs would pick psycopg2, which we do not ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def connect(url: str | None = None, *, migrate: bool = True) -> Engine:
    """Open the database at ``url`` (default: :func:`default_url`) and bring
    its schema up to date.

    Raises
    ------
    DatabaseUnavailable
        The URL is malformed or the server cannot be reached.
    """
    raw = _normalise(url or default_url())
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"database URL is not valid: {exc}") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseUnavailable(
            f"cannot open database {shown}: only SQLite and PostgreSQL are supported "
            "(sqlite:///FILE or postgresql://USER@HOST/DATABASE)"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            if parsed.database and parsed.database != ":memory:":  # once the driver loads
                _create_private_file(Path(parsed.database))
            _configure_sqlite(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except ArgumentError as exc:  # includes an unknown dialect or driver
        raise DatabaseUnavailable(f"cannot open database {shown}: {exc}") from None
    except ImportError as exc:  # a driver ADAPT does not ship, e.g. sqlite+pysqlcipher
        raise DatabaseUnavailable(
            f"cannot open database {shown}: its driver is not installed ({exc.name})"
        ) from None
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot open database {shown}: {exc.strerror}") from None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:  # unreachable server, not a database file, ...
        engine.dispose()
        cause = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"cannot open database {shown}: {cause}") from None
    if migrate:
        upgrade(engine)
    return engine


def _create_private_file(path: Path) -> None:
    """Create a new SQLite file (and any missing folders) readable by its owner
    only: it holds personal data. SQLite gives the -wal and -shm files it
    creates beside it the same mode. An existing file is left as it is."""
    if str(path).startswith("file:"):  # a URI filename: SQLite opens it itself
        return
    old_umask = os.umask(0o077)  # new folders 0700
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    finally:
        os.umask(old_umask)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the sqlite3 module so that
        # BEGIN is ours to issue (see the ``begin`` listener).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 256 MB page cache: bulk index inserts thrash the 2 MB default.
        cur.execute("PRAGMA cache_size=-262144")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("adapt_writer"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def writer(engine: Engine) -> Iterator[Connection]:
    """One write transaction that no other ADAPT writer overlaps: everything
    inside commits together or not at all."""
    with engine.connect().execution_options(adapt_writer=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")
        yield conn


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (no-op when already there)."""
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    cfg = _alembic_config()
    target = head_revision() if revision == "head" else revision
    if direction == "upgrade" and current_revision(engine) == target:
        return
    with writer(engine) as conn:
        # Re-check under the lock: another process may have just migrated.
        current = MigrationContext.configure(conn).get_current_revision()
        if direction == "upgrade" and current == target:
            return
        cfg.attributes["connection"] = conn
        log.info("migrating database %s from %s to %s", direction, current, target)
        getattr(command, direction)(cfg, revision)
