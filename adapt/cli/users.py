"""``adapt users``: the app's accounts (add, disable, set-role, reset-password).
Outside ``adapt demo`` this is the only way to create an account."""

from __future__ import annotations

import typer

app = typer.Typer(help="Accounts for the app.", no_args_is_help=True)
