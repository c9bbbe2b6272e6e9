"""read_extract: structure first (every file), then records, then rules, then frames.

A contract file is a CSV in the folder or a sheet of a workbook in it
(:mod:`adapt.contract.xlsx`); both become the same text records, checked by
the same rules. The quarantine's ``source_file`` is the contract file's name
either way (so counts, exports and erasure treat them alike); a sheet's
reasons end with the workbook, sheet and cell they are about
(``(extract.xlsx, sheet "incidents", cell C5)``).

Memory is bounded by a partition, not by the extract. incidents.csv and
involvements.csv are read a piece at a time (``CHUNK_BYTES``: the header and
whole records, numbered as in the whole file) and spread over partitions by a
hash of the incident_id as written (``PARTITION_BYTES`` of CSV each), in
temporary Arrow files: the contract's columns as text, each record's field
count, row number and raw text. Every rule then runs on one partition at a
time, and the rules that span the file (incident_id unique, every involvement's
incident present, an involvement's ``seq``, incomplete incidents) hold exactly,
since an incident id's rows in both files are all in one partition. Each
partition's valid rows are kept as one batch (again a temporary file) that
``adapt.db.load`` stores in turn; a small extract is one piece and one
partition. The small files (MARAC, management) and workbook sheets are read
whole; a sheet makes its extract one partition.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.contract.csvread import Records, count_lines, read_records, record_lines, split_records
from adapt.contract.model import Extract, ParsedFile, StructuralError, empty_quarantine
from adapt.contract.rules import Checked, check_file, check_orphans
from adapt.contract.sniff import Header, check_bytes, has_records, match_columns, read_header
from adapt.contract.xlsx import SheetSource, Workbooks, cell_name, find_workbooks, read_sheet
from adapt.core.spec import FILES, INCIDENTS, INVOLVEMENTS, MANAGEMENT, FileSpec, Kind

Progress = Callable[[str, int, int], None]
VALUE_PREVIEW = 200


# The big files are read a piece at a time and spread over partitions by their
# incident_id, so that an incident and all its involvements are checked (and
# stored) together and memory is bounded by a partition, not by the extract.
CHUNK_BYTES = 16 << 20  # CSV bytes read at a time
PARTITION_BYTES = 32 << 20  # CSV bytes of incidents.csv + involvements.csv per partition
STREAMED = (INCIDENTS.name, INVOLVEMENTS.name)
_HEAD_BYTES = 1 << 16  # at least this much of a file's start is checked as a whole
_RAW = "\x00raw"  # the columns a partition keeps besides the contract's (no header has NUL)
_NFIELDS = "\x00nfields"
_SOURCE_ROW = "\x00source_row"


@dataclass
class _Found:
    spec: FileSpec
    path: Path
    data: bytes  # the whole file (the small files); b"" for a streamed file or a sheet
    header: Header
    positions: dict[str, int]
    ignored: list[str]
    # A sheet of a workbook: read whole when it is found, with its content hash.
    records: Records | None = None
    sha256: str | None = None
    # A streamed CSV: its size and its first bytes up to the end of the header.
    size: int = 0
    head: bytes = b""


class _Store:
    """An extract's temporary space. While the big files are read, their
    partitions are files in a folder of the system's temporary folder (holding
    this process's id, so that the next read removes it if this process was
    killed); the folder is removed when reading ends. The batches of valid rows
    go into one file that is unlinked as soon as it is opened: it lives as long
    as the extract, and a killed process leaves nothing behind."""

    def __init__(self) -> None:
        _sweep()
        self.path = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self.path / "pid").write_text(str(os.getpid()))
        self._n = 0
        rows = self.path / "rows.arrow"
        self._rows = rows.open("w+b")
        rows.unlink()
        weakref.finalize(self, self._rows.close)

    def name(self, stem: str) -> Path:
        self._n += 1
        return self.path / f"{self._n:05d}-{stem}.arrow"

    def write_frame(self, frame: pd.DataFrame) -> tuple[int, int]:
        """Append a batch; returns where it is (offset, length)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        data = sink.getvalue()
        at = self._rows.seek(0, os.SEEK_END)
        self._rows.write(data)
        return at, len(data)

    def read_frame(self, where: tuple[int, int]) -> pd.DataFrame:
        at, length = where
        self._rows.seek(at)
        table = pa.ipc.open_stream(self._rows.read(length)).read_all()
        return table.to_pandas(types_mapper=_TYPES.get)

    def cleanup(self) -> None:
        """Remove the folder (the batches stay with the extract)."""
        shutil.rmtree(self.path, ignore_errors=True)


_PREFIX = "adapt-extract-"


def _sweep() -> None:
    """Remove the temporary folders of reads whose process was killed."""
    for folder in Path(tempfile.gettempdir()).glob(_PREFIX + "*"):
        try:
            pid = int((folder / "pid").read_text())
        except (OSError, ValueError):
            continue  # not ours, or being made right now
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # alive, under another user


class StreamedFile(ParsedFile):
    """A parsed file whose valid rows are kept as batches: in memory for the
    small files, in the extract's temporary folder for the big ones. ``rows``
    gathers them (in file order); ``batches()`` gives them one at a time
    (every incident with all its involvements in the same batch number)."""

    def __init__(
        self,
        *,
        parts: list[pd.DataFrame | tuple[int, int]],
        store: _Store | None,
        row_count: int,
        **kw,
    ) -> None:
        self._parts = parts
        self._store = store
        self._rows = row_count
        super().__init__(rows=None, **kw)  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def rows(self) -> pd.DataFrame:
        frames = list(self.batches())
        if len(frames) == 1:
            return frames[0]
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values("source_row", kind="stable").reset_index(drop=True)

    @rows.setter
    def rows(self, value: pd.DataFrame | None) -> None:
        if value is not None:
            self._parts = [value]
            self._rows = len(value)

    @property
    def batch_count(self) -> int:
        return len(self._parts)

    @property
    def row_count(self) -> int:
        return self._rows

    def batches(self) -> Iterator[pd.DataFrame]:
        for part in self._parts:
            if isinstance(part, pd.DataFrame):
                yield part
            else:
                assert self._store is not None
                yield self._store.read_frame(part)


def file_batches(parsed: ParsedFile) -> Iterator[pd.DataFrame]:
    """The valid rows of a parsed file, a batch at a time (a file built by hand
    is one batch)."""
    if isinstance(parsed, StreamedFile):
        yield from parsed.batches()
    else:
        yield parsed.rows


def file_row_count(parsed: ParsedFile) -> int:
    """How many valid rows a parsed file has (without gathering them)."""
    return parsed.row_count if isinstance(parsed, StreamedFile) else len(parsed.rows)


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
    for f in found:
        notices += [
            f"{_where(f)}: column '{c}' is not in the contract and was ignored" for c in f.ignored
        ]
    store = _Store()
    try:
        files, quarantine = _read_found(found, store, now, report)
    finally:
        store.cleanup()
    report("done", 1, 1)
    return Extract(folder=folder, files=files, quarantine=quarantine, notices=notices)


@dataclass
class _Out:
    """What is gathered for one file over its partitions."""

    records: int = 0
    rows: int = 0
    sha256: str | None = None
    parts: list[pd.DataFrame | tuple[int, int]] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    incomplete: set[str] = field(default_factory=set)


def _read_found(
    found: list[_Found], store: _Store, now: datetime, report: Progress
) -> tuple[dict[str, ParsedFile], pd.DataFrame]:
    out = {f.spec.name: _Out(sha256=f.sha256) for f in found}
    streamed = [f for f in found if f.spec.name in STREAMED]
    k = _partition_count(streamed)
    # 1. Each big CSV, a piece at a time, into k partitions of raw records.
    raw: dict[str, list[Path]] = {}
    for f in streamed:
        if f.records is None:
            raw[f.spec.name], out[f.spec.name].sha256 = _spill(f, k, store, report)
    # 2. Each partition: every rule (incident_id unique, orphans: all within one
    # partition), then its valid rows as a batch.
    for p in range(k):
        report("checking incidents and involvements", p, k)
        checked: dict[str, Checked] = {}
        for f in streamed:
            name = f.spec.name
            rec = f.records if f.records is not None else _load_records(raw[name][p], f)
            checked[name] = check_file(f.spec, rec, f.positions, now)
        check_orphans(checked[INVOLVEMENTS.name], checked[INCIDENTS.name])
        for f in streamed:
            _gather(checked.pop(f.spec.name), f, out[f.spec.name], store)
            if f.records is None:
                raw[f.spec.name][p].unlink()
        del checked
        pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed memory
    # The small files, whole.
    small = [f for f in found if f.spec.name not in STREAMED]
    for i, f in enumerate(small):
        report(f"checking {f.spec.name}", i, len(small))
        rec = f.records or read_records(f.spec.name, f.data, f.header)
        _gather(check_file(f.spec, rec, f.positions, now), f, out[f.spec.name], None)

    files: dict[str, ParsedFile] = {}
    quarantines: list[pd.DataFrame] = []
    for f in found:
        o = out[f.spec.name]
        files[f.spec.name] = StreamedFile(
            parts=o.parts,
            store=store,
            spec=f.spec,
            path=f.path,
            sha256=o.sha256 or hashlib.sha256(f.data).hexdigest(),
            records=o.records,
            ignored_columns=list(f.ignored),
            incomplete_incidents=frozenset(o.incomplete),
            row_count=o.rows,
        )
        parts = [q for q in o.quarantine if len(q)]
        if len(parts) > 1:
            q = pd.concat(parts, ignore_index=True)
            quarantines.append(q.sort_values("source_row", kind="stable"))
        elif parts:
            quarantines.append(parts[0])
    quarantine = pd.concat(quarantines, ignore_index=True) if quarantines else empty_quarantine()
    return files, quarantine


def _gather(c: Checked, f: _Found, o: _Out, store: _Store | None) -> None:
    """One partition of a file (or a small file whole): its valid rows as a
    batch, its quarantine, and the incidents it leaves incomplete."""
    bad = c.problems.bad_rows(c.records.n)
    rows = _frame(c, np.flatnonzero(~bad))
    o.records += c.records.n
    o.rows += len(rows)
    o.parts.append(rows if store is None else store.write_frame(rows))
    o.quarantine.append(_quarantine(c, f.positions))
    if f.spec is INVOLVEMENTS and bad.any():
        o.incomplete.update(c.raw["incident_id"].take(pa.array(np.flatnonzero(bad))).to_pylist())


def _partition_count(streamed: list[_Found]) -> int:
    if any(f.records is not None for f in streamed):
        return 1  # a workbook's sheet is read whole anyway
    size = sum(f.size for f in streamed)
    return max(1, -(-size // PARTITION_BYTES))


def _spill(f: _Found, k: int, store: _Store, report: Progress) -> tuple[list[Path], str]:
    """Read one big CSV a piece at a time (each piece is the file's header and
    whole records, read by ``read_records`` with the file's row and line
    numbers) into ``k`` partitions by a hash of the incident_id as written:
    the contract's columns as text, each record's field count, row number and
    raw text. Returns the partitions' files and the file's SHA-256."""
    name = f.spec.name
    kept = [(col.name, f.positions[col.name]) for col in f.spec.columns if col.name in f.positions]
    schema = pa.schema(
        [(c, pa.string()) for c, _ in kept]
        + [(_NFIELDS, pa.int64()), (_SOURCE_ROW, pa.int64()), (_RAW, pa.string())]
    )
    paths = [store.name(f"{f.spec.name}-raw-{p}") for p in range(k)]
    digest = hashlib.sha256(f.head)
    done = len(f.head)
    writers = [pa.ipc.new_file(str(p), schema) for p in paths]
    try:
        with f.path.open("rb") as fh:
            fh.seek(len(f.head))

            def read() -> bytes:
                nonlocal done
                block = fh.read(CHUNK_BYTES)
                digest.update(block)
                if b"\x00" in block:
                    raise StructuralError(
                        name, "does not look like a CSV file: it contains binary data"
                    )
                done += len(block)
                return block

            row, line = 2, 2
            for piece in split_records(read, 4 * CHUNK_BYTES):
                rec = read_records(name, f.head + piece, f.header, first_row=row, first_line=line)
                row += rec.n
                line += count_lines(piece)
                table = pa.table(
                    [rec.columns[i] for _, i in kept]
                    + [pa.array(rec.nfields), pa.array(rec.source_row), record_lines(rec)],
                    schema=schema,
                )
                del rec
                if k == 1:
                    writers[0].write_table(table)
                else:
                    ids = table.column("incident_id")
                    part = (_hash_text_rows([ids], len(ids)) % np.uint64(k)).astype(np.int64)
                    order = np.argsort(part, kind="stable")
                    counts = np.bincount(part, minlength=k)
                    table = table.take(pa.array(order))
                    at = 0
                    for p, size in enumerate(counts.tolist()):
                        if size:
                            writers[p].write_table(table.slice(at, size))
                        at += size
                report(f"reading {name}", done, f.size)
    finally:
        for w in writers:
            w.close()
    return paths, digest.hexdigest()


def _load_records(path: Path, f: _Found) -> Records:
    """One partition of a big file's records, as ``check_file`` reads them."""
    with pa.OSFile(str(path)) as src:
        table = pa.ipc.open_file(src).read_all()
    n = table.num_rows
    by_position = {f.positions[c]: c for c in table.column_names if c in f.positions}
    filler = pa.chunked_array([pa.nulls(n, pa.string())])
    return Records(
        columns=[
            table.column(by_position[i]) if i in by_position else filler
            for i in range(len(f.header.names))
        ],
        nfields=table.column(_NFIELDS).to_numpy(),
        source_row=table.column(_SOURCE_ROW).to_numpy(),
        raw_lines=table.column(_RAW),
    )


_TYPES = {pa.string(): pd.StringDtype("pyarrow"), pa.bool_(): pd.BooleanDtype()}


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


def _read_head(spec: FileSpec, path: Path) -> tuple[bytes, int]:
    """A big file's first bytes (at least up to the end of its first line) and its size."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(max(CHUNK_BYTES, _HEAD_BYTES))
            while len(head) < size and not (b"\n" in head or b"\r" in head):
                head += fh.read(CHUNK_BYTES)
            if head.endswith(b"\r") and len(head) < size:
                head += fh.read(1)  # a CRLF is not cut in two
    except OSError as exc:
        raise StructuralError(spec.name, f"cannot be read ({exc.strerror})") from None
    return head, size


def _text_after(spec: FileSpec, path: Path, start: int) -> bool:
    """Whether the file has anything but whitespace after byte ``start``."""
    try:
        with path.open("rb") as fh:
            fh.seek(start)
            while block := fh.read(CHUNK_BYTES):
                if block.strip():
                    return True
    except OSError as exc:
        raise StructuralError(spec.name, f"cannot be read ({exc.strerror})") from None
    return False


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
        if spec.name in STREAMED:
            data, size = _read_head(spec, path)
        else:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise StructuralError(spec.name, f"cannot be read ({exc.strerror})") from None
            size = len(data)
        check_bytes(spec.name, data)
        header = read_header(spec.name, data)
        positions, ignored = match_columns(spec, header)
        more = has_records(data, header) or (
            len(data) < size and _text_after(spec, path, len(data))
        )
        if spec.required and not more:
            raise StructuralError(spec.name, "has a header but no records")
        if spec.name in STREAMED:
            found.append(
                _Found(
                    spec, path, b"", header, positions, ignored, size=size, head=data[: header.end]
                )
            )
        else:
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
