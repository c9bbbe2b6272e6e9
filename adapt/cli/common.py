"""What every command module of the CLI shares: the ``--db`` option, the one-line
failure with its exit code, opening the database, a full disk as one line, and
who runs the command."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine

from adapt.db import DatabaseUnavailable, connect
from adapt.db.engine import is_disk_full

try:
    import pwd
except ImportError:  # Windows
    pwd = None  # type: ignore[assignment]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy database URL (default: $ADAPT_DATABASE_URL, else SQLite)."
    ),
]


def fail(code: int, message: str) -> NoReturn:
    """Print ``adapt: message`` on standard error and exit with ``code``."""
    typer.echo(f"adapt: {message}", err=True)
    raise typer.Exit(code)


def open_db(db: str | None) -> Engine:
    """The database engine, or exit 2 with one line when it cannot be reached."""
    try:
        with disk_full_exits(db):
            return connect(db)
    except DatabaseUnavailable as exc:
        fail(2, str(exc))


@contextmanager
def disk_full_exits(where: Engine | str | None) -> Iterator[None]:
    """The database's disk running full as one line and exit 2 (no traceback);
    the step's open transaction has been rolled back. (A file that cannot be
    written for want of space is an OSError, left to the command that writes it.)"""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, OSError) or not is_disk_full(exc):
            raise
        shown = (
            where.url.render_as_string(hide_password=True)
            if isinstance(where, Engine)
            else "the database"
        )
        fail(
            2,
            f"{shown}: the database's disk is full; the step stopped and its open "
            "transaction was rolled back (free some space, then run it again)",
        )


def os_user() -> str:
    """The operating-system user running the command (recorded in the audit log).

    Read from the process's real user id, not from ``$USER`` or ``$LOGNAME``,
    which anyone can set; under sudo, the user who ran sudo is named too."""
    if pwd is None:  # Windows: no user ids
        return getpass.getuser()
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:  # a user id without an entry in the password database
        name = f"uid:{uid}"
    sudo_user = os.environ.get("SUDO_USER")
    if uid == 0 and sudo_user and sudo_user != name:
        return f"{name} (sudo by {sudo_user})"[:100]
    return name
