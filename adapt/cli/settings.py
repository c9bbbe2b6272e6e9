"""``adapt settings``: settings versions: list, approve or reject a draft (a
second person makes it live), show which version is live.

The person deciding is the operating-system user running the command, who
may not be the draft's author (a draft saved in the app is authored by the
app user name)."""

from __future__ import annotations

from typing import Annotated

import typer

from adapt.cli.common import DbOption, fail, open_db, os_user
from adapt.db.settings_store import (
    OPERATOR,
    ApprovalRefused,
    SettingsVersionNotFound,
    decide_settings_version,
    live_settings,
    settings_versions_frame,
)

app = typer.Typer(
    help="Settings versions: list, approve or reject a draft, show the live one.",
    no_args_is_help=True,
)

ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (required; kept with the decision and audited).")
]


def _when(value: object) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None and value == value else "-"


@app.command("list")
def list_versions(db: DbOption = None) -> None:
    """Every saved version, newest first: status, author, who decided; * marks the live one."""
    engine = open_db(db)
    try:
        frame = settings_versions_frame(engine)
        _, words = live_settings(engine)
    finally:
        engine.dispose()
    typer.echo(f"live: {words}")
    if frame.empty:
        typer.echo("no saved settings versions")
        return
    for row in frame.itertuples():
        decided = f" by {row.decided_by} {_when(row.decided_at)}" if row.decided_by else ""
        typer.echo(
            f"{'*' if row.live else ' '} {row.name} v{row.version}  {row.status}{decided}  "
            f"(saved by {row.author} {_when(row.saved_at)})"
        )


def _decide(name: str, version: str, reason: str, db: str | None, *, approve: bool) -> None:
    engine = open_db(db)
    try:
        decide_settings_version(
            engine, name, version, approve=approve, by=os_user(), role=OPERATOR, reason=reason
        )
        _, words = live_settings(engine)
    except (ApprovalRefused, SettingsVersionNotFound) as err:
        fail(1, str(err))
    finally:
        engine.dispose()
    typer.echo(f"{'approved' if approve else 'rejected'} {name} v{version}; live: {words}")


@app.command()
def approve(
    name: Annotated[str, typer.Argument(help="The draft's name.")],
    version: Annotated[str, typer.Argument(help="The draft's version.")],
    reason: ReasonOption,
    db: DbOption = None,
) -> None:
    """Approve a draft as the operating-system user (not its author): it becomes live."""
    _decide(name, version, reason, db, approve=True)


@app.command()
def reject(
    name: Annotated[str, typer.Argument(help="The draft's name.")],
    version: Annotated[str, typer.Argument(help="The draft's version.")],
    reason: ReasonOption,
    db: DbOption = None,
) -> None:
    """Reject a draft as the operating-system user (not its author)."""
    _decide(name, version, reason, db, approve=False)


@app.command("show-live")
def show_live(
    db: DbOption = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the live settings' JSON too.")
    ] = False,
) -> None:
    """Which settings version is live (the latest approved, else the packaged defaults)."""
    engine = open_db(db)
    try:
        settings, words = live_settings(engine)
    finally:
        engine.dispose()
    typer.echo(f"live: {words}")
    if json_out:
        typer.echo(settings.to_json(), nl=False)
