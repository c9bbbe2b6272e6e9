"""``adapt settings``: settings versions: list, approve (a second person makes a
draft live), show which version is live."""

from __future__ import annotations

import typer

app = typer.Typer(help="Settings versions: list, approve.", no_args_is_help=True)
