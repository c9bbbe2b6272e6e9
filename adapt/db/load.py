"""Storing a validated extract: one transaction, idempotent, nothing lost.

Each contract file maps to a table with a natural key (see
``models.CONTRACT_TABLES``). A row whose key is stored with the same
``row_hash`` is unchanged and not written; with another hash it is updated and
its provenance moves to this import; a new key is inserted. Rows missing from
a newer extract keep their stored form: a load never deletes. Quarantined rows
are stored once per distinct problem, so loading the same folder twice changes
nothing the second time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, exists, func, insert, select, update

from adapt.contract import Extract, ParsedFile
from adapt.contract.reader import file_batches, file_row_count
from adapt.db import bulk
from adapt.db.engine import utc_now, writer
from adapt.db.matching import match_involvements
from adapt.db.models import (
    CONTRACT_TABLES,
    import_files,
    imports,
    incidents,
    involvements,
    quarantine,
)

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
PROVENANCE = ("row_hash", "import_id", "source_file", "source_row")


class InputRefused(Exception):
    """Strict mode: the extract has bad rows, so nothing was written."""

    def __init__(self, message: str, quarantined: int) -> None:
        super().__init__(message)
        self.quarantined = quarantined


@dataclass(frozen=True)
class FileCounts:
    file_name: str
    records: int
    loaded: int
    updated: int
    unchanged: int
    quarantined: int
    # involvements.csv: people the force removed from an incident (kept, marked).
    withdrawn: int = 0


@dataclass
class LoadResult:
    import_id: int
    files: list[FileCounts] = field(default_factory=list)
    quarantine_rows: int = 0
    new_quarantine_rows: int = 0
    notices: list[str] = field(default_factory=list)

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.files])


# Coded columns whose values are never personal data: a strict-mode message
# may quote them. Every other value is hidden (names, dates of birth, addresses,
# and any cell that a shifted row put in the wrong column).
CODED = frozenset(
    {
        "offence", "is_crime", "dash_risk", "injury", "weapon", "children_present",
        "outcome", "role", "relationship", "status", "occurred_at", "referral_date",
        "meeting_date", "flagged_at", "from_date", "to_date", "incident_id", "referral_id",
    }
)  # fmt: skip
_QUOTED = re.compile(r"'.*'", re.DOTALL)


def _reason_for_log(problem: pd.Series) -> str:
    """The quarantine reason, fit for standard error (which may end up in a
    job log): one line, and the cell's value hidden unless the column is a
    coded one. The quarantine itself keeps the value for the analyst."""
    reason = str(problem["reason"])
    column = problem["column"]
    value = problem["value"]
    coded = pd.notna(column) and str(column) in CODED
    short = pd.isna(value) or (len(str(value)) <= 40 and "\n" not in str(value))
    if not (coded and short):
        reason = _QUOTED.sub("(value not shown)", reason, count=1)
    return " ".join(reason.split())


def load_extract(
    engine: Engine,
    extract: Extract,
    *,
    strict: bool = False,
    folder_label: str | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Store ``extract`` in one transaction and record the import.

    Raises
    ------
    InputRefused
        ``strict`` is set and at least one row was quarantined; nothing is
        written.
    """
    bad = extract.quarantine
    if strict and len(bad):
        first = bad.iloc[0]
        where = f"{first['source_file']} row {int(first['source_row'])}"
        column = f", column '{first['column']}'" if pd.notna(first["column"]) else ""
        raise InputRefused(
            f"{where}{column}: {_reason_for_log(first)} "
            f"({len(bad)} problem(s) in all; strict mode refuses the import)",
            quarantined=len(bad),
        )
    folder = folder_label or str(extract.folder)
    with writer(engine) as conn:
        import_id = conn.execute(
            insert(imports).values(
                started_at=utc_now(), folder=folder, strict=strict, status="applying"
            )
        ).inserted_primary_key[0]
        if progress:
            progress("import opened", 1, 1)
        result = LoadResult(import_id=import_id, notices=list(extract.notices))
        for file_name, (table, key) in CONTRACT_TABLES.items():
            parsed = extract.files.get(file_name)
            if parsed is None:
                continue
            counts = _store_file(conn, table, key, parsed, import_id, progress)
            quarantined = _quarantined_rows(bad, file_name)
            result.files.append(
                FileCounts(file_name, parsed.records, *counts[:3], quarantined, counts[3])
            )
            conn.execute(
                insert(import_files).values(
                    import_id=import_id,
                    file_name=file_name,
                    sha256=parsed.sha256,
                    records=parsed.records,
                    loaded=counts[0],
                    updated=counts[1],
                    unchanged=counts[2],
                    quarantined=quarantined,
                    withdrawn=counts[3],
                    ignored_columns=",".join(parsed.ignored_columns) or None,
                )
            )
        _check_integrity(conn, import_id)
        result.quarantine_rows = len(bad)
        result.new_quarantine_rows = _store_quarantine(conn, bad, import_id)
        conn.execute(
            update(imports)
            .where(imports.c.id == import_id)
            .values(finished_at=utc_now(), status="applied")
        )
    log.info(
        "import %s applied: %s",
        import_id,
        ", ".join(f"{c.file_name} {c.loaded}+{c.updated}~{c.unchanged}" for c in result.files),
    )
    return result


class IntegrityViolation(RuntimeError):
    """The import would leave a record pointing at nothing; it is rolled back."""


def _check_integrity(conn: Connection, import_id: int) -> None:
    """The foreign-key rule the schema leaves to us, checked set-wise: every
    involvement written by this import belongs to a stored incident."""
    orphans = conn.execute(
        select(func.count())
        .select_from(involvements)
        .where(
            involvements.c.import_id == import_id,
            ~exists().where(incidents.c.incident_id == involvements.c.incident_id),
        )
    ).scalar_one()
    if orphans:
        raise IntegrityViolation(
            f"{orphans} involvement(s) of import {import_id} have no stored incident; "
            "the import was rolled back"
        )


def _quarantined_rows(bad: pd.DataFrame, file_name: str) -> int:
    if bad.empty:
        return 0
    return int(bad.loc[bad["source_file"] == file_name, "source_row"].nunique())


def _fetch_existing(
    conn: Connection, table: Table, key: tuple[str, ...], frame: pd.DataFrame
) -> pd.DataFrame:
    """The stored id and hash of the rows whose key is in ``frame`` (only those)."""
    (k,) = key
    cols = [k, "id", "row_hash"]
    existing = bulk.read_matching(conn, table, cols, k, frame[k])
    return existing.rename(columns={"row_hash": "stored_hash"})


def _store_file(
    conn: Connection,
    table: Table,
    key: tuple[str, ...],
    parsed: ParsedFile,
    import_id: int,
    progress: Progress | None,
) -> tuple[int, int, int, int]:
    """Write one file's valid rows, a batch at a time (every incident with all
    its involvements in one batch); return (loaded, updated, unchanged, withdrawn)."""
    total = file_row_count(parsed)
    counts = np.zeros(4, dtype=np.int64)
    done = 0
    # Batches never share a key (nor an incident), so when the table is empty
    # before the first, no batch has stored rows to read back.
    fresh = conn.execute(select(table.c.id).limit(1)).first() is None
    for rows in file_batches(parsed):
        tick = _ticker(parsed, done, total, progress)
        counts += _store_batch(conn, table, key, parsed, rows, import_id, tick, fresh)
        done += len(rows)
        if progress:
            progress(f"writing {parsed.spec.name}", done, total)
    loaded, updated, unchanged, withdrawn = (int(c) for c in counts)
    return loaded, updated, unchanged, withdrawn


def _store_batch(
    conn: Connection,
    table: Table,
    key: tuple[str, ...],
    parsed: ParsedFile,
    rows: pd.DataFrame,
    import_id: int,
    tick: Callable[[int], None],
    fresh: bool,
) -> tuple[int, int, int, int]:
    if rows.empty:
        return 0, 0, 0, 0
    data_columns = [c.name for c in table.columns if c.name in rows.columns and c.name != "id"]
    frame = rows[data_columns].copy()
    frame["import_id"] = import_id
    frame["source_file"] = parsed.spec.name
    if table is involvements:
        return _store_involvements(conn, parsed, frame, data_columns, import_id, tick, fresh)
    existing = pd.DataFrame() if fresh else _fetch_existing(conn, table, key, frame)
    if existing.empty:
        new_mask = np.ones(len(frame), dtype=bool)
        changed = frame.iloc[0:0].assign(id=pd.Series(dtype="int64"))
        unchanged = 0
    else:
        for k in key:  # align key dtypes for the merge
            existing[k] = existing[k].astype(frame[k].dtype)
        merged = frame[list(key)].merge(existing, on=list(key), how="left", validate="1:1")
        stored = merged["id"].notna().to_numpy()
        same = stored & (merged["stored_hash"].to_numpy() == frame["row_hash"].to_numpy())
        new_mask = ~stored
        changed_mask = stored & ~same
        unchanged = int(same.sum())
        changed = frame[changed_mask].assign(
            id=merged.loc[changed_mask, "id"].astype("int64").values
        )
    new = frame[new_mask]
    new = new.assign(first_import_id=import_id)
    bulk.insert_frame(conn, table, new, progress=tick)
    update_columns = [c for c in data_columns if c not in key] + ["import_id", "source_file"]
    bulk.update_frame(conn, table, changed, update_columns)
    return len(new), len(changed), unchanged, 0


def _ticker(
    parsed: ParsedFile, start: int, total: int, progress: Progress | None
) -> Callable[[int], None]:
    done = start

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(f"writing {parsed.spec.name}", min(done, total), total)

    return tick


def _store_involvements(
    conn: Connection,
    parsed: ParsedFile,
    frame: pd.DataFrame,
    data_columns: list[str],
    import_id: int,
    tick: Callable[[int], None],
    fresh: bool,
) -> tuple[int, int, int, int]:
    """Involvements have no key of their own: match them per incident (see
    ``adapt.db.matching``), insert the new, update the changed, and mark
    withdrawn the people a newer extract no longer lists on an incident.
    A batch holds every involvement of its incidents, and only the stored
    involvements of those incidents are read."""
    cols = ["id", "incident_id", "seq", "role", "person_ref", "row_hash", "withdrawn_import_id"]
    stored = (
        pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        if fresh
        else bulk.read_matching(conn, involvements, cols, "incident_id", frame["incident_id"])
    )
    stored["withdrawn"] = stored["withdrawn_import_id"].notna()
    match = match_involvements(frame, stored, parsed.incomplete_incidents)
    frame = frame.assign(seq=match.seq)
    is_new = match.stored_id < 0
    new = frame[is_new].assign(first_import_id=import_id)
    # An involvement erased under the DPA (adapt.db.erasure: withdrawn_import_id
    # below zero) stays erased when a later extract still lists it: the matched
    # row is neither rewritten nor re-marked (the erasure must also be made at source).
    erased = stored.loc[stored["withdrawn_import_id"].lt(0).fillna(False), "id"].to_numpy()
    kept_erased = ~is_new & np.isin(match.stored_id, erased)
    changed_mask = ~is_new & ~match.unchanged & ~kept_erased
    changed = frame[changed_mask].assign(
        id=match.stored_id[changed_mask], withdrawn_import_id=pd.NA
    )
    changed["withdrawn_import_id"] = changed["withdrawn_import_id"].astype("Int64")
    bulk.insert_frame(conn, involvements, new, progress=tick)
    update_columns = [c for c in data_columns if c not in ("incident_id", "seq")] + [
        "import_id",
        "source_file",
        "withdrawn_import_id",
    ]
    bulk.update_frame(conn, involvements, changed, update_columns)
    withdrawn = np.asarray(match.withdraw)
    withdrawn = withdrawn[~np.isin(withdrawn, erased)]
    withdraw = pd.DataFrame({"id": withdrawn, "withdrawn_import_id": import_id})
    bulk.update_frame(conn, involvements, withdraw, ["withdrawn_import_id"])
    unchanged = int((match.unchanged | kept_erased).sum())
    return int(is_new.sum()), int(changed_mask.sum()), unchanged, len(withdraw)


def _problem_hash(bad: pd.DataFrame) -> pd.Series:
    canon = (
        bad[["source_file", "source_row", "column", "reason", "raw"]].astype("string").fillna("")
    )
    hashed = pd.util.hash_pandas_object(canon, index=False).to_numpy(dtype=np.uint64)
    return pd.Series(hashed.view(np.int64), index=bad.index)


def _store_quarantine(conn: Connection, bad: pd.DataFrame, import_id: int) -> int:
    if bad.empty:
        return 0
    frame = pd.DataFrame(
        {
            "import_id": import_id,
            "source_file": bad["source_file"].astype("string"),
            "source_row": bad["source_row"].astype("int64"),
            "column_name": bad["column"].astype("string"),
            "value": bad["value"].astype("string"),
            "reason": bad["reason"].astype("string"),
            "raw": bad["raw"].astype("string"),
            "problem_hash": _problem_hash(bad).to_numpy(),
        }
    ).drop_duplicates("problem_hash")
    stored = bulk.read_matching(
        conn, quarantine, ["problem_hash"], "problem_hash", frame["problem_hash"]
    )
    frame = frame[~frame["problem_hash"].isin(stored["problem_hash"].to_numpy())]
    bulk.insert_frame(conn, quarantine, frame.reset_index(drop=True))
    return len(frame)
