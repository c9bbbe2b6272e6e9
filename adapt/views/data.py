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
