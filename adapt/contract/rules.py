"""Per-file and cross-file rules. Every failure becomes one problem row.

A problem is (record position, column, value as written, reason). Reasons are
written for an analyst, in the contract's form: ``occurred_at '31/02/2024' is
not a date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adapt.contract.csvread import Records
from adapt.contract.parse import (
    Parsed,
    parse_bool,
    parse_choice,
    parse_datetime,
    parse_text,
)
from adapt.core.spec import MANAGEMENT, FileSpec, Kind

# Dates that may legitimately lie ahead: a MARAC meeting already scheduled, the
# planned end of a management regime. Every other date after "now" is a bad row.
FUTURE_ALLOWED = frozenset({"meeting_date", "to_date"})
BOOL_WORDS = "true/false, 1/0, Y/N, yes/no"
KEY_SEP = "|"


@dataclass
class Problems:
    rows: list[np.ndarray] = field(default_factory=list)
    columns: list[list[str | None]] = field(default_factory=list)
    values: list[list[str | None]] = field(default_factory=list)
    reasons: list[list[str]] = field(default_factory=list)

    def add(
        self,
        rows: np.ndarray,
        column: str | None,
        values: list[str | None],
        reasons: list[str],
    ) -> None:
        if len(rows):
            self.rows.append(np.asarray(rows, dtype=np.int64))
            self.columns.append([column] * len(rows))
            self.values.append(values)
            self.reasons.append(reasons)

    def bad_rows(self, n: int) -> np.ndarray:
        bad = np.zeros(n, dtype=bool)
        for r in self.rows:
            bad[r] = True
        return bad


@dataclass
class Checked:
    spec: FileSpec
    records: Records
    raw: dict[str, pa.ChunkedArray]  # contract column -> text as written ('' if absent)
    parsed: dict[str, Parsed]
    problems: Problems
    usable: np.ndarray  # the record has the header's number of fields
    record_key: pa.ChunkedArray | None = None


def _cells(arr: pa.ChunkedArray, rows: np.ndarray) -> list[str]:
    return arr.take(pa.array(rows, type=pa.int64())).to_pylist()


def _show(v: str, limit: int = 80) -> str:
    return v if len(v) <= limit else v[:limit] + "…"


def check_file(spec: FileSpec, rec: Records, positions: dict[str, int], now: datetime) -> Checked:
    n = rec.n
    width = len(rec.columns)
    usable = rec.nfields == width
    problems = Problems()
    bad_shape = np.flatnonzero(~usable)
    if len(bad_shape):
        counts = rec.nfields[bad_shape].tolist()
        problems.add(
            bad_shape,
            None,
            [None] * len(bad_shape),
            [f"has {k} field{'s' if k != 1 else ''}; the header has {width}" for k in counts],
        )
    empty = pa.chunked_array([pa.array([""] * 0, type=pa.string())])
    raw: dict[str, pa.ChunkedArray] = {}
    parsed: dict[str, Parsed] = {}
    now64 = np.datetime64(now.replace(tzinfo=None), "ns")
    checkable = usable
    cell_bad = np.zeros(n, dtype=bool)  # rows with a bad workbook cell in a contract column
    for col in spec.columns:
        if col.name in positions:
            arr = rec.columns[positions[col.name]]
        else:
            arr = pa.chunked_array([pa.repeat(pa.scalar("", pa.string()), n)]) if n else empty
        raw[col.name] = arr
        name = col.name
        # A workbook cell that was bad before any rule (a formula without its saved
        # value, an error value) is that one problem, not also "not a date".
        usable = checkable
        if col.name in positions and positions[col.name] in rec.bad_cells:
            rows, reasons = rec.bad_cells[positions[col.name]]
            problems.add(rows, name, _cells(arr, rows), [f"{name} {r}" for r in reasons])
            usable = checkable.copy()
            usable[rows] = False
            cell_bad[rows] = True
        if col.kind is Kind.TEXT:
            p, lengths = parse_text(arr, col.max_length)
            rows = np.flatnonzero(p.error & usable)
            problems.add(
                rows,
                name,
                _cells(arr, rows),
                [
                    f"{name} is {lengths[i]:,} characters long; "
                    f"the most this column takes is {col.max_length:,}"
                    for i in rows.tolist()
                ],
            )
        elif col.kind is Kind.CHOICE:
            p = parse_choice(arr, col.choices)
            rows = np.flatnonzero(p.error & usable)
            allowed = ", ".join(col.choices)
            vals = _cells(arr, rows)
            problems.add(
                rows,
                name,
                vals,
                [f"{name} '{_show(v)}' is not one of: {allowed}" for v in vals],
            )
        elif col.kind is Kind.BOOL:
            p = parse_bool(arr)
            rows = np.flatnonzero(p.error & usable)
            vals = _cells(arr, rows)
            problems.add(
                rows,
                name,
                vals,
                [f"{name} '{_show(v)}' is not a yes/no value ({BOOL_WORDS})" for v in vals],
            )
        else:
            p = parse_datetime(arr, date_only=col.kind is Kind.DATE)
            rows = np.flatnonzero(p.error & usable)
            vals = _cells(arr, rows)
            problems.add(rows, name, vals, [f"{name} '{_show(v)}' is not a date" for v in vals])
            if name not in FUTURE_ALLOWED:
                assert isinstance(p.value, np.ndarray)
                future = np.flatnonzero((p.value > now64) & usable)
                vals = _cells(arr, future)
                problems.add(
                    future, name, vals, [f"{name} '{_show(v)}' is in the future" for v in vals]
                )
        if col.required:
            rows = np.flatnonzero(p.missing & usable)
            problems.add(
                rows, name, [""] * len(rows), [f"{name} is empty; it is required"] * len(rows)
            )
        parsed[name] = p
    # Rows already quarantined for a bad cell take no part in the checks across columns.
    usable = checkable & ~cell_bad

    if spec.one_of:
        none = usable.copy()
        for c in spec.one_of:
            none &= parsed[c].missing
        rows = np.flatnonzero(none)
        names = ", ".join(spec.one_of[:-1]) + " and " + spec.one_of[-1]
        problems.add(
            rows,
            ", ".join(spec.one_of),
            [""] * len(rows),
            [f"{names} are all empty; at least one is needed"] * len(rows),
        )

    checked = Checked(spec, rec, raw, parsed, problems, usable)
    if spec is MANAGEMENT:
        _check_management(checked)
    _check_duplicates(checked)
    return checked


def _check_management(c: Checked) -> None:
    frm, to = c.parsed["from_date"], c.parsed["to_date"]
    assert isinstance(frm.value, np.ndarray) and isinstance(to.value, np.ndarray)
    before = (to.value < frm.value) & c.usable  # NaT compares False
    rows = np.flatnonzero(before)
    tos, froms = _cells(c.raw["to_date"], rows), _cells(c.raw["from_date"], rows)
    c.problems.add(
        rows,
        "to_date",
        tos,
        [f"to_date '{t}' is before from_date '{f}'" for t, f in zip(tos, froms, strict=True)],
    )
    parts = []
    for name in ("person_ref", "forename", "surname", "date_of_birth", "status", "from_date"):
        p = c.parsed[name]
        if isinstance(p.value, np.ndarray):  # dates: canonical ISO text
            text = pa.array(np.datetime_as_string(p.value, unit="D"), type=pa.string())
            text = pc.if_else(
                pa.array(np.isnat(p.value)),
                pc.utf8_trim_whitespace(c.raw[name]).combine_chunks(),
                text,
            )
        else:
            text = pc.utf8_lower(pc.fill_null(p.value, ""))
        text = pc.replace_substring(
            pc.replace_substring(text, "\\", "\\\\"), KEY_SEP, "\\" + KEY_SEP
        )
        parts.append(text)
    key = pc.binary_join_element_wise(*parts, KEY_SEP)
    c.record_key = key if isinstance(key, pa.ChunkedArray) else pa.chunked_array([key])


def _first_index(keys: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """For each element, the position of the first element with the same value, and codes."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    enc = pc.dictionary_encode(keys)
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    first = np.full(len(enc.dictionary), -1, dtype=np.int64)
    # reversed assignment leaves the smallest position for each code
    order = np.arange(len(codes) - 1, -1, -1)
    first[codes[order]] = order
    return first[codes], codes


def _check_duplicates(c: Checked) -> None:
    spec = c.spec
    if spec.key:
        keycol = spec.key[0]
        keys = c.raw[keycol]
        eligible = c.usable & ~c.parsed[keycol].missing
        what = keycol
    elif c.record_key is not None:
        keys = c.record_key
        eligible = c.usable.copy()
        keycol = "record_key"
        what = None
    else:
        return
    idx = np.flatnonzero(eligible)
    if len(idx) < 2:
        return
    sub = keys.take(pa.array(idx))
    first, _ = _first_index(sub)
    dup = np.flatnonzero(first != np.arange(len(idx)))
    if not len(dup):
        return
    rows = idx[dup]
    first_rows = c.records.source_row[idx[first[dup]]].tolist()
    if what is not None:
        vals = _cells(keys, rows)
        reasons = [
            f"{what} '{_show(v)}' already appears at row {r}"
            for v, r in zip(vals, first_rows, strict=True)
        ]
    else:
        vals = [""] * len(rows)
        reasons = [
            f"the same person, status and from_date already appear at row {r}" for r in first_rows
        ]
    c.problems.add(rows, keycol if what else None, vals, reasons)


def check_orphans(inv: Checked, incidents: Checked) -> None:
    """An involvement loads only if its incident loads."""
    inc_bad = incidents.problems.bad_rows(incidents.records.n)
    inc_ids = incidents.raw["incident_id"]
    valid_ids = inc_ids.filter(pa.array(~inc_bad))
    ids = inv.raw["incident_id"]
    candidates = inv.usable & ~inv.parsed["incident_id"].missing
    found = pc.is_in(ids, value_set=valid_ids.combine_chunks())
    rows = np.flatnonzero(candidates & ~np.asarray(found.to_numpy(zero_copy_only=False), bool))
    if not len(rows):
        return
    vals = _cells(ids, rows)
    qpos = np.flatnonzero(inc_bad)
    qids = _cells(inc_ids, qpos)
    quarantined: dict[str, int] = {}
    for v, r in zip(qids, incidents.records.source_row[qpos].tolist(), strict=True):
        quarantined.setdefault(v, r)
    reasons = []
    where = incidents.records.location or "incidents.csv"
    for v in vals:
        if v in quarantined:
            reasons.append(
                f"incident '{_show(v)}' was quarantined ({where} row {quarantined[v]}), "
                "so this involvement cannot load"
            )
        else:
            reasons.append(f"incident '{_show(v)}' is not in incidents.csv")
    inv.problems.add(rows, "incident_id", vals, reasons)
