"""The data page's logic: which server folders may be imported (only inside
the import folder, :func:`folder_in_root`), writing uploaded extract files
(plain ``*.csv`` and ``*.xlsx`` names only), filtering the quarantine, and the data quality
figures. The import itself runs through the pipeline as a job
(:mod:`adapt.services.imports`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from adapt.core.history import History

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.(csv|xlsx|xlsm)$", re.IGNORECASE)
#: What the Data page's uploader accepts: CSV files and Excel workbooks.
UPLOAD_TYPES: tuple[str, ...] = ("csv", "xlsx", "xlsm")


def folder_in_root(typed: str, root: Path) -> Path | None:
    """The extract folder ``typed`` (absolute, or relative to ``root``) when it
    is a folder inside ``root`` and everything in it is too, else None.

    Paths are resolved first, so ``..`` and symbolic links count where they
    lead: a link inside the import folder to ``/etc``, or an ``incidents.csv``
    linked to a file elsewhere, is refused. The answer is the same None for
    a folder that does not exist and one that may not be read, so a refusal
    tells nothing about the server's other folders.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "2026-06").mkdir()
    >>> folder_in_root("2026-06", root) == (root / "2026-06").resolve()
    True
    >>> folder_in_root("/etc", root), folder_in_root("../..", root), folder_in_root("x", root)
    (None, None, None)
    """
    text = (typed or "").strip()
    if not text or "\x00" in text:
        return None
    try:
        base = root.resolve(strict=True)
        folder = (base / text).resolve(strict=True)  # an absolute ``text`` replaces ``base``
        if not (folder.is_relative_to(base) and folder.is_dir()):
            return None
        for entry in folder.iterdir():
            if not entry.resolve(strict=True).is_relative_to(base):
                return None
    except (OSError, RuntimeError, ValueError):  # missing, unreadable, a link loop
        return None
    return folder


def write_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[str]:
    """Write uploaded extract files into ``folder`` under their own base names.

    Only plain ``*.csv``, ``*.xlsx`` or ``*.xlsm`` names are accepted (no
    paths); returns the names written. Raises ValueError naming a refused file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files:
        base = Path(name).name
        if not _SAFE_NAME.match(base):
            raise ValueError(
                f"{base!r} is not an extract file name "
                "(expected e.g. incidents.csv, or an Excel workbook such as extract.xlsx)"
            )
        (folder / base).write_bytes(content)
        written.append(base)
    return written


def filter_quarantine(
    frame: pd.DataFrame, text: str = "", files: Iterable[str] = ()
) -> pd.DataFrame:
    """Quarantine rows whose file is one of ``files`` (all when empty) and whose
    reason, column, value or raw record contains ``text`` (case-insensitive)."""
    out = frame
    files = list(files)
    if files:
        out = out[out["source_file"].isin(files)]
    text = (text or "").strip()
    if text:
        hay = (
            out[["reason", "column", "value", "raw"]]
            .astype("string")
            .fillna("")
            .agg(" ".join, axis=1)
        )
        out = out[hay.str.contains(text, case=False, regex=False)]
    return out.reset_index(drop=True)


def flag_lag(history: History) -> dict[str, float | int | None]:
    """MARAC flagging: referrals, median days from referral to flag, share never flagged."""
    m = history.marac
    lag = (m["flagged_at"] - m["referral_date"]).dt.days
    return {
        "referrals": len(m),
        "median_flag_lag_days": float(lag.median()) if lag.notna().any() else None,
        "never_flagged_share": float(m["flagged_at"].isna().mean()) if len(m) else None,
    }


def percent(share: float | None) -> str:
    """A share as a percentage for people to read; empty when there is none.

    >>> percent(0.4), percent(0.034), percent(0.0), percent(None)
    ('40%', '3.4%', '0%', '')
    """
    if share is None or pd.isna(share):
        return ""
    return f"{share:.1%}" if 0 < share < 0.1 else f"{share:.0%}"


def data_quality(history: History, ref_counts: dict[str, int]) -> pd.DataFrame:
    """The figures the data page shows: ``figure, value, note``, every value as
    text in words (shares as percentages; a figure there is nothing to compute
    from is empty, with a note saying why)."""
    rows, no_ref = ref_counts.get("rows", 0), ref_counts.get("no_person_ref", 0)
    inv = history.involvements
    unresolved = history.unresolved_rows()
    lag = flag_lag(history)
    days = lag["median_flag_lag_days"]
    figures = [
        ("Involvement rows", f"{rows:,}", ""),
        ("Involvement rows with no person reference", percent(no_ref / rows if rows else None),
         f"{no_ref:,} row(s): identity rests on name, date of birth and address"),
        ("Involvement rows not yet matched to a person", f"{unresolved:,}",
         f"{percent(unresolved / len(inv)) if len(inv) else '0%'} of rows; run identity "
         "resolution" if unresolved else "every row is matched to a person"),
        ("MARAC referrals", f"{lag['referrals']:,}", ""),
        ("Median days from MARAC referral to flag", "" if days is None else f"{days:g} days",
         "no referral has been flagged yet" if days is None
         else "incidents before the flag are missed as repeats"),
        ("Referrals never flagged", percent(lag["never_flagged_share"]),
         "" if lag["referrals"] else "no MARAC referrals stored"),
    ]  # fmt: skip
    return pd.DataFrame(figures, columns=["figure", "value", "note"]).astype("string")


# ---- plain words for the Data page -------------------------------------------------
#: What one record of each contract file is, in words (singular, plural).
RECORD_WORDS: dict[str, tuple[str, str]] = {
    "incidents.csv": ("incident", "incidents"),
    "involvements.csv": ("involvement", "involvements"),
    "marac.csv": ("MARAC referral", "MARAC referrals"),
    "management.csv": ("management record", "management records"),
}
FILE_COLUMNS: dict[str, str] = {
    "file_name": "File",
    "records": "Rows in the file",
    "loaded": "New",
    "updated": "Updated",
    "unchanged": "Unchanged",
    "quarantined": "Quarantined",
    "withdrawn": "Withdrawn",
}
HISTORY_COLUMNS: dict[str, str] = {
    "import_id": "Import",
    "started_at": "Started",
    "finished_at": "Finished",
    "folder": "From",
    "strict": "Strict",
    "status": "Status",
    "file_name": "File",
    "records": "Rows in the file",
    "loaded": "New",
    "updated": "Updated",
    "unchanged": "Unchanged",
    "quarantined": "Quarantined",
    "sha256": "Fingerprint (SHA-256)",
}
QUARANTINE_COLUMNS: dict[str, str] = {
    "source_file": "File",
    "source_row": "Row",
    "column": "Column",
    "value": "Value",
    "reason": "Why it was not loaded",
    "raw": "The row as it was in the file",
}


def _rows(n: int, file_name: str) -> str:
    one, many = RECORD_WORDS.get(file_name, (file_name, file_name))
    return f"{n:,} {one if n == 1 else many}"


def import_verdict(import_id: int | None, files: pd.DataFrame) -> tuple[str, str]:
    """How an import ended, for the page: ``(level, message)``.

    ``level`` is ``success`` when every row was accepted, ``warning`` when
    some rows were quarantined, ``error`` when every row of a file was; the
    message says what was rejected, file by file ("6 of 6 involvement rows
    quarantined") before what was stored.

    >>> files = pd.DataFrame({"file_name": ["incidents.csv", "involvements.csv"],
    ...     "records": [5, 6], "loaded": [5, 0], "updated": [0, 0], "unchanged": [0, 0],
    ...     "quarantined": [0, 6]})
    >>> level, message = import_verdict(3, files)
    >>> level
    'error'
    >>> print(message)  # doctest: +NORMALIZE_WHITESPACE
    Import 3: 6 of 6 involvement rows quarantined (none of them was stored); see the
    quarantine below. Stored: 5 new incidents.
    >>> print(*import_verdict(4, files.assign(quarantined=0, loaded=[5, 6])))
    success Import 4: every row was accepted. Stored: 5 new incidents, 6 new involvements.
    """
    name = f"Import {import_id}" if import_id is not None else "The import"
    if files.empty:
        return "success", f"{name}: the folder held no records."
    rejected = files.loc[files["quarantined"] > 0]
    stored = []
    for f in files.to_dict("records"):
        parts = [
            f"{int(f[k]):,} {word}"
            for k, word in (("loaded", "new"), ("updated", "updated"), ("unchanged", "unchanged"))
            if int(f[k])
        ]
        if parts:
            _, many = RECORD_WORDS.get(f["file_name"], (f["file_name"], f["file_name"]))
            if len(parts) == 1 and int(f["loaded"]):
                stored.append(f"{int(f['loaded']):,} new {many}")
            else:
                stored.append(f"{many}: " + ", ".join(parts))
    told = f" Stored: {', '.join(stored)}." if stored else " Nothing was stored."
    if rejected.empty:
        return "success", f"{name}: every row was accepted.{told}"
    said = []
    for f in rejected.to_dict("records"):
        one, _ = RECORD_WORDS.get(f["file_name"], (f["file_name"], f["file_name"]))
        bad, total = int(f["quarantined"]), int(f["records"])
        all_of = " (none of them was stored)" if bad >= total else ""
        said.append(f"{bad:,} of {total:,} {one} rows quarantined{all_of}")
    level = "error" if (rejected["quarantined"] >= rejected["records"]).any() else "warning"
    return level, f"{name}: {'; '.join(said)}; see the quarantine below.{told}"


def _when(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values, errors="coerce")
    return stamps.dt.strftime("%d/%m/%Y %H:%M").astype("string").fillna("")


def _counts(values: pd.Series) -> pd.Series:
    """Whole numbers as text with thousands separators; empty where missing."""
    numbers = pd.to_numeric(values, errors="coerce")
    text = numbers.map(lambda v: f"{int(v):,}" if pd.notna(v) else "")
    return text.astype("string")


def import_files_table(files: pd.DataFrame) -> pd.DataFrame:
    """An import's counts per file (:meth:`adapt.db.load.LoadResult.as_frame`)
    with the columns in words."""
    shown = files[[c for c in FILE_COLUMNS if c in files.columns]].copy()
    for col in shown.columns.drop("file_name", errors="ignore"):
        shown[col] = _counts(shown[col])
    return shown.rename(columns=FILE_COLUMNS)


def import_history_table(history: pd.DataFrame) -> pd.DataFrame:
    """The import history (:func:`adapt.db.import_history`) for people to read:
    columns in words, dates as ``dd/mm/yyyy hh:mm``, newest first, nothing
    shown as None or nan (an import still running has no finish time: empty)."""
    if history.empty:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS.values()))
    shown = history[[c for c in HISTORY_COLUMNS if c in history.columns]].copy()
    shown = shown.sort_values("import_id", ascending=False, kind="stable")
    for col in ("started_at", "finished_at"):
        if col in shown:
            shown[col] = _when(shown[col])
    for col in ("import_id", "records", "loaded", "updated", "unchanged", "quarantined"):
        if col in shown:
            shown[col] = _counts(shown[col])
    if "strict" in shown:
        shown["strict"] = shown["strict"].map({True: "Yes", False: "No"}).astype("string")
    if "status" in shown:
        shown["status"] = shown["status"].astype("string").str.capitalize()
    for col in shown.columns:
        shown[col] = shown[col].astype("string").fillna("")
    return shown.rename(columns=HISTORY_COLUMNS).reset_index(drop=True)


def quarantine_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The quarantine (``source_file, source_row, column, value, reason, raw``)
    with its columns in words; an empty cell stays empty (never None)."""
    shown = frame[[c for c in QUARANTINE_COLUMNS if c in frame.columns]].copy()
    for col in shown.columns.drop("source_row", errors="ignore"):
        shown[col] = shown[col].astype("string").fillna("")
    return shown.rename(columns=QUARANTINE_COLUMNS)
