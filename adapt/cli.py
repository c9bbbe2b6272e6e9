"""The ``adapt`` command line (``shared/interface.md``): thin over the package.

Exit codes: 0 success (also when rows were quarantined); 1 the input was
refused (strict mode with bad rows, an invalid settings file); 2 a structural
problem (a required file or column missing, not a CSV, a database that cannot
be reached). Every non-zero exit prints one line on standard error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from adapt.contract import StructuralError, read_extract
from adapt.core.resources import app_script
from adapt.db import DatabaseUnavailable, InputRefused, connect, default_url, load_extract
from adapt.db.load import LoadResult

app = typer.Typer(
    help="ADAPT: serial domestic-abuse perpetrator identification and offender management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy database URL (default: $ADAPT_DATABASE_URL, else SQLite)."
    ),
]
EXPORT_KINDS = ("quarantine", "persons", "cohort", "links")


AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Score as at the end of this date (default: the latest incident date).",
    ),
]
SettingsOption = Annotated[
    Path | None,
    typer.Option("--settings", help="A settings JSON file (default: the packaged defaults)."),
]


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"adapt: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@contextmanager
def _progress() -> Iterator:
    """A progress callback: a live bar on a terminal, silent otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield report


def _open(db: str | None):  # type: ignore[no-untyped-def]
    try:
        return connect(db)
    except DatabaseUnavailable as exc:
        _fail(2, str(exc))


def _load(db: str | None, folder: Path, strict: bool) -> LoadResult:
    engine = _open(db)
    with _progress() as progress:
        try:
            extract = read_extract(folder, progress=progress)
        except StructuralError as exc:
            _fail(2, str(exc))
        try:
            return load_extract(engine, extract, strict=strict, progress=progress)
        except InputRefused as exc:
            _fail(1, str(exc))


def _print_load(result: LoadResult) -> None:
    for notice in result.notices:
        typer.echo(f"notice: {notice}", err=True)
    typer.echo(f"import {result.import_id}")
    typer.echo(
        f"{'file':<18}{'records':>10}{'loaded':>10}{'updated':>10}"
        f"{'unchanged':>11}{'quarantined':>13}{'withdrawn':>11}"
    )
    for c in result.files:
        typer.echo(
            f"{c.file_name:<18}{c.records:>10}{c.loaded:>10}{c.updated:>10}"
            f"{c.unchanged:>11}{c.quarantined:>13}{c.withdrawn:>11}"
        )


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the extract to.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    incidents: Annotated[int, typer.Option(help="Number of incidents.")] = 5000,
    truth_dir: Annotated[
        Path | None, typer.Option("--truth-dir", help="Where to write the ground truth.")
    ] = None,
    noise: Annotated[float, typer.Option(help="Multiplier on recording-noise rates.")] = 1.0,
    bad_row_rate: Annotated[float, typer.Option(help="Share of rows made bad.")] = 0.002,
) -> None:
    """Write a synthetic extract folder that follows the data contract."""
    from adapt.synthetic import GeneratorConfig
    from adapt.synthetic import generate as run_generator

    if truth_dir is not None and truth_dir.resolve() == out_dir.resolve():
        _fail(2, "--truth-dir must not be the extract folder: truth never goes in the extract")
    config = GeneratorConfig(seed=seed, incidents=incidents, noise=noise, bad_row_rate=bad_row_rate)
    with _progress() as progress:
        summary = run_generator(out_dir, config, truth_dir=truth_dir, progress=progress)
    for name, count in summary.items():
        typer.echo(f"{name}: {count}")


FolderArg = Annotated[Path, typer.Argument(help="An extract folder (data contract v1).")]
StrictOption = Annotated[bool, typer.Option(help="Refuse the whole import if any row is bad.")]


@app.command()
def load(folder: FolderArg, strict: StrictOption = False, db: DbOption = None) -> None:
    """Validate and store one extract folder in one transaction."""
    _print_load(_load(db, folder, strict))


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help=f"What to export: {', '.join(EXPORT_KINDS)}.")],
    out: Annotated[Path, typer.Option("--out", help="File to write; .csv or .xlsx.")],
    as_of: AsOfOption = None,
    settings: SettingsOption = None,
    db: DbOption = None,
) -> None:
    """Write an export as CSV or XLSX (by the file's suffix), formula-safe."""
    from adapt.db import quarantine_frame
    from adapt.exports import clip_long_text, write_table

    if kind not in EXPORT_KINDS:
        _fail(2, f"export kind '{kind}' is not available; choose from: {', '.join(EXPORT_KINDS)}")
    if out.suffix.lower() not in (".csv", ".xlsx"):
        _fail(2, f"{out.name}: export files must end in .csv or .xlsx")
    engine = _open(db)
    if kind == "persons":
        from adapt.db.identity import persons_export_frame

        frame = persons_export_frame(engine)
    elif kind == "cohort":
        from adapt.scoring.export import cohort_export_frame

        _, table = _score_table(engine, as_of, settings)
        frame = cohort_export_frame(table)
    elif kind == "links":
        from adapt.db.history import load_history
        from adapt.graph import build_links

        frame = build_links(load_history(engine), as_of=as_of)
    else:
        frame = quarantine_frame(engine)
    # A spreadsheet cell holds 32,767 characters; the CSV keeps every value whole.
    try:
        write_table(clip_long_text(frame) if out.suffix.lower() == ".xlsx" else frame, out)
    except OSError as exc:
        _fail(2, f"{out}: cannot be written ({exc.strerror})")
    typer.echo(f"{kind}: {len(frame)} rows written to {out}")


def _resolve(db: str | None, full: bool) -> None:
    from adapt.identity.runner import resolve_database

    engine = _open(db)
    with _progress() as progress:
        summary = resolve_database(engine, full=full, progress=progress)
    if summary.run_id is None:
        typer.echo(f"identities: nothing new to resolve ({summary.rows} rows already resolved)")
        return
    typer.echo(
        f"identity run {summary.run_id} ({summary.mode}): {summary.rows_resolved} of "
        f"{summary.rows} rows resolved; {summary.persons_created} new persons, "
        f"{summary.merges} merges, {summary.splits} splits; "
        f"{summary.review_items} items for review"
    )


@app.command()
def resolve(
    full: Annotated[bool, typer.Option(help="Resolve every row again, not only new ones.")] = False,
    db: DbOption = None,
) -> None:
    """Resolve person identities over everything stored."""
    _resolve(db, full)


def _settings(path: Path | None):  # type: ignore[no-untyped-def]
    from adapt.core.settings import Settings, SettingsError, default_settings

    if path is None:
        return default_settings()
    try:
        return Settings.from_file(path)
    except SettingsError as exc:
        _fail(1, str(exc))


def _score_table(engine, as_of: datetime | None, settings_path: Path | None):  # type: ignore[no-untyped-def]
    from adapt.db.history import load_history
    from adapt.scoring.runner import NotResolved, cohort_table

    settings = _settings(settings_path)
    try:
        return cohort_table(load_history(engine, with_protected=False), as_of, settings)
    except NotResolved as exc:
        _fail(2, str(exc))


def _score(db: str | None, as_of: datetime | None, settings_path: Path | None) -> None:
    from adapt.scoring.runner import NotResolved, score_database

    settings = _settings(settings_path)
    engine = _open(db)
    try:
        result = score_database(engine, as_of, settings)
    except NotResolved as exc:
        _fail(2, str(exc))
    table = result.table
    typer.echo(
        f"score run {result.run_id}: as of {result.as_of.isoformat()}, settings "
        f"{settings.name} v{settings.version}; {len(table):,} people who were suspects, "
        f"{int(table['in_cohort'].sum()):,} in the cohort"
    )
    if result.unresolved_rows:
        typer.echo(
            f"warning: {result.unresolved_rows} involvement rows are not resolved "
            "(run `adapt resolve`)",
            err=True,
        )


@app.command()
def score(as_of: AsOfOption = None, settings: SettingsOption = None, db: DbOption = None) -> None:
    """Compute features and scores as they stood at the end of a date; nothing after it is used."""
    _score(db, as_of, settings)


@app.command("app")
def run_app(
    port: Annotated[int, typer.Option(help="Port to serve on (loopback only).")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Start the Streamlit app on the configured database."""
    import os
    import subprocess

    try:
        script = app_script()
    except FileNotFoundError as err:
        _fail(2, str(err))
    url = db or default_url()
    _open(url)  # migrate now, and fail with exit 2 if the database cannot be reached
    env = {**os.environ, "ADAPT_DATABASE_URL": url}
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.port", str(port), "--server.address", address,
    ]  # fmt: skip
    typer.echo(f"ADAPT app on http://{address}:{port} (Ctrl+C to stop)")
    raise typer.Exit(subprocess.call(command, cwd=script.parent, env=env))


@app.command()
def transparency(
    out: Annotated[Path, typer.Option("--out", help="Where to write it.")] = Path(
        "docs/transparency.md"
    ),
    settings: SettingsOption = None,
) -> None:
    """Write the algorithmic transparency record from the code, settings and benchmark results."""
    from adapt.scoring.transparency import render_transparency

    text = render_transparency(_settings(settings))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"transparency record written to {out}")


@app.command()
def run(
    folder: FolderArg,
    strict: StrictOption = False,
    as_of: AsOfOption = None,
    settings: SettingsOption = None,
    db: DbOption = None,
) -> None:
    """Load an extract folder, resolve identities, then score."""
    _settings(settings)  # a bad settings file is refused before anything is written
    _print_load(_load(db, folder, strict))
    _resolve(db, full=False)
    _score(db, as_of, settings)


@app.command()
def decide(
    row_a: Annotated[str, typer.Argument(help="A row key, e.g. involvements:17.")],
    row_b: Annotated[str, typer.Argument(help="Another row key.")],
    same: Annotated[
        bool, typer.Option("--same/--not-same", help="Same person, or not the same person.")
    ],
    author: Annotated[str, typer.Option(help="Who decides.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    db: DbOption = None,
) -> None:
    """Record an analyst's decision that two rows are (not) the same person;
    every later resolution respects it."""
    from adapt.db.identity import record_decision

    try:
        decision_id = record_decision(
            _open(db), row_a, row_b, "same" if same else "not_same", author, reason
        )
    except ValueError as exc:
        _fail(1, str(exc))
    typer.echo(f"decision {decision_id} recorded; run `adapt resolve` to apply it")


@app.command()
def undecide(
    decision_id: Annotated[int, typer.Argument(help="The decision to reverse.")],
    author: Annotated[str, typer.Option(help="Who reverses it.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    db: DbOption = None,
) -> None:
    """Reverse an analyst decision (it stays on record)."""
    from adapt.db.identity import revoke_decision

    try:
        revoke_decision(_open(db), decision_id, author, reason)
    except ValueError as exc:
        _fail(1, str(exc))
    typer.echo(f"decision {decision_id} revoked; run `adapt resolve` to apply it")


@app.command()
def demo(
    db: DbOption = None,
    folder: Annotated[
        Path | None, typer.Option(help="Where to write the demo extract (default: data folder).")
    ] = None,
) -> None:
    """Generate the synthetic demo force, load it, resolve identities and print a summary."""
    from adapt.db.queries import store_summary
    from adapt.synthetic import GeneratorConfig
    from adapt.synthetic import generate as run_generator

    url = db or default_url()
    target = folder or Path(url.split("///", 1)[-1]).parent / "demo-extract"
    if folder is None and not url.startswith("sqlite"):
        target = Path.cwd() / "demo-extract"
    with _progress() as progress:
        run_generator(target, GeneratorConfig(seed=1, incidents=5000), progress=progress)
    typer.echo(f"demo extract written to {target}")
    result = _load(url, target, strict=False)
    _print_load(result)
    summary = store_summary(_open(url))
    total = summary["incidents"] or 1
    typer.echo("")
    typer.echo(
        f"stored: {summary['incidents']:,} incidents from {summary['first_incident']:%Y-%m-%d} "
        f"to {summary['last_incident']:%Y-%m-%d}, "
        f"{summary['crimes'] / total:.0%} recorded as crimes"
    )
    roles = ", ".join(f"{n:,} {role}" for role, n in sorted(summary["roles"].items()))
    typer.echo(f"people named on incidents: {roles}")
    typer.echo(
        f"MARAC referrals: {summary['marac_referrals']:,}; "
        f"management records: {summary['management_records']:,}"
    )
    bad = ", ".join(f"{n} from {f}" for f, n in sorted(summary["quarantine"].items())) or "none"
    typer.echo(f"quarantined rows: {bad}")
    _resolve(url, full=False)
    _score(url, None, None)
    typer.echo(f"database: {_open(url).url.render_as_string(hide_password=True)}")
    typer.echo("see the quarantine with: adapt export quarantine --out quarantine.xlsx")


if __name__ == "__main__":
    app()
