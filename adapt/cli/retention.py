"""MoPI and DPA duties: ``adapt retention report``, ``adapt erase`` and
``adapt subject-access`` (the two top-level commands are in :data:`TOP_LEVEL`).

Each is audited with the operating-system user before anything is written or
changed: the report as ``retention_report``, a subject access as a disclosure
(``subject_access``), an erasure as ``erasure`` (in the erasure's own
transaction). Exit codes: 0 done; 1 refused (an unknown or erased person id,
no reason, not confirmed, a purpose not on the list, an invalid settings
file); 2 structural (a file that cannot be written, a database that cannot be
reached).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from adapt.cli.common import DbOption, disk_full_exits, fail, open_db, os_user
from adapt.core.access import PURPOSES
from adapt.core.settings import Settings, SettingsError
from adapt.db import app_store
from adapt.db.erasure import erase_person
from adapt.db.retention import retention_report
from adapt.db.settings_store import live_settings
from adapt.db.subject_access import (
    PersonScope,
    UnknownPerson,
    person_scope,
    subject_access_tables,
    write_subject_access,
)
from adapt.exports import ALLOWED_SUFFIXES, write_table

app = typer.Typer(help="Retention review (MoPI).", no_args_is_help=True)

SUBJECT_ACCESS_PURPOSE = "Subject access"

PersonArg = Annotated[str, typer.Argument(help="A person id, e.g. P000123.")]


def _settings(path: Path | None) -> tuple[Settings, str] | None:
    """A settings file's settings and words naming it; None: use the live ones."""
    if path is None:
        return None
    try:
        chosen = Settings.from_file(path)
    except SettingsError as exc:
        fail(1, str(exc))
    return chosen, f"settings file {path} ({chosen.name!r} v{chosen.version})"


def _purpose(purpose: str | None) -> str | None:
    if purpose is not None and purpose not in PURPOSES:
        fail(1, f"--purpose must be one of: {'; '.join(PURPOSES)}")
    return purpose


@app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="File to write; .csv or .xlsx.")],
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%d"], help="Review as at this date (default: today)."
        ),
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help=f"Why: one of {'; '.join(PURPOSES)}.")
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="A settings JSON file (default: the approved live settings, else the packaged "
            "defaults).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """List the stored records due for review (MoPI): group, person, last
    activity, review date and days overdue."""
    if out.suffix.lower() not in ALLOWED_SUFFIXES:
        fail(2, f"{out}: use one of {', '.join(ALLOWED_SUFFIXES)}")
    from_file = _settings(settings)
    why = _purpose(purpose)
    day = (as_of or datetime.now(UTC)).date()
    engine = open_db(db)
    chosen, words = from_file or live_settings(engine)
    frame = retention_report(engine, chosen.governance.retention, day)
    people = int(frame["person_id"].notna().sum())
    with disk_full_exits(engine):
        app_store.record(
            engine,
            username=os_user(),
            action="retention_report",
            purpose=why,
            detail=f"retention report as of {day.isoformat()} ({words}): {len(frame)} records "
            f"due, {people} of them persons; written to {out}",
        )
    try:
        write_table(frame, out)
    except OSError as exc:
        fail(2, f"{out}: cannot be written ({exc.strerror})")
    except ValueError as exc:
        fail(2, f"{out}: {exc}")
    typer.echo(f"retention periods: {words}")
    typer.echo(
        f"retention report as of {day.isoformat()}: {len(frame)} records due, written to {out}"
    )


def _related_notice(scope: PersonScope) -> None:
    if scope.related_ids:
        typer.echo(
            f"notice: {', '.join(scope.related_ids)} also hold records with one of "
            f"{scope.person_id}'s person references or their name and date of birth, but "
            "were kept apart as different people; check them (adapt subject-access) "
            "before treating them as the same person",
            err=True,
        )


def erase(
    person_id: PersonArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Erase one person's personal data from every table, in one transaction
    (the audit log keeps an erasure entry: ids and counts)."""
    if not reason.strip():
        fail(1, "--reason must say why the person is erased")
    engine = open_db(db)
    try:
        with engine.connect() as conn:
            scope = person_scope(conn, person_id)
    except UnknownPerson as exc:
        fail(1, str(exc))
    _related_notice(scope)
    merged = [i for i in scope.ids if i != scope.person_id]
    also = f" and the ids merged into it ({', '.join(merged)})" if merged else ""
    if not yes and not typer.confirm(
        f"Erase every record of {scope.person_id}{also}? This cannot be undone.", default=False
    ):
        fail(1, "erasure not confirmed (nothing changed)")
    try:
        with disk_full_exits(engine):
            done = erase_person(engine, person_id, reason=reason, erased_by=os_user())
    except UnknownPerson as exc:
        fail(1, str(exc))
    changed = ", ".join(f"{t} {n}" for t, n in done.counts.items() if n) or "nothing"
    merged = [i for i in done.ids if i != done.person_id]
    also = f" (and the ids merged into it: {', '.join(merged)})" if merged else ""
    typer.echo(f"erasure {done.erasure_id}: {done.person_id}{also} erased; rows: {changed}")


def subject_access(
    person_id: PersonArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write (one CSV per table).")],
    db: DbOption = None,
) -> None:
    """Write everything held about one person (a subject access request) as a
    folder of formula-safe CSV files, one per table, audited as a disclosure."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        fail(2, f"{out}: already exists and is not an empty folder")
    engine = open_db(db)
    try:
        scope, tables = subject_access_tables(engine, person_id)
    except UnknownPerson as exc:
        fail(1, str(exc))
    _related_notice(scope)
    rows = sum(len(t) for t in tables.values())
    with disk_full_exits(engine):
        app_store.record(
            engine,
            username=os_user(),
            action="subject_access",
            person_id=scope.person_id,
            purpose=SUBJECT_ACCESS_PURPOSE if SUBJECT_ACCESS_PURPOSE in PURPOSES else None,
            detail=f"{SUBJECT_ACCESS_PURPOSE}: disclosed to the data subject: {rows} rows in "
            f"{len(tables)} tables written to {out}",
        )
    try:
        write_subject_access(tables, out)
    except OSError as exc:
        fail(2, f"{out}: cannot be written ({exc.strerror})")
    typer.echo(f"subject access for {scope.person_id}: {rows} rows in {len(tables)} files in {out}")


TOP_LEVEL = {"erase": erase, "subject-access": subject_access}
