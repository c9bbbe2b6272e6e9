"""The steps as a force runs them, wired here and nowhere else.

::

    generate ─► load ─► resolve ─► score ─► export
    (synthetic)  an extract   who is who   features,    cohort, persons,
                 folder into  (identity)   score,       quarantine, links
                 the database              cohort

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

>>> EXPORT_KINDS
('quarantine', 'persons', 'cohort', 'links')
"""

from __future__ import annotations

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
from adapt.db import connect, load_extract, quarantine_frame
from adapt.db.history import load_history
from adapt.db.identity import persons_export_frame
from adapt.db.load import LoadResult
from adapt.db.queries import store_summary
from adapt.exports import clip_long_text, write_table
from adapt.graph import build_links
from adapt.identity.runner import RunSummary, resolve_database
from adapt.learned import train
from adapt.scoring.export import cohort_export_frame
from adapt.scoring.runner import ScoreResult, cohort_table, score_database
from adapt.synthetic import GeneratorConfig
from adapt.synthetic import generate as write_synthetic_extract

Progress = Callable[[str, int, int], None]
AfterStep = Callable[[str, object], None]
Database = Engine | str | None

EXPORT_KINDS = ("quarantine", "persons", "cohort", "links")
EXPORT_SUFFIXES = (".csv", ".xlsx")
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
    "run",
    "score",
    "stored_summary",
    "synthetic_history",
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
    if Path(out).suffix.lower() not in EXPORT_SUFFIXES:
        raise ValueError(f"{Path(out).name}: export files must end in .csv or .xlsx")


def export_frame(
    db: Database,
    kind: str,
    *,
    as_of: object | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """One export as a frame: the cohort as of a date under the settings, every
    stored row's person, the quarantine, or the victim–perpetrator–address links."""
    _check_kind(kind)
    with _opened(db) as engine:
        if kind == "persons":
            return persons_export_frame(engine)
        if kind == "cohort":
            history = load_history(engine, with_protected=False)
            _, table = cohort_table(history, as_of, settings or default_settings())
            return cohort_export_frame(table)
        if kind == "links":
            return build_links(load_history(engine), as_of=as_of)
        return quarantine_frame(engine)


def export(
    db: Database,
    kind: str,
    out: Path | str,
    *,
    as_of: object | None = None,
    settings: Settings | None = None,
) -> ExportResult:
    """Write one export as CSV or XLSX (by the suffix), formula-safe. Raises
    ValueError for an unknown kind or suffix, OSError when the file cannot be written."""
    out = Path(out)
    check_export(kind, out)
    frame = export_frame(db, kind, as_of=as_of, settings=settings)
    # A spreadsheet cell holds 32,767 characters; the CSV keeps every value whole.
    write_table(clip_long_text(frame) if out.suffix.lower() == ".xlsx" else frame, out)
    return ExportResult(kind, len(frame), out)


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
    those of ``run``)."""
    with _opened(db) as engine:
        url = engine.url.render_as_string(hide_password=False)
        target = Path(folder) if folder is not None else default_demo_folder(url)
        extract = generate(target, config, progress=progress)
        _after(after_step, "generate", extract)
        return DemoResult(extract, run(engine, target, progress=progress, after_step=after_step))


# ---- for evaluation, training and benchmarks ------------------------------------------------
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
    name = f"seed{seed}-n{incidents}-y{years:g}-noise{noise:g}-{end_date.isoformat()}"
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
