"""``adapt users``: the app's accounts (add, disable, enable, set-role,
reset-password, list). Outside ``adapt demo`` this and the app's Accounts page
are the only ways to create an account. Each change is audited as
``account_change`` under the operating-system user running the command; a
password is typed at a hidden prompt (twice) or read from standard input
(``--password-stdin``), never taken as an argument.
"""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from adapt.cli.common import DbOption, fail, open_db, os_user
from adapt.core.access import ROLES
from adapt.db import accounts

app = typer.Typer(help="Accounts for the app.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="The account's user name.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of standard "
                 "input (for scripts) instead of prompting."),
]  # fmt: skip


def _role(role: str) -> str:
    if role not in ROLES:
        fail(1, f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    return role


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            fail(1, "no password on standard input")
        return password
    try:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    except (typer.Abort, EOFError):
        fail(1, "no password given (use --password-stdin when not at a terminal)")


def _apply(change, *args: object) -> None:  # type: ignore[no-untyped-def]
    try:
        change(*args, actor=os_user(), actor_role=None)
    except accounts.AccountError as err:
        fail(1, str(err))


@app.command()
def add(
    name: NameArg,
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="The name the app shows (default: NAME).")
    ] = None,
    sso: Annotated[
        bool,
        typer.Option("--sso", help="A single sign-on account (NAME is its e-mail): no password."),
    ] = False,
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Create an account with a role and a password (or --sso for single sign-on)."""
    _role(role)
    if sso and password_stdin:
        fail(1, "--sso accounts have no password: drop --password-stdin")
    password = None if sso else _password(password_stdin)
    engine = open_db(db)
    _apply(accounts.add_user, engine, name, display_name or name, role, password)
    typer.echo(f"added {name} ({ROLES[role]}, {'single sign-on' if sso else 'password'})")


@app.command()
def disable(name: NameArg, db: DbOption = None) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    _apply(accounts.set_active, open_db(db), name, False)
    typer.echo(f"disabled {name}")


@app.command()
def enable(name: NameArg, db: DbOption = None) -> None:
    """Enable a disabled account again."""
    _apply(accounts.set_active, open_db(db), name, True)
    typer.echo(f"enabled {name}")


@app.command("set-role")
def set_role(
    name: NameArg,
    role: Annotated[str, typer.Argument(help=f"One of: {', '.join(ROLES)}.")],
    db: DbOption = None,
) -> None:
    """Give an account another role (it takes effect on the user's next click)."""
    _role(role)
    _apply(accounts.set_role, open_db(db), name, role)
    typer.echo(f"{name} is now {ROLES[role]}")


@app.command("reset-password")
def reset_password(
    name: NameArg, password_stdin: PasswordStdin = False, db: DbOption = None
) -> None:
    """Set a new password; this also lifts a lockout and ends the account's sessions."""
    engine = open_db(db)
    if accounts.get_user(engine, name) is None:
        fail(1, f"no account named {name!r}")
    password = _password(password_stdin)
    _apply(accounts.reset_password, engine, name, password)
    typer.echo(f"password reset for {name}")


@app.command("list")
def list_users(db: DbOption = None) -> None:
    """Every account: name, role, active or not, how it signs in, any lockout."""
    frame = accounts.users_frame(open_db(db))
    if frame.empty:
        typer.echo("no accounts")
        return
    for row in frame.itertuples():
        state = "active" if row.active else "disabled"
        locked = f", locked until {row.locked_until:%H:%M}" if pd.notna(row.locked_until) else ""
        typer.echo(
            f"{row.username}\t{row.role}\t{state}\t{row.sign_in}{locked}\t{row.display_name}"
        )
