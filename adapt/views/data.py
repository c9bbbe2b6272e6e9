"""The data page's logic: importing an extract (from a server folder or
uploaded files) through the same reader and loader as the CLI, filtering the
quarantine, and the data quality figures.

An import's outcome is an :class:`ImportOutcome`; a folder that cannot be
imported gives a one-line message, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from adapt.contract import StructuralError, read_extract
from adapt.core.history import History
from adapt.db import InputRefused, load_extract

Progress = Callable[[str, int, int], None]
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.csv$")


@dataclass
class ImportOutcome:
    ok: bool
    message: str
    import_id: int | None = None
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    quarantined: int = 0
    notices: list[str] = field(default_factory=list)


def write_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[str]:
    """Write uploaded extract files into ``folder`` under their own base names.

    Only plain ``*.csv`` names are accepted (no paths); returns the names
    written. Raises ValueError naming a refused file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files:
        base = Path(name).name
        if not _SAFE_NAME.match(base):
            raise ValueError(f"{base!r} is not an extract file name (expected e.g. incidents.csv)")
        (folder / base).write_bytes(content)
        written.append(base)
    return written


def import_extract(
    engine: Engine,
    folder: Path | str,
    *,
    strict: bool = False,
    label: str | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Read and load one extract folder; problems come back as a message."""
    folder = Path(folder)
    if not folder.is_dir():
        return ImportOutcome(False, f"There is no folder {str(folder)!r} on the server.")
    try:
        extract = read_extract(folder, progress=progress)
        result = load_extract(engine, extract, strict=strict, folder_label=label,
                              progress=progress)  # fmt: skip
    except StructuralError as err:
        return ImportOutcome(False, f"The extract cannot be imported: {err}")
    except InputRefused as err:
        return ImportOutcome(False, f"Strict mode refused the import: {err}")
    files = result.as_frame()
    message = (
        f"Import {result.import_id} done: {int(files['loaded'].sum()) if len(files) else 0} "
        f"record(s) loaded, {result.quarantine_rows} problem(s) quarantined."
    )
    return ImportOutcome(
        True, message, result.import_id, files, result.quarantine_rows, list(result.notices)
    )


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


def data_quality(history: History, ref_counts: dict[str, int]) -> pd.DataFrame:
    """The figures the data page shows: ``figure, value, note``."""
    rows, no_ref = ref_counts.get("rows", 0), ref_counts.get("no_person_ref", 0)
    inv = history.involvements
    unresolved = history.unresolved_rows()
    lag = flag_lag(history)
    figures = [
        ("Involvement rows", rows, ""),
        ("Share with no person_ref", round(no_ref / rows, 3) if rows else None,
         f"{no_ref} row(s): identity rests on name, date of birth and address"),
        ("Unresolved involvement rows", unresolved,
         f"{round(unresolved / len(inv), 3) if len(inv) else 0} of rows; run identity resolution"),
        ("MARAC referrals", lag["referrals"], ""),
        ("Median days referral → flag", lag["median_flag_lag_days"],
         "incidents before the flag are missed as repeats"),
        ("Share of referrals never flagged", None if lag["never_flagged_share"] is None
         else round(lag["never_flagged_share"], 3), ""),
    ]  # fmt: skip
    return pd.DataFrame(figures, columns=["figure", "value", "note"]).astype({"value": object})
