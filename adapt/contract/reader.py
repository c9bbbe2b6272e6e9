"""read_extract: structure first (every file), then records, then rules, then frames.

A contract file is a CSV in the folder or a sheet of a workbook in it
(:mod:`adapt.contract.xlsx`); both become the same text records, checked by
the same rules. The quarantine's ``source_file`` is the contract file's name
either way (so counts, exports and erasure treat them alike); a sheet's
reasons end with the workbook, sheet and cell they are about
(``(extract.xlsx, sheet "incidents", cell C5)``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.contract.csvread import Records, read_records
from adapt.contract.model import Extract, ParsedFile, StructuralError, empty_quarantine
from adapt.contract.rules import Checked, check_file, check_orphans
from adapt.contract.sniff import Header, check_bytes, has_records, match_columns, read_header
from adapt.contract.xlsx import SheetSource, Workbooks, cell_name, find_workbooks, read_sheet
from adapt.core.spec import FILES, INCIDENTS, INVOLVEMENTS, MANAGEMENT, FileSpec, Kind

Progress = Callable[[str, int, int], None]
VALUE_PREVIEW = 200


@dataclass
class _Found:
    spec: FileSpec
    path: Path
    data: bytes
    header: Header
    positions: dict[str, int]
    ignored: list[str]
    # A sheet of a workbook: read whole when it is found, with its content hash.
    records: Records | None = None
    sha256: str | None = None


def read_extract(
    folder: Path | str,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Extract:
    folder = Path(folder)
    if now is None:
        # Extracts record local (UK) clock times, so "the future" is local too.
        now = datetime.now()
    report = progress or (lambda stage, done, total: None)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise StructuralError(str(folder), f"{what}; give the extract's folder")

    found, notices = _check_structure(folder, report)
    total = len(found)
    records: dict[str, Records] = {}
    for i, f in enumerate(found):
        report(f"reading {f.spec.name}", i, total)
        records[f.spec.name] = f.records or read_records(f.spec.name, f.data, f.header)
    checked: dict[str, Checked] = {}
    for i, f in enumerate(found):
        report(f"checking {f.spec.name}", i, total)
        checked[f.spec.name] = check_file(f.spec, records[f.spec.name], f.positions, now)
        notices += [
            f"{_where(f)}: column '{c}' is not in the contract and was ignored" for c in f.ignored
        ]
    check_orphans(checked[INVOLVEMENTS.name], checked[INCIDENTS.name])

    files: dict[str, ParsedFile] = {}
    quarantines: list[pd.DataFrame] = []
    for i, f in enumerate(found):
        report(f"building {f.spec.name}", i, total)
        c = checked[f.spec.name]
        bad = c.problems.bad_rows(c.records.n)
        rows = _frame(c, np.flatnonzero(~bad))
        files[f.spec.name] = ParsedFile(
            spec=f.spec,
            path=f.path,
            sha256=f.sha256 or hashlib.sha256(f.data).hexdigest(),
            records=c.records.n,
            rows=rows,
            ignored_columns=list(f.ignored),
            incomplete_incidents=(
                frozenset(c.raw["incident_id"].take(pa.array(np.flatnonzero(bad))).to_pylist())
                if f.spec is INVOLVEMENTS and bad.any()
                else frozenset()
            ),
        )
        quarantines.append(_quarantine(c, f.positions))
    report("done", total, total)
    parts = [q for q in quarantines if len(q)]
    quarantine = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
    return Extract(folder=folder, files=files, quarantine=quarantine, notices=notices)


def _find(folder: Path, name: str) -> Path | None:
    exact = folder / name
    if exact.is_file():
        return exact
    if exact.is_dir():
        raise StructuralError(name, "is a folder, not a file")
    for p in folder.iterdir():
        if p.is_file() and p.name.lower() == name:
            return p
    return None


def _where(f: _Found) -> str:
    """How messages name the file: ``incidents.csv``, or the workbook and sheet."""
    return f.records.location if f.records is not None and f.records.location else f.spec.name


def _check_structure(folder: Path, report: Progress) -> tuple[list[_Found], list[str]]:
    """Every contract file found (a CSV or a workbook's sheet) with its header
    checked, and notices (sheets that are not contract files)."""
    workbooks = find_workbooks(folder)
    try:
        return _check_files(folder, workbooks, report), list(workbooks.notices)
    finally:
        workbooks.close()


def _sheet(spec: FileSpec, workbooks: Workbooks, source: SheetSource) -> _Found:
    sheet = read_sheet(workbooks, source)
    try:
        positions, ignored = match_columns(spec, sheet.header)
    except StructuralError as err:  # name the workbook and sheet, not the contract file
        raise StructuralError(
            f"{source.where} ({spec.name})", err.message, row=err.row, column=err.column
        ) from None
    if spec.required and not sheet.records.n:
        raise StructuralError(source.where, "has a header but no records")
    return _Found(spec, source.path, b"", sheet.header, positions, ignored, sheet.records,
                  sheet.sha256)  # fmt: skip


def _check_files(folder: Path, workbooks: Workbooks, report: Progress) -> list[_Found]:
    found: list[_Found] = []
    for spec in FILES:
        path = _find(folder, spec.name)
        source = workbooks.sources.get(spec.name)
        if path is not None and source is not None:
            raise StructuralError(
                spec.name, f"is given twice: as {path.name} and as {source.where}; keep one"
            )
        if source is not None:
            # a sheet is read whole here (openpyxl is slow): say which
            report(f"reading {source.where}", len(found), len(FILES))
            found.append(_sheet(spec, workbooks, source))
            continue
        if path is None:
            if spec.required and workbooks.unreadable:
                raise workbooks.unreadable[0]
            if spec.required:
                also = (
                    f" (no {spec.name}, and no sheet named "
                    f'"{spec.name.removesuffix(".csv")}" in a workbook)'
                    if workbooks.sources or workbooks.notices
                    else ""
                )
                raise StructuralError(spec.name, f"required file is missing from the folder{also}")
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StructuralError(spec.name, f"cannot be read ({exc.strerror})") from None
        check_bytes(spec.name, data)
        header = read_header(spec.name, data)
        positions, ignored = match_columns(spec, header)
        if spec.required and not has_records(data, header):
            raise StructuralError(spec.name, "has a header but no records")
        found.append(_Found(spec, path, data, header, positions, ignored))
    return found


def _string(arr: pa.ChunkedArray | pa.Array) -> pd.arrays.ArrowStringArray:
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr], type=pa.string())
    return pd.arrays.ArrowStringArray(arr)


def _frame(c: Checked, keep: np.ndarray) -> pd.DataFrame:
    n = c.records.n
    take_all = len(keep) == n
    idx = pa.array(keep, type=pa.int64())
    out: dict[str, object] = {}
    hashes: list[np.ndarray] = []
    texts: list[pa.ChunkedArray | pa.Array] = []
    for col in c.spec.columns:
        p = c.parsed[col.name]
        if col.kind is Kind.TEXT:
            v = p.value if take_all else p.value.take(idx)
            out[col.name] = _string(v)
            texts.append(v)
        elif col.kind is Kind.CHOICE:
            v = p.value if take_all else p.value.take(idx)
            out[col.name] = _string(v)
            hashes.append(_hash_choice(v, col.choices))
        elif col.kind is Kind.BOOL:
            assert isinstance(p.value, np.ndarray)
            vals = p.value[keep]
            mask = p.missing[keep]
            out[col.name] = pd.arrays.BooleanArray(vals, mask)
            hashes.append(_mix(np.where(mask, 2, vals.astype(np.uint64)).astype(np.uint64)))
        else:
            assert isinstance(p.value, np.ndarray)
            vals = p.value[keep]
            out[col.name] = vals
            hashes.append(_mix(vals.view(np.uint64)))
    hashes.insert(0, _hash_text_rows(texts, len(keep)))
    frame = pd.DataFrame(out)
    frame["source_row"] = c.records.source_row[keep]
    frame["row_hash"] = _combine(hashes, len(keep)).view(np.int64)
    if c.spec is INVOLVEMENTS:
        frame["seq"] = _seq(c.raw["incident_id"])[keep]
    if c.spec is MANAGEMENT:
        assert c.record_key is not None
        frame["record_key"] = _string(c.record_key if take_all else c.record_key.take(idx))
    return frame


_P = np.uint64(0x100000001B3)
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))


def _hash_choice(v: pa.ChunkedArray | pa.Array, choices: tuple[str, ...]) -> np.ndarray:
    words = pa.array(list(choices), type=pa.string())
    table = np.r_[_hash_text_rows([words], len(words)), _mix(np.array([2**63], np.uint64))]
    where = pc.index_in(v, value_set=words).fill_null(len(choices))
    return table[where.to_numpy(zero_copy_only=False).astype(np.int64)]


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread, stable 64-bit mix of each value."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _hash_text_rows(cols: list[pa.ChunkedArray | pa.Array], n: int) -> np.ndarray:
    """A stable 64-bit hash per row of the text columns (canonical values, missing = '').

    The cells are joined with NUL (which never occurs in an accepted file) and each
    joined row is hashed as a polynomial over its bytes (mod 2**64), then mixed.
    Pure numpy over Arrow buffers: no Python strings are made.
    """
    if n == 0 or not cols:
        return np.zeros(n, dtype=np.uint64)
    filled = [pc.fill_null(c, "") for c in cols]
    joined = pc.binary_join_element_wise(*filled, "\x00") if len(filled) > 1 else filled[0]
    chunks = joined.chunks if isinstance(joined, pa.ChunkedArray) else [joined]
    out = np.empty(n, dtype=np.uint64)
    done = 0
    step = 100_000
    for chunk in chunks:
        for a in range(0, len(chunk), step):
            piece = chunk.slice(a, step)
            k = len(piece)
            offs = np.frombuffer(piece.buffers()[1], dtype=np.int32)[
                piece.offset : piece.offset + k + 1
            ].astype(np.int64)
            data = np.frombuffer(piece.buffers()[2], dtype=np.uint8)[offs[0] : offs[-1]]
            lens = np.diff(offs)
            starts = offs[:-1] - offs[0]
            h = lens.astype(np.uint64)
            if len(data):
                # sum of (byte+1) * P**i over the row, i counted from the row's start:
                # P**(global i) times P**(-start), P odd so invertible mod 2**64
                pw, inv = _powers(len(data))
                terms = data.astype(np.uint64)
                terms += np.uint64(1)
                terms *= pw[: len(data)]
                nonempty = lens > 0
                sums = np.add.reduceat(terms, starts[nonempty]) * inv[starts[nonempty]]
                h[nonempty] ^= _mix(sums)
            out[done : done + k] = _mix(h)
            done += k
    return out


_POWERS: list[tuple[np.ndarray, np.ndarray]] = []


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    if not _POWERS or len(_POWERS[0][0]) < size:
        size = max(size, 1 << 20)
        pw = np.empty(size, dtype=np.uint64)
        pw[0] = 1
        pw[1:] = _P
        np.cumprod(pw, out=pw)
        inv = np.empty(size, dtype=np.uint64)
        inv[0] = 1
        inv[1:] = _P_INV
        np.cumprod(inv, out=inv)
        _POWERS[:] = [(pw, inv)]
    return _POWERS[0]


def _combine(hashes: list[np.ndarray], n: int) -> np.ndarray:
    # the combination pandas uses in hash_pandas_object
    mult = np.uint64(1000003)
    x = np.full(n, 0x345678, dtype=np.uint64)
    k = len(hashes)
    for i, h in enumerate(hashes):
        inverse = k - i
        x ^= h
        x *= mult
        mult += np.uint64(82520 + inverse + inverse)
    x += np.uint64(97531)
    return x


def _seq(ids: pa.ChunkedArray) -> np.ndarray:
    """1-based ordinal of each record among all records with the same incident_id text."""
    arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes = pc.dictionary_encode(arr).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    seq = np.empty(n, dtype=np.int64)
    seq[order] = np.arange(n) - group_start + 1
    return seq


def _located(
    reasons: list[str], columns: list[str | None], rows: np.ndarray, c: Checked,
    positions: dict[str, int],
) -> list[str]:  # fmt: skip
    """Reasons of a workbook's sheet with the cell (or row) they are about:
    ``... (extract.xlsx, sheet "incidents", cell C5)``."""
    where = c.records.location
    if where is None:
        return reasons
    out = []
    for reason, column, row in zip(reasons, columns, rows.tolist(), strict=True):
        at = positions.get(column) if column is not None else None
        place = f"cell {cell_name(at, row)}" if at is not None else f"row {row}"
        out.append(f"{reason} ({where}, {place})")
    return out


def _quarantine(c: Checked, positions: dict[str, int]) -> pd.DataFrame:
    pr = c.problems
    if not pr.rows:
        return empty_quarantine()
    pos = np.concatenate(pr.rows)
    columns = [x for part in pr.columns for x in part]
    values = [x for part in pr.values for x in part]
    reasons = [x for part in pr.reasons for x in part]
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    uniq, inv = np.unique(pos, return_inverse=True)
    raws = c.records.raw(uniq)
    raw = [raws[i] for i in inv.tolist()]
    ordered = order.tolist()

    def preview(v: str | None) -> str | None:
        if v is None or len(v) <= VALUE_PREVIEW:
            return v
        return v[:VALUE_PREVIEW] + f"… ({len(v):,} characters)"

    return pd.DataFrame(
        {
            "source_file": pd.array([c.spec.name] * len(pos), dtype="string"),
            "source_row": pd.array(c.records.source_row[pos], dtype="int64"),
            "column": pd.array([columns[i] for i in ordered], dtype="string"),
            "value": pd.array([preview(values[i]) for i in ordered], dtype="string"),
            "reason": pd.array(
                _located(
                    [reasons[i] for i in ordered],
                    [columns[i] for i in ordered],
                    c.records.source_row[pos],
                    c,
                    positions,
                ),
                dtype="string",
            ),
            "raw": pd.array(raw, dtype="string"),
        }
    )
