"""The steps as a force runs them, wired here and nowhere else.

::

    generate ─► load ─► resolve ─► score ─► export
    (synthetic)  an extract   who is who   features,    cohort, persons,
                 folder into  (identity)   score,       quarantine, links,
                 the database              cohort       audit (each audited)

``run`` is load → resolve → score; ``demo`` is generate → run. The command
line, the app's services (an import, an analyst's split) and the evaluation
code (:func:`synthetic_history`) all call these functions; none wires the
stages itself.

Each step takes a database (an :class:`~sqlalchemy.Engine`, or a URL that is
opened and closed around the step; ``None`` is the default database), an
optional ``progress(stage, done, total)`` callback, and returns a small
result. A step raises what its stage raises: :class:`~adapt.contract.StructuralError`
(the folder cannot be imported; nothing written), :class:`~adapt.db.InputRefused`
(strict mode refused a bad row), :class:`~adapt.scoring.runner.NotResolved`
(nothing to score yet), :class:`~adapt.db.DatabaseUnavailable`.

Every export states its purpose and who asks for it, and is written to the
audit log before a byte of the file is (:func:`export`).

>>> EXPORT_KINDS
('quarantine', 'persons', 'cohort', 'links', 'audit', 'review', 'i2', 'graphml')
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from adapt.contract import read_extract
from adapt.core.history import History
from adapt.core.settings import Settings, default_settings
from adapt.db import accounts, app_store, connect, load_extract, quarantine_frame
from adapt.db.history import load_history
from adapt.db.identity import persons_export_frame
from adapt.db.learned_models import latest_learned_model
from adapt.db.load import LoadResult
from adapt.db.people import person_labels
from adapt.db.queries import store_summary
from adapt.exports import clip_long_text, write_bytes, write_table
from adapt.graph import build_links
from adapt.graph.exports import export_graph, graphml_bytes, i2_export_frame
from adapt.identity.runner import RunSummary, resolve_database
from adapt.learned import HarmModel, train
from adapt.learned.advice import model_advice
from adapt.scoring.cycle import ReviewResult, create_review, review_export_frame
from adapt.scoring.export import cohort_export_frame
from adapt.scoring.runner import ScoreResult, cohort_table, score_database
from adapt.synthetic import GENERATOR_VERSION, GeneratorConfig
from adapt.synthetic import generate as write_synthetic_extract

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
AfterStep = Callable[[str, object], None]
Database = Engine | str | None

EXPORT_KINDS = ("quarantine", "persons", "cohort", "links", "audit", "review", "i2", "graphml")
EXPORT_SUFFIXES = (".csv", ".xlsx")
#: Kinds that are not tables, with the one suffix each is written as.
GRAPH_SUFFIXES = {"graphml": ".graphml"}
DEMO_CONFIG = GeneratorConfig(seed=1, incidents=5000)

__all__ = [
    "DEMO_CONFIG",
    "EXPORT_KINDS",
    "DemoResult",
    "ExportResult",
    "GenerateResult",
    "RunResult",
    "check_export",
    "default_demo_folder",
    "demo",
    "export",
    "export_frame",
    "generate",
    "load",
    "resolve",
    "review",
    "run",
    "score",
    "stored_summary",
    "synthetic_history",
    "synthetic_name",
    "train_harm_model",
]


@dataclass(frozen=True)
class GenerateResult:
    """A synthetic extract written: its folder and the records per file."""

    folder: Path
    records: dict[str, int]


@dataclass(frozen=True)
class ExportResult:
    kind: str
    rows: int
    path: Path
    audit_id: int | None = None  # the audit entry written before the file


@dataclass(frozen=True)
class RunResult:
    """What ``run`` did: the import, the identity run and the score run."""

    load: LoadResult
    identities: RunSummary
    scores: ScoreResult


@dataclass(frozen=True)
class DemoResult:
    extract: GenerateResult
    run: RunResult
    accounts: tuple[str, ...] = ()  # the demo accounts created (SQLite only)


@contextmanager
def _opened(db: Database) -> Iterator[Engine]:
    """The engine given, or one opened on the URL (and disposed afterwards)."""
    if isinstance(db, Engine):
        yield db
        return
    engine = connect(db)
    try:
        yield engine
    finally:
        engine.dispose()


def _after(after_step: AfterStep | None, step: str, result: object) -> None:
    if after_step is not None:
        after_step(step, result)


# ---- the steps ------------------------------------------------------------------------------
def generate(
    folder: Path | str,
    config: GeneratorConfig = DEMO_CONFIG,
    *,
    truth_dir: Path | None = None,
    progress: Progress | None = None,
) -> GenerateResult:
    """Write a synthetic extract folder (its ground truth only to ``truth_dir``)."""
    folder = Path(folder)
    records = write_synthetic_extract(folder, config, truth_dir=truth_dir, progress=progress)
    return GenerateResult(folder, records)


def load(
    db: Database,
    folder: Path | str,
    *,
    strict: bool = False,
    label: str | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Read, validate and store one extract folder in one transaction.

    ``label`` is what the import history shows as the folder (default: its path).
    """
    extract = read_extract(Path(folder), progress=progress)
    with _opened(db) as engine:
        return load_extract(engine, extract, strict=strict, folder_label=label,
                            progress=progress)  # fmt: skip


def resolve(
    db: Database, *, full: bool = False, retrain: bool = False, progress: Progress | None = None
) -> RunSummary:
    """Resolve person identities over everything stored (incrementally when it can).

    The match model is trained on the stored rows on the first full run and
    reused after; ``retrain=True`` trains a new one and resolves everything
    with it. The summary's ``model`` says which model was used.
    """
    with _opened(db) as engine:
        return resolve_database(engine, full=full, retrain=retrain, progress=progress)


def score(
    db: Database,
    *,
    as_of: object | None = None,
    settings: Settings | None = None,
    store: bool = True,
    progress: Progress | None = None,
) -> ScoreResult:
    """Features, scores and the cohort as at the end of ``as_of`` (default: the
    latest incident date); the run is stored unless ``store`` is false."""
    if progress:
        progress("scoring", 0, 1)
    with _opened(db) as engine:
        result = score_database(engine, as_of, settings or default_settings(), store=store)
    if progress:
        progress("scoring", 1, 1)
    return result


def _check_kind(kind: str) -> None:
    if kind not in EXPORT_KINDS:
        raise ValueError(
            f"export kind '{kind}' is not available; choose from: {', '.join(EXPORT_KINDS)}"
        )


def check_export(kind: str, out: Path) -> None:
    """Raise ValueError (one line) unless ``kind`` and the file's suffix can be exported."""
    _check_kind(kind)
    suffix = Path(out).suffix.lower()
    if kind in GRAPH_SUFFIXES:
        if suffix != GRAPH_SUFFIXES[kind]:
            raise ValueError(
                f"{Path(out).name}: a {kind} export must end in {GRAPH_SUFFIXES[kind]}"
            )
    elif suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{Path(out).name}: export files must end in .csv or .xlsx")


def export_frame(
    db: Database,
    kind: str,
    *,
    as_of: object | None = None,
    settings: Settings | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """One export as a frame: the cohort as of a date under the settings, every
    stored row's person, the quarantine, the victim–perpetrator–address links,
    or the audit log from ``start`` to ``end`` (with its hash chain)."""
    return _export_frame(db, kind, as_of=as_of, settings=settings, start=start, end=end)[0]


def _export_frame(
    db: Database,
    kind: str,
    *,
    as_of: object | None,
    settings: Settings | None,
    start: date | None,
    end: date | None,
) -> tuple[pd.DataFrame, str]:
    """The frame and a few words on what it holds (for the audit entry)."""
    _check_kind(kind)
    with _opened(db) as engine:
        if kind == "persons":
            return persons_export_frame(engine), ""
        if kind == "cohort":
            chosen = settings or default_settings()
            history = load_history(engine, with_protected=False)
            day, table = cohort_table(history, as_of, chosen)
            about = f"as of {day.isoformat()}, settings {chosen.name} v{chosen.version}"
            # The learned model trained on this force's own past (adapt calibrate),
            # beside the score; no such model: the columns stay empty.
            stored = latest_learned_model(engine)
            advice = None
            if stored is not None:
                features = table.set_index("person_id")
                model = HarmModel.from_dict(stored.model)
                advice = model_advice(model, stored.version, features)
                about += f", learned model {stored.version}"
            return cohort_export_frame(table, advice), about
        if kind == "links":
            about = f"as of {pd.Timestamp(as_of).date()}" if as_of is not None else "all dates"
            return build_links(load_history(engine), as_of=as_of), about
        if kind == "audit":
            about = f"from {start or 'the first entry'} to {end or 'the last entry'}"
            return app_store.audit_export_frame(engine, start=start, end=end), about
        if kind == "review":
            return review_export_frame(engine, as_of=as_of)
        if kind in ("i2", "graphml"):
            about = f"as of {pd.Timestamp(as_of).date()}" if as_of is not None else "all dates"
            names = person_labels(engine)
            return i2_export_frame(load_history(engine), as_of=as_of, person_labels=names), about
        return quarantine_frame(engine), ""


def export(
    db: Database,
    kind: str,
    out: Path | str,
    *,
    purpose: str,
    username: str,
    role: str | None = "cli",
    as_of: object | None = None,
    settings: Settings | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ExportResult:
    """Write one export as CSV or XLSX (by the suffix), formula-safe and
    private (mode 0600), audited.

    ``purpose`` (required, free text) and ``username`` (who asks) go into an
    audit entry written *before* the file: action ``export`` (``audit_export``
    for the audit log itself), the detail naming the kind, rows, as-of date,
    file and purpose; the purpose column holds the purpose when it is one of
    :data:`adapt.core.access.PURPOSES`. When the file then cannot be written,
    a second entry says so ("… FAILED, nothing written: reason").

    Raises ValueError for an unknown kind or suffix or a blank purpose, OSError
    when the file cannot be written (nothing is left behind)."""
    out = Path(out)
    check_export(kind, out)
    if not purpose or not purpose.strip():
        raise ValueError("an export needs a purpose (--purpose)")
    purpose = " ".join(purpose.split())
    with _opened(db) as engine:
        frame, about = _export_frame(engine, kind, as_of=as_of, settings=settings,
                                     start=start, end=end)  # fmt: skip
        detail = (
            f"{kind}: {len(frame):,} rows{', ' + about if about else ''}, "
            f"to {out.resolve()}; purpose: {purpose}"
        )
        action = "audit_export" if kind == "audit" else "export"
        entry = {"username": username, "action": action, "role": role,
                 "purpose": app_store.listed_purpose(purpose)}  # fmt: skip
        audit_id = app_store.record(engine, detail=detail, **entry)
        try:
            if kind == "graphml":
                graph = export_graph(load_history(engine), as_of=as_of,
                                     person_labels=person_labels(engine))  # fmt: skip
                write_bytes(graphml_bytes(graph), out)
            else:
                # A spreadsheet cell holds 32,767 characters; the CSV keeps every value whole.
                write_table(clip_long_text(frame) if out.suffix.lower() == ".xlsx" else frame, out)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            try:
                app_store.record(engine, detail=f"{detail} FAILED, nothing written: {reason}",
                                 **entry)  # fmt: skip
            except Exception:  # e.g. the same full disk: the first entry stands
                log.warning("could not record that export %s failed", audit_id)
            raise
    return ExportResult(kind, len(frame), out, audit_id)


def review(
    db: Database,
    *,
    as_of: object | None = None,
    settings: Settings | None = None,
    username: str,
) -> ReviewResult:
    """Store a review of the cohort as of ``as_of`` under ``settings`` (the
    approved ones, chosen by the caller), audited with ``username``."""
    with _opened(db) as engine:
        return create_review(engine, as_of=as_of, settings=settings or default_settings(),
                             username=username)  # fmt: skip


def stored_summary(db: Database) -> dict[str, object]:
    """What is stored, in a few figures (:func:`adapt.db.queries.store_summary`)."""
    with _opened(db) as engine:
        return store_summary(engine)


# ---- the steps chained ---------------------------------------------------------------------
def run(
    db: Database,
    folder: Path | str,
    *,
    strict: bool = False,
    as_of: object | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    after_step: AfterStep | None = None,
) -> RunResult:
    """Load an extract folder, resolve identities, then score.

    ``after_step(step, result)`` is called after each of "load", "resolve" and
    "score", so a caller can report as the run goes.
    """
    with _opened(db) as engine:
        loaded = load(engine, folder, strict=strict, progress=progress)
        _after(after_step, "load", loaded)
        identities = resolve(engine, progress=progress)
        _after(after_step, "resolve", identities)
        scores = score(engine, as_of=as_of, settings=settings, progress=progress)
        _after(after_step, "score", scores)
    return RunResult(loaded, identities, scores)


def default_demo_folder(url: str) -> Path:
    """Where ``demo`` writes its extract: beside a SQLite file, else the working folder."""
    if url.startswith("sqlite"):
        return Path(url.split("///", 1)[-1]).parent / "demo-extract"
    return Path.cwd() / "demo-extract"


def demo(
    db: Database,
    folder: Path | str | None = None,
    *,
    config: GeneratorConfig = DEMO_CONFIG,
    progress: Progress | None = None,
    after_step: AfterStep | None = None,
) -> DemoResult:
    """Generate the synthetic demo force into ``folder`` (default:
    :func:`default_demo_folder`), then :func:`run` it (steps "generate", then
    those of ``run``), then create the demo accounts (one per role, password
    ``demo``; :func:`adapt.db.accounts.ensure_demo_users`). The accounts are
    made on SQLite only: the app refuses to start on a PostgreSQL database
    that has them, and the demo is the only place they come from."""
    with _opened(db) as engine:
        url = engine.url.render_as_string(hide_password=False)
        target = Path(folder) if folder is not None else default_demo_folder(url)
        extract = generate(target, config, progress=progress)
        _after(after_step, "generate", extract)
        result = run(engine, target, progress=progress, after_step=after_step)
        made: tuple[str, ...] = ()
        if engine.dialect.name == "sqlite":
            accounts.ensure_demo_users(engine)
            made = tuple(name for name, _, _ in accounts.DEMO_USERS)
        return DemoResult(extract, result, made)


# ---- for evaluation, training and benchmarks ------------------------------------------------
def synthetic_name(
    seed: int,
    incidents: int,
    years: float = 4.0,
    end_date: date = date(2026, 10, 31),
    noise: float = 1.0,
) -> str:
    """The name :func:`synthetic_history` caches a force under (``NAME.db``,
    ``NAME.ready``, ``NAME/``), with the generator's version in it.

    >>> synthetic_name(21, 100_000)
    'g2-seed21-n100000-y4-noise1-2026-10-31'
    """
    return (
        f"g{GENERATOR_VERSION}-seed{seed}-n{incidents}-y{years:g}-noise{noise:g}-"
        f"{end_date.isoformat()}"
    )


def synthetic_history(
    workdir: Path,
    seed: int,
    incidents: int,
    years: float = 4.0,
    end_date: date = date(2026, 10, 31),
    noise: float = 1.0,
) -> History:
    """A synthetic force run through the real pipeline (generate → load →
    resolve) into a SQLite file under ``workdir``, read back as a history.

    The database is kept and reused when it exists (a ``.ready`` marker is
    written last), so benchmarks and notebooks share it.
    """
    workdir = Path(workdir)
    name = synthetic_name(seed, incidents, years, end_date, noise)
    folder = workdir / name
    ready = workdir / f"{name}.ready"
    with _opened(f"sqlite:///{workdir / f'{name}.db'}") as engine:
        if not ready.exists():
            config = GeneratorConfig(
                seed=seed, incidents=incidents, years=years, end_date=end_date, noise=noise
            )
            generate(folder, config, truth_dir=workdir / f"{name}-truth")
            load(engine, folder)
            resolve(engine)
            ready.write_text("ok\n")
        return load_history(engine)


def train_harm_model(argv: Sequence[str] | None = None) -> int:
    """Retrain the optional learned harm model on synthetic forces
    (:mod:`adapt.learned.train`; ``argv`` are its options)."""
    return train.main(list(argv) if argv is not None else None, synthetic=synthetic_history)
