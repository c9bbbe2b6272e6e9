"""MoPI and DPA duties: ``adapt erase``, ``adapt subject-access`` and
``adapt retention report``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Retention review (MoPI).", no_args_is_help=True)
