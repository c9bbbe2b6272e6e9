"""``adapt audit``: the audit log's own checks (``verify`` walks the hash chain)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The audit log: verify its hash chain.", no_args_is_help=True)
