"""What the Data page calls: an import (a server folder or uploaded files) as
a background job through :func:`adapt.pipeline.load`, then optionally an
identity run (:func:`adapt.pipeline.resolve`); the import history; the
quarantine (read once per data version; its download built only when asked
for); the identity review queue; the data quality figures.

Uploaded files are written to a temporary folder that is deleted when the
import ends, whatever happens (:func:`import_folder`'s ``finally``).

A server folder is imported only from inside the import folder
(:func:`import_root`: ``ADAPT_IMPORT_ROOT``, else ``imports`` in ADAPT's data
folder), resolved, links included (:func:`adapt.views.data.folder_in_root`);
any other folder gets the same answer whether it exists or not.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from adapt import pipeline
from adapt.contract import StructuralError
from adapt.core.resources import data_folder
from adapt.db import InputRefused, import_history
from adapt.db.identity_models import latest_model
from adapt.db.search import involvement_ref_counts, review_queue_frame
from adapt.exports import table_bytes
from adapt.identity.card import render_model_card
from adapt.identity.runner import MIN_TRAINING_ROWS as MIN_TRAINING_ROWS
from adapt.services import data, jobs, session
from adapt.services.data import hide_table_downloads
from adapt.views.data import (
    UPLOAD_TYPES,
    filter_quarantine,
    folder_in_root,
    import_files_table,
    import_history_table,
    import_verdict,
    quarantine_table,
    write_uploads,
)
from adapt.views.data import data_quality as _data_quality_figures
from adapt.views.text import md_escape

log = logging.getLogger(__name__)

IMPORT = "import"  # the kind of job an import is
UPLOAD_PREFIX = "adapt_upload_"
IMPORT_ROOT_ENV = "ADAPT_IMPORT_ROOT"
REVIEW_ROWS = 5000  # the review queue shown (highest priority first)

__all__ = [
    "IMPORT",
    "IMPORT_ROOT_ENV",
    "UPLOAD_TYPES",
    "ImportOutcome",
    "data_quality",
    "files_table",
    "filter_quarantine",
    "folder_refused",
    "hide_table_downloads",
    "history",
    "history_table",
    "import_folder",
    "import_job",
    "import_root",
    "md_escape",
    "quarantine",
    "quarantine_bytes",
    "quarantine_table",
    "review_queue",
    "submit_folder",
    "submit_uploads",
]


@dataclass(frozen=True)
class ImportOutcome:
    """How an import ended: ``ok`` and a one-line message (never a traceback)."""

    ok: bool
    message: str
    import_id: int | None = None
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    quarantined: int = 0
    notices: list[str] = field(default_factory=list)
    identities: str | None = None  # what the identity run after it did, when asked for
    # success: every row accepted; warning: some rows quarantined; error: not
    # imported, or every row of a file quarantined (adapt.views.data.import_verdict)
    level: str = "success"

    def __post_init__(self) -> None:
        if not self.ok:
            object.__setattr__(self, "level", "error")


# ---- the import itself (the job's body) -------------------------------------------------
def _load(
    engine: Engine, folder: Path, strict: bool, label: str | None, progress: jobs.Progress
) -> ImportOutcome:
    if not folder.is_dir():
        return ImportOutcome(False, f"There is no folder {str(folder)!r} on the server.")
    try:
        result = pipeline.load(engine, folder, strict=strict, label=label, progress=progress)
    except StructuralError as err:
        return ImportOutcome(False, f"The extract cannot be imported: {err}")
    except InputRefused as err:
        return ImportOutcome(False, f"Strict mode refused the import: {err}")
    files = result.as_frame()
    level, message = import_verdict(result.import_id, files)
    return ImportOutcome(
        True, message, result.import_id, files, result.quarantine_rows, list(result.notices),
        level=level,
    )  # fmt: skip


def _resolve(engine: Engine, progress: jobs.Progress) -> str:
    try:
        run = pipeline.resolve(engine, progress=progress)
    except Exception as err:  # the import stays; say so, and log the type only
        log.error("identity run after an import failed: %s", type(err).__name__)
        return (
            f"The import is stored, but identities were not re-resolved "
            f"({type(err).__name__}); run the identity resolution again."
        )
    if run.run_id is None:
        return "Identities: nothing new to resolve."
    model = f" Match model: {run.model}." if run.model else ""
    return (
        f"Identity run {run.run_id}: {run.rows_resolved} of {run.rows} rows resolved, "
        f"{run.review_items} item(s) for review.{model}"
    )


def import_folder(
    engine: Engine,
    folder: Path | str,
    *,
    user: dict | None,
    strict: bool = False,
    resolve_after: bool = True,
    label: str | None = None,
    progress: jobs.Progress | None = None,
    remove_after: Path | None = None,
) -> ImportOutcome:
    """Import one extract folder, then (``resolve_after``) resolve identities;
    audited as ``import`` for ``user``. ``remove_after`` (an upload folder) is
    deleted at the end, whatever happens.

    A folder that cannot be imported comes back as a not-ok outcome; anything
    unexpected raises :class:`~adapt.services.jobs.JobFailed` (the load is one
    transaction: nothing of it was stored).
    """
    report = progress or (lambda stage, done, total: None)
    try:
        try:
            outcome = _load(engine, Path(folder), strict, label, report)
        except Exception as err:
            log.error("import failed: %s", type(err).__name__)
            outcome = ImportOutcome(False, "The import failed; nothing was stored.")
            session.audit_as(engine, user, "import", detail=f"failed: {type(err).__name__}")
            raise jobs.JobFailed(outcome.message) from None
        if outcome.ok and resolve_after:
            outcome = replace(outcome, identities=_resolve(engine, report))
        detail = (
            f"import {outcome.import_id}: {outcome.quarantined} quarantined"
            if outcome.ok
            else f"failed: {outcome.message[:300]}"
        )
        session.audit_as(engine, user, "import", detail=detail)
        return outcome
    finally:
        if remove_after is not None:
            shutil.rmtree(remove_after, ignore_errors=True)


# ---- submitting it ----------------------------------------------------------------------
def _submit(
    user: dict,
    folder: Path,
    label: str,
    *,
    strict: bool,
    resolve_after: bool,
    remove_after: Path | None = None,
) -> str:
    engine = session.engine()
    return jobs.runner().submit(
        IMPORT,
        lambda progress: import_folder(
            engine,
            folder,
            user=user,
            strict=strict,
            resolve_after=resolve_after,
            label=label,
            progress=progress,
            remove_after=remove_after,
        ),
        database=session.database_url(),
        label="Import" + (" and identity run" if resolve_after else ""),
        owner=user["username"],
    )


def import_root() -> Path:
    """The only folder server imports are read from: ``ADAPT_IMPORT_ROOT``,
    else ``imports`` in ADAPT's data folder (beside the default database,
    ``$XDG_DATA_HOME/adapt`` or ``~/.local/share/adapt``; created, owner-only,
    when missing)."""
    configured = os.environ.get(IMPORT_ROOT_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    root = data_folder() / "imports"
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        log.warning("the default import folder cannot be created")
    return root


def folder_refused(typed: str) -> str:
    """The one message for a folder that cannot be imported: the same whether
    it is missing, outside the import folder, or linked out of it."""
    return (
        f"No extract folder {typed.strip()[:200]!r} can be imported. Server imports are read "
        f"only from folders inside {import_root()} (ADAPT_IMPORT_ROOT)."
    )


def submit_folder(user: dict, folder: str, *, strict: bool, resolve_after: bool) -> str:
    """Import a folder inside :func:`import_root` in the background; returns
    the job id. Raises ValueError (:func:`folder_refused`, audited) for any
    other folder."""
    path = folder_in_root(folder, import_root())
    if path is None:
        refused = f"refused: {folder.strip()[:200]!r} is not an import folder"
        session.audit_as(session.engine(), user, "import", detail=refused)
        raise ValueError(folder_refused(folder))
    return _submit(user, path, str(path), strict=strict, resolve_after=resolve_after)


def submit_uploads(
    user: dict, files: Iterable[tuple[str, bytes]], *, strict: bool, resolve_after: bool
) -> str:
    """Write uploaded files (name, content) to a new temporary folder and import
    it in the background; the folder is deleted when the import ends. Raises
    ValueError (audited, and nothing kept) for a file name that is not an extract file."""
    files = list(files)
    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
    try:
        write_uploads(files, folder)
        label = f"upload: {', '.join(sorted(name for name, _ in files))}"[:500]
        return _submit(
            user, folder, label, strict=strict, resolve_after=resolve_after, remove_after=folder
        )
    except ValueError as err:
        shutil.rmtree(folder, ignore_errors=True)
        session.audit_as(session.engine(), user, "import", detail=f"failed: {str(err)[:300]}")
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def import_job(job_id: str | None) -> jobs.Job | None:
    """The import this session asked for, else the latest on this database."""
    runner = jobs.runner()
    return runner.get(job_id) or runner.latest(IMPORT, session.database_url())


# ---- what imports brought in ------------------------------------------------------------
def history() -> pd.DataFrame:
    """One row per import and file (:func:`adapt.db.import_history`)."""
    return import_history(session.engine())


def history_table() -> pd.DataFrame:
    """The import history in words, newest first (:func:`adapt.views.data.import_history_table`)."""
    return import_history_table(history())


def files_table(files: pd.DataFrame) -> pd.DataFrame:
    """An import's counts per file in words (:func:`adapt.views.data.import_files_table`)."""
    return import_files_table(files)


def quarantine() -> pd.DataFrame:
    """Every quarantined problem; read again only after an import."""
    return data.quarantine()


def quarantine_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The quarantine rows shown as a formula-safe CSV or XLSX file."""
    return table_bytes(frame, f".{fmt}", "Quarantine")


@st.cache_resource(show_spinner=False, max_entries=2)
def _review_queue(version: tuple) -> pd.DataFrame:
    return review_queue_frame(session.engine(), limit=REVIEW_ROWS)


def review_queue() -> pd.DataFrame:
    """The identity review queue, highest priority first (at most :data:`REVIEW_ROWS`)."""
    return _review_queue(data.data_version())


@st.cache_resource(show_spinner=False, max_entries=2)
def _data_quality(version: tuple) -> pd.DataFrame:
    return _data_quality_figures(data.history(), involvement_ref_counts(session.engine()))


def data_quality() -> pd.DataFrame:
    """The data quality figures (:func:`adapt.views.data.data_quality`)."""
    return _data_quality(data.data_version())


def match_model_card() -> str | None:
    """The card of the match model trained on this force's data (Markdown made
    from figures only, no record's text), or None before the first training."""
    stored = latest_model(session.engine())
    return render_model_card(stored) if stored else None
