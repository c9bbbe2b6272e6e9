"""``adapt audit``: the audit log's own checks (``verify`` walks the hash chain).

The audit log's export for the data protection officer is ``adapt export audit``
(itself audited, as every export is)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from adapt.cli.common import DbOption, fail, open_db
from adapt.db.app_store import CLOCK_TOLERANCE, verify_chain

app = typer.Typer(help="The audit log: verify its hash chain.", no_args_is_help=True)


@app.command()
def verify(
    tolerance: Annotated[
        int,
        typer.Option(
            min=0,
            help="Seconds an entry may be dated before the entry before it (clocks of several "
            "servers differ a little) before it counts as back-dated.",
        ),
    ] = int(CLOCK_TOLERANCE.total_seconds()),
    db: DbOption = None,
) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 naming the first
    entry that was altered, removed, inserted out of turn or back-dated.

    Keep the last id and hash it prints somewhere else: removing the newest
    entries leaves a shorter chain that is still whole."""
    engine = open_db(db)
    report = verify_chain(engine, tolerance=timedelta(seconds=tolerance))
    if report.broken is not None:
        bad = report.broken
        fail(1, f"audit log broken at entry {bad.id} ({bad.at:%Y-%m-%d %H:%M:%S}): {bad.reason}")
    words = f"intact: {report.entries} {'entry' if report.entries == 1 else 'entries'}"
    if report.last_id is not None:
        words += f"; last entry {report.last_id}, hash {report.last_hash}"
    if report.unsealed:
        words += (
            f"; the {report.unsealed} newest not sealed yet (this connection may not "
            "write: run it as the app's role to seal them)"
        )
    typer.echo(words)
