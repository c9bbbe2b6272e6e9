"""``adapt counter-allegation``: an officer's label of who is the predominant
aggressor in a counter-allegation pair, with a reason; every run respects it."""

from __future__ import annotations

import typer

app = typer.Typer(help="Counter-allegation labels set by an officer.", no_args_is_help=True)
