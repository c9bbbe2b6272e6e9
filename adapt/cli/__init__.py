"""The ``adapt`` command line (``shared/interface.md``): thin over the package.

Exit codes: 0 success (also when rows were quarantined); 1 the input was
refused (strict mode with bad rows, an invalid settings file); 2 a structural
problem (a required file or column missing, not a CSV, a database that cannot
be reached). Every non-zero exit prints one line on standard error.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine

from adapt import pipeline
from adapt.cli import audit as audit_cli
from adapt.cli import calibrate as calibrate_cli
from adapt.cli import counter as counter_cli
from adapt.cli import retention as retention_cli
from adapt.cli import review as review_cli
from adapt.cli import settings as settings_cli
from adapt.cli import users as users_cli
from adapt.cli.common import DbOption, disk_full_exits, os_user
from adapt.cli.common import fail as _fail
from adapt.cli.common import open_db as _open
from adapt.contract import StructuralError
from adapt.core.access import PURPOSES
from adapt.core.resources import app_script, streamlit_flags
from adapt.core.settings import Settings, SettingsError, default_settings
from adapt.db import DatabaseUnavailable, InputRefused, app_store, default_url
from adapt.db.accounts import DEMO_PASSWORD
from adapt.db.identity import record_decision, revoke_decision
from adapt.db.load import LoadResult
from adapt.db.settings_store import live_settings
from adapt.identity import spark_engine as spark_identity
from adapt.identity.runner import RunSummary
from adapt.scoring import spark_engine as spark_scoring
from adapt.scoring.runner import NotResolved, ScoreResult
from adapt.scoring.transparency import render_transparency
from adapt.synthetic import GeneratorConfig

app = typer.Typer(
    help="ADAPT: serial domestic-abuse perpetrator identification and offender management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXPORT_KINDS = pipeline.EXPORT_KINDS


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
    typer.Option(
        "--settings",
        help="A settings JSON file (default: the live version: the latest approved one, "
        "else the packaged defaults).",
    ),
]


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


class Engines(StrEnum):
    """Where resolve and score run."""

    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    Engines,
    typer.Option(
        "--engine",
        help="duckdb: this machine (default). spark: splink's Spark backend and the features "
        "per partition on Spark (adapt's optional spark extra, and Java 17). Under spark-submit "
        "the job's session is used, else Spark runs in local mode (docs/national-scale.md).",
    ),
]


@contextmanager
def _spark_session() -> Iterator:
    """The Spark session (spark-submit's, or a local one stopped afterwards);
    a clear exit without pyspark."""
    if not spark_identity.HAVE_PYSPARK:
        _fail(2, spark_identity.INSTALL_HINT)
    with spark_identity.spark_session() as spark:
        yield spark


@contextmanager
def _progress() -> Iterator:
    """A progress callback: a live bar on a terminal, silent otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield report


@contextmanager
def _refusals(engine: Engine | None = None) -> Iterator[None]:
    """Each refusal of a pipeline step as one line on standard error and its exit
    code; a full disk too (exit 2)."""
    try:
        with disk_full_exits(engine):
            yield
    except StructuralError as exc:
        _fail(2, str(exc))
    except InputRefused as exc:
        _fail(1, str(exc))
    except NotResolved as exc:
        _fail(2, str(exc))
    except DatabaseUnavailable as exc:
        _fail(2, str(exc))


def _settings(path: Path | None) -> Settings | None:
    """The settings file given (exit 1 when it is invalid), else None."""
    if path is None:
        return None
    try:
        return Settings.from_file(path)
    except SettingsError as exc:
        _fail(1, str(exc))


def _in_force(engine: Engine, from_file: Settings | None) -> Settings:
    """The settings file given, else the live version (the latest approved one,
    or the packaged defaults while none is), saying which."""
    if from_file is not None:
        return from_file
    live, words = live_settings(engine)
    typer.echo(f"settings: {words}")
    return live


# ---- what each step prints --------------------------------------------------------------
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


def _print_resolve(summary: RunSummary) -> None:
    if summary.run_id is None:
        typer.echo(f"identities: nothing new to resolve ({summary.rows} rows already resolved)")
        return
    typer.echo(
        f"identity run {summary.run_id} ({summary.mode}): {summary.rows_resolved} of "
        f"{summary.rows} rows resolved; {summary.persons_created} new persons, "
        f"{summary.merges} merges, {summary.splits} splits; "
        f"{summary.review_items} items for review"
    )
    if summary.model:
        typer.echo(f"match model: {summary.model}")


def _print_score(result: ScoreResult, settings: Settings) -> None:
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


def _print_summary(summary: dict) -> None:
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


def _printer(engine: Engine, settings: Settings, *, summary: bool = False):  # type: ignore[no-untyped-def]
    """An ``after_step`` callback printing each step's result as the run goes."""

    def after(step: str, result: object) -> None:
        if step == "generate":
            typer.echo(f"demo extract written to {result.folder}")  # type: ignore[attr-defined]
        elif step == "load":
            _print_load(result)  # type: ignore[arg-type]
            if summary:
                _print_summary(pipeline.stored_summary(engine))
        elif step == "resolve":
            _print_resolve(result)  # type: ignore[arg-type]
        elif step == "score":
            _print_score(result, settings)  # type: ignore[arg-type]

    return after


# ---- the commands -------------------------------------------------------------------------
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
    forces: Annotated[
        int,
        typer.Option(
            min=1,
            max=99,
            help="Number of police forces sharing the incidents (1 to 99). With more than "
            "one, every force-issued id (incident_id, person_ref, referral_id) starts with "
            "the force's label (F01-, F02-, ...) and some serial perpetrators move from one "
            "force to another; --truth-dir then also gets cross_force.csv, one row per mover.",
        ),
    ] = 1,
) -> None:
    """Write a synthetic extract folder that follows the data contract."""
    if truth_dir is not None and truth_dir.resolve() == out_dir.resolve():
        _fail(2, "--truth-dir must not be the extract folder: truth never goes in the extract")
    if forces > incidents:
        _fail(2, "--forces must not exceed --incidents: every force needs an incident")
    config = GeneratorConfig(
        seed=seed, incidents=incidents, noise=noise, bad_row_rate=bad_row_rate, forces=forces
    )
    with _progress() as progress:
        result = pipeline.generate(out_dir, config, truth_dir=truth_dir, progress=progress)
    for name, count in result.records.items():
        typer.echo(f"{name}: {count}")


FolderArg = Annotated[Path, typer.Argument(help="An extract folder (data contract v1).")]
StrictOption = Annotated[bool, typer.Option(help="Refuse the whole import if any row is bad.")]


@app.command()
def load(folder: FolderArg, strict: StrictOption = False, db: DbOption = None) -> None:
    """Validate and store one extract folder in one transaction."""
    engine = _open(db)
    with _progress() as progress, _refusals(engine):
        result = pipeline.load(engine, folder, strict=strict, progress=progress)
    _print_load(result)


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help=f"What to export: {', '.join(EXPORT_KINDS)}.")],
    out: Annotated[Path, typer.Option("--out", help="File to write; .csv or .xlsx.")],
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose",
            help="Why the data leaves ADAPT (required; recorded in the audit log with the "
            "operating-system user). Free text, or one of: " + "; ".join(PURPOSES) + ".",
        ),
    ],
    as_of: AsOfOption = None,
    settings: SettingsOption = None,
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="audit: entries from this date."),
    ] = None,
    date_to: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="audit: entries up to this date."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write an export as CSV or XLSX (by the file's suffix), formula-safe and
    private (mode 0600). It is audited (who, why, what) before the file is written."""
    try:
        pipeline.check_export(kind, out)
    except ValueError as exc:
        _fail(2, str(exc))
    if not purpose.strip():
        _fail(2, "--purpose must say why the data is exported")
    if kind != "audit" and (date_from or date_to):
        _fail(2, "--from and --to apply to the audit export only")
    if date_from and date_to and date_from > date_to:
        _fail(2, "--from is after --to")
    from_file = _settings(settings)
    engine = _open(db)
    chosen = _in_force(engine, from_file) if kind == "cohort" else from_file
    try:
        with _refusals(engine):
            result = pipeline.export(
                engine, kind, out, purpose=purpose, username=os_user(), as_of=as_of,
                settings=chosen, start=date_from.date() if date_from else None,
                end=date_to.date() if date_to else None,
            )  # fmt: skip
    except OSError as exc:
        _fail(2, f"{out}: cannot be written ({exc.strerror or exc}); nothing was written")
    except ValueError as exc:  # e.g. more rows than a spreadsheet holds
        _fail(2, f"{out}: {exc}; nothing was written")
    typer.echo(f"{kind}: {result.rows} rows written to {out} (audit entry {result.audit_id})")


@app.command()
def resolve(
    full: Annotated[bool, typer.Option(help="Resolve every row again, not only new ones.")] = False,
    retrain: Annotated[
        bool,
        typer.Option(
            help="Train a new match model on the stored rows and resolve every row with it "
            "(otherwise the model trained on this data before is reused)."
        ),
    ] = False,
    db: DbOption = None,
    engine_name: EngineOption = Engines.duckdb,
) -> None:
    """Resolve person identities over everything stored."""
    engine = _open(db)
    with _progress() as progress:
        if engine_name is Engines.spark:
            with _spark_session() as spark:
                summary = spark_identity.resolve_database_spark(
                    engine, retrain=retrain, progress=progress, spark=spark
                )
        else:
            summary = pipeline.resolve(engine, full=full, retrain=retrain, progress=progress)
    _print_resolve(summary)


@app.command()
def score(
    as_of: AsOfOption = None,
    settings: SettingsOption = None,
    db: DbOption = None,
    engine_name: EngineOption = Engines.duckdb,
) -> None:
    """Compute features and scores as they stood at the end of a date; nothing after it is used."""
    from_file = _settings(settings)
    engine = _open(db)
    chosen = _in_force(engine, from_file)
    with _refusals(engine):
        if engine_name is Engines.spark:
            with _spark_session() as spark:
                result = spark_scoring.score_database_spark(engine, as_of, chosen, spark=spark)
        else:
            result = pipeline.score(engine, as_of=as_of, settings=chosen)
    _print_score(result, chosen)


def _app_url(engine: Engine) -> str:
    """The database URL for the app's process, with a relative SQLite path made
    absolute: the same file whichever folder the server resolves it from."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


@app.command("app")
def run_app(
    port: Annotated[int, typer.Option(help="Port to serve on (loopback only).")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Start the Streamlit app on the configured database."""
    try:
        script = app_script()
    except FileNotFoundError as err:
        _fail(2, str(err))
    engine = _open(db or default_url())  # migrate now; exit 2 if the database cannot be reached
    env = {**os.environ, "ADAPT_DATABASE_URL": _app_url(engine)}
    engine.dispose()
    # The packaged hardening as flags: Streamlit reads .streamlit/config.toml only from the
    # working folder, which stays the user's (where a .streamlit/secrets.toml for sign-in is).
    command = [
        sys.executable, "-m", "streamlit", "run", str(script), *streamlit_flags(),
        "--server.port", str(port), "--server.address", address,
    ]  # fmt: skip
    typer.echo(f"ADAPT app on http://{address}:{port} (Ctrl+C to stop)")
    raise typer.Exit(subprocess.call(command, env=env))


@app.command()
def transparency(
    out: Annotated[Path, typer.Option("--out", help="Where to write it.")] = Path(
        "docs/transparency.md"
    ),
    settings: SettingsOption = None,
) -> None:
    """Write the algorithmic transparency record from the code, settings and benchmark results."""
    text = render_transparency(_settings(settings) or default_settings())
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
    from_file = _settings(settings)  # a bad settings file is refused before anything is written
    engine = _open(db)
    chosen = _in_force(engine, from_file)
    with _progress() as progress, _refusals(engine):
        pipeline.run(engine, folder, strict=strict, as_of=as_of, settings=chosen,
                     progress=progress, after_step=_printer(engine, chosen))  # fmt: skip


AuthorOption = Annotated[
    str | None,
    typer.Option(
        help="A display name, recorded beside the operating-system user (who is always "
        "recorded as the author)."
    ),
]


def _author(display: str | None) -> str:
    """The operating-system user, with the display name given beside it."""
    user = os_user()
    shown = " ".join((display or "").split())
    return f"{user} ({shown})"[:100] if shown and shown != user else user


@app.command()
def decide(
    row_a: Annotated[str, typer.Argument(help="A row key, e.g. involvements:17.")],
    row_b: Annotated[str, typer.Argument(help="Another row key.")],
    same: Annotated[
        bool, typer.Option("--same/--not-same", help="Same person, or not the same person.")
    ],
    reason: Annotated[str, typer.Option(help="Why.")],
    author: AuthorOption = None,
    db: DbOption = None,
) -> None:
    """Record an analyst's decision that two rows are (not) the same person;
    every later resolution respects it. Recorded and audited under the
    operating-system user."""
    engine = _open(db)
    who, verdict = _author(author), "same" if same else "not_same"
    try:
        decision_id = record_decision(engine, row_a, row_b, verdict, who, reason)
    except ValueError as exc:
        _fail(1, str(exc))
    app_store.record(engine, username=os_user(), role="cli", action="identity_decision",
                     detail=f"decision {decision_id}: {row_a} and {row_b} {verdict} "
                     f"(as {who}): {reason.strip()[:500]}")  # fmt: skip
    typer.echo(f"decision {decision_id} recorded; run `adapt resolve` to apply it")


@app.command()
def undecide(
    decision_id: Annotated[int, typer.Argument(help="The decision to reverse.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    author: AuthorOption = None,
    db: DbOption = None,
) -> None:
    """Reverse an analyst decision (it stays on record). Recorded and audited
    under the operating-system user."""
    engine = _open(db)
    who = _author(author)
    try:
        revoke_decision(engine, decision_id, who, reason)
    except ValueError as exc:
        _fail(1, str(exc))
    app_store.record(engine, username=os_user(), role="cli", action="identity_decision",
                     detail=f"decision {decision_id} revoked (as {who}): "
                     f"{reason.strip()[:500]}")  # fmt: skip
    typer.echo(f"decision {decision_id} revoked; run `adapt resolve` to apply it")


@app.command()
def demo(
    db: DbOption = None,
    folder: Annotated[
        Path | None, typer.Option(help="Where to write the demo extract (default: data folder).")
    ] = None,
) -> None:
    """Generate the synthetic demo force, load it, resolve identities and print a summary."""
    engine = _open(db or default_url())
    settings = default_settings()
    with _progress() as progress, _refusals(engine):
        result = pipeline.demo(engine, folder, progress=progress,
                               after_step=_printer(engine, settings, summary=True))  # fmt: skip
    typer.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    if result.accounts:
        typer.echo(
            f"demo accounts (password {DEMO_PASSWORD}, this demo database only): "
            + ", ".join(result.accounts)
        )
    else:
        typer.echo("no demo accounts on PostgreSQL: add accounts with `adapt users add`")
    typer.echo(
        "see the quarantine with: adapt export quarantine --out quarantine.xlsx "
        '--purpose "Data quality"'
    )


@app.command(
    "train-harm-model",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def train_harm_model(ctx: typer.Context) -> None:
    """Retrain the optional learned harm model on synthetic forces and write its
    card (options: --seeds, --test-seeds, --incidents, --workdir, --out; see --help)."""
    raise typer.Exit(pipeline.train_harm_model(ctx.args))


# Command groups, each in its own module.
app.add_typer(users_cli.app, name="users")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(settings_cli.app, name="settings")
app.add_typer(counter_cli.app, name="counter-allegation")
_TOP_LEVEL = {**retention_cli.TOP_LEVEL, **calibrate_cli.TOP_LEVEL, **review_cli.TOP_LEVEL}
for _name, _command in _TOP_LEVEL.items():
    app.command(_name)(_command)  # erase, subject-access, calibrate, review

if __name__ == "__main__":
    app()
