"""What every command module of the CLI shares: the ``--db`` option, the one-line
failure with its exit code, opening the database, and who runs the command."""

from __future__ import annotations

import getpass
import os
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine

from adapt.db import DatabaseUnavailable, connect

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
        return connect(db)
    except DatabaseUnavailable as exc:
        fail(2, str(exc))


def os_user() -> str:
    """The operating-system user running the command (recorded in the audit log)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        return f"uid:{os.getuid()}"
