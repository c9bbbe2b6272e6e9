"""Split a CSV file's bytes into records, numbered as the contract numbers them.

The fast path is pyarrow (every column as text, nothing turned into null),
single-threaded: then its invalid-row handler numbers each bad row by record
(a quoted newline does not start a record, blank lines are not records), so a
row with the wrong number of fields is kept, in place, with its raw text, and
the rest of the file stays on the fast path. If anything else looks off (a bad
UTF-8 byte, an odd number of quote characters, a last record holding a
newline, an Arrow parse error), the file is read again with Python's csv
module, which numbers every record exactly, keeps each record's raw text, and
finds an unbalanced quote.

Blank lines are not records and do not count in the numbering. A record's
number is spreadsheet-style: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from adapt.contract.model import StructuralError
from adapt.contract.sniff import Header, not_utf8

_CHUNK = 100_000
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_TO_DELIM = re.compile(r"[^,\r\n]*")


@dataclass
class Records:
    """Every record of a file, as text, one array per header position."""

    columns: list[pa.ChunkedArray]
    nfields: np.ndarray  # fields in each record (the header's count unless malformed)
    source_row: np.ndarray  # int64
    _raw_text: str | None = None
    _spans: tuple[np.ndarray, np.ndarray] | None = None
    exact: bool = False  # read by the slow, exact path
    notes: list[str] = field(default_factory=list)
    # Raw text of malformed records kept by the fast path, by position.
    raw_override: dict[int, str] = field(default_factory=dict)
    # The fast path's file bytes and where its records begin (after the header),
    # so that raw text can be cut from the file when it is asked for.
    _data: bytes | None = None
    _base: int = 0
    # A sheet of a workbook (adapt.contract.xlsx): cells that are bad before any
    # rule (a formula saved without its value, an error value), by header
    # position: (record positions, reasons); and where the sheet is, for messages.
    bad_cells: dict[int, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    location: str | None = None
    # Every record's raw text, kept when the records were cut out of a bigger
    # file and stored apart from its bytes (see ``record_lines``).
    raw_lines: pa.Array | pa.ChunkedArray | None = None

    @property
    def n(self) -> int:
        return len(self.source_row)

    def raw(self, positions: np.ndarray) -> list[str]:
        """The records at these positions exactly as they were in the file
        (without the line ending)."""
        pos = [int(i) for i in np.asarray(positions).tolist()]
        if self.raw_lines is not None:
            return self.raw_lines.take(pa.array(pos, type=pa.int64())).to_pylist()
        if self._spans is None and self._data is not None:
            if all(i in self.raw_override for i in pos):
                return [self.raw_override[i] for i in pos]
            self._find_spans()
        if self._spans is not None:
            starts, ends = self._spans
            if self._raw_text is not None:
                text = self._raw_text
                return [text[starts[i] : ends[i]].rstrip("\r\n") for i in pos]
            if self._data is not None:
                data, base = self._data, self._base
                return [
                    data[base + starts[i] : base + ends[i]].decode("utf-8", errors="replace")
                    for i in pos
                ]
        # A workbook's sheet (no bytes to cut from), or, not expected, a file whose
        # records could not be found again: rebuild each record as a CSV line.
        out = []
        for i in pos:
            if i in self.raw_override:
                out.append(self.raw_override[i])
                continue
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow([col[i].as_py() for col in self.columns])
            out.append(buf.getvalue())
        return out

    def _find_spans(self) -> None:
        """Find every record's span in the fast path's bytes (once, when raw text
        is first needed): with numpy, or where the quoting is irregular, with the
        csv module."""
        assert self._data is not None
        spans = _record_spans(self._data, self._base, self.n)
        if spans is None:
            text = self._data[self._base :].decode("utf-8", errors="replace")
            starts, ends = _exact_spans(text)
            if len(starts) != self.n:
                self._data = None
                return
            self._raw_text = text
            spans = (starts, ends)
        self._spans = spans


def _record_spans(data: bytes, base: int, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Byte spans (after ``base``, line ending excluded) of the ``n`` records, found
    with numpy; None where the quoting is not regular enough to be sure.

    A line ends at LF, CRLF or a lone CR outside quotes; a line ending inside
    quotes (an even number of quote characters before it ends) is part of a record;
    an empty line is not a record. Quote parity is exact when every quote opens
    or closes a field (or is one of a doubled pair inside one), which is checked.
    """
    buf = np.frombuffer(data, dtype=np.uint8)[base:]
    size = len(buf)
    # Positions, one byte value at a time: a file-sized boolean array lives only
    # for one line (three at once cost a gigabyte on a million-row file).
    lf = np.flatnonzero(buf == 10)
    cr = np.flatnonzero(buf == 13)
    if len(cr):
        nxt = np.minimum(cr + 1, size - 1)
        lone = (cr == size - 1) | (buf[nxt] != 10)
        terms = np.union1d(lf, cr[lone])
    else:
        terms = lf
    del lf, cr
    quotes = np.flatnonzero(buf == 34)
    if len(quotes):
        if len(quotes) % 2:
            return None
        opening, closing = quotes[0::2], quotes[1::2]
        # An opening quote starts a field (or follows the first of a doubled pair).
        before = buf[np.maximum(opening - 1, 0)]
        at_start = (opening == 0) | (before == 44) | (before == 10) | (before == 13)
        doubled = (opening > 0) & (before == 34)
        # A closing quote ends a field (or is the first of a doubled pair).
        after = buf[np.minimum(closing + 1, size - 1)]
        at_end = (
            (closing == size - 1) | (after == 44) | (after == 10) | (after == 13) | (after == 34)
        )
        if not (at_start | doubled).all() or not at_end.all():
            return None
        terms = terms[np.searchsorted(quotes, terms) % 2 == 0]
    starts = np.r_[0, terms + 1].astype(np.int64)
    ends = np.r_[terms, size].astype(np.int64)
    # CRLF: the line's text stops before the CR.
    crlf = (ends > starts) & (ends < size)
    crlf[crlf] = buf[ends[crlf]] == 10
    crlf &= ends > 0
    crlf[crlf] = buf[ends[crlf] - 1] == 13
    ends = ends - crlf
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if len(starts) != n:
        return None
    return starts, ends


def _exact_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Character spans of every record of ``text``, found by the csv module."""
    consumed = [0]

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed[0] += len(line)
            yield line

    starts: list[int] = []
    ends: list[int] = []
    prev_end = 0
    old_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        for rec in csv.reader(lines()):
            end = consumed[0]
            if rec:
                starts.append(prev_end)
                ends.append(end)
            prev_end = end
    finally:
        csv.field_size_limit(old_limit)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def read_records(
    name: str, data: bytes, header: Header, *, first_row: int = 2, first_line: int = 2
) -> Records:
    """The records of ``data`` (a header line, then records).

    ``data`` may be one piece of a bigger file (the file's header, then records
    cut at a record boundary, see ``split_records``): ``first_row`` is then the
    row number of its first record and ``first_line`` the file's line number
    where it starts, so that rows and messages are numbered as in the whole file.
    """
    width = len(header.names)
    fast = _read_fast(data, header, width, first_row)
    if fast is not None:
        return fast
    return _read_exact(name, data, header, width, first_row, first_line)


def _read_fast(data: bytes, header: Header, width: int, first_row: int = 2) -> Records | None:
    if data.count(b'"', header.end) % 2:
        return None
    invalid: list[tuple[int | None, str, int]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(header.end)),
            read_options=pacsv.ReadOptions(
                # Single-threaded so that invalid rows carry their record number.
                column_names=names,
                use_threads=False,
                block_size=16 << 20,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                true_values=[],
                false_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if any(number is None for number, _, _ in invalid):
        return None
    n = table.num_rows
    if n:
        last = [table.column(i)[n - 1].as_py() for i in range(width)]
        if any("\n" in v or "\r" in v for v in last):
            return None
    cols = [table.column(i) for i in range(width)]
    if not invalid:
        return Records(
            columns=cols,
            nfields=np.full(n, width, dtype=np.int64),
            source_row=np.arange(first_row, n + first_row, dtype=np.int64),
            _data=data,
            _base=header.end,
        )
    records = _with_malformed(cols, n, width, invalid, first_row)
    records._data, records._base = data, header.end
    return records


def _with_malformed(
    cols: list[pa.ChunkedArray],
    n: int,
    width: int,
    invalid: list[tuple[int | None, str, int]],
    first_row: int = 2,
) -> Records:
    """Put the rows pyarrow skipped back in their places, padded or cut to
    the header's width, with their field count and raw text kept."""
    total = n + len(invalid)
    bad_pos = np.asarray([number for number, _, _ in invalid], dtype=np.int64) - 1
    good_pos = np.setdiff1d(np.arange(total, dtype=np.int64), bad_pos, assume_unique=True)
    order = np.empty(total, dtype=np.int64)
    order[good_pos] = np.arange(n, dtype=np.int64)
    order[bad_pos] = n + np.arange(len(invalid), dtype=np.int64)
    parsed = [next(csv.reader([text]), []) for _, text, _ in invalid]
    padded = [(fields + [""] * width)[:width] for fields in parsed]
    take = pa.array(order)
    merged = [
        pa.chunked_array(
            [*col.chunks, pa.array([p[i] for p in padded], type=pa.string())], type=pa.string()
        ).take(take)
        for i, col in enumerate(cols)
    ]
    nfields = np.full(total, width, dtype=np.int64)
    nfields[bad_pos] = [count for _, _, count in invalid]
    return Records(
        columns=merged,
        nfields=nfields,
        source_row=np.arange(first_row, total + first_row, dtype=np.int64),
        raw_override={int(p): text for p, (_, text, _) in zip(bad_pos, invalid, strict=True)},
    )


def _read_exact(
    name: str, data: bytes, header: Header, width: int, first_row: int = 2, first_line: int = 2
) -> Records:
    before = first_row - 2  # records of the file before this piece
    try:
        text = data[header.end :].decode("utf-8")
    except UnicodeDecodeError as err:
        raise not_utf8(name, data, header.start, header.end + err.start, before) from None
    consumed = [0]

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed[0] += len(line)
            yield line

    old_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        reader = csv.reader(lines())
        buffers: list[list[str]] = [[] for _ in range(width)]
        chunks: list[list[pa.Array]] = [[] for _ in range(width)]
        nfields: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        first_lines: list[int] = []
        prev_end = 0
        prev_line = 0
        for rec in reader:
            end = consumed[0]
            if not rec:
                prev_end, prev_line = end, reader.line_num
                continue
            starts.append(prev_end)
            ends.append(end)
            first_lines.append(prev_line + first_line)  # + header line, 1-based
            prev_end, prev_line = end, reader.line_num
            nfields.append(len(rec))
            if len(rec) < width:
                rec = rec + [""] * (width - len(rec))
            for i in range(width):
                buffers[i].append(rec[i])
            if len(buffers[0]) >= _CHUNK:
                for i in range(width):
                    chunks[i].append(pa.array(buffers[i], type=pa.string()))
                    buffers[i] = []
    except csv.Error as err:
        raise StructuralError(
            name, f"cannot be read as CSV after this row ({err})", row=len(starts) + 1 + before
        ) from None
    finally:
        csv.field_size_limit(old_limit)
    for i in range(width):
        chunks[i].append(pa.array(buffers[i], type=pa.string()))
    if starts and _ends_in_open_quote(text[starts[-1] : ends[-1]]):
        row = len(starts) + 1 + before
        raise StructuralError(
            name,
            f"unbalanced quote opened here (line {first_lines[-1]}); "
            "the rest of the file would be one field",
            row=row,
        )
    return Records(
        columns=[pa.chunked_array(c, type=pa.string()) for c in chunks],
        nfields=np.asarray(nfields, dtype=np.int64),
        source_row=np.arange(first_row, len(starts) + first_row, dtype=np.int64),
        _raw_text=text,
        _spans=(np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)),
        exact=True,
    )


def _ends_in_open_quote(record: str) -> bool:
    """Whether this record (the file's last) reaches the end of the file inside quotes."""
    i, n = 0, len(record)
    while i < n:
        if record[i] == '"':
            m = _QUOTED.match(record, i)
            if m is None:
                return True
            i = m.end()
        m2 = _TO_DELIM.match(record, i)
        i = m2.end() if m2 else i
        if i >= n or record[i] != ",":
            return False
        i += 1
    return False


def record_lines(rec: Records) -> pa.Array:
    """Every record's raw text (as ``Records.raw`` gives it), as one Arrow array.

    On the fast path the records' byte spans are found with numpy and the text
    is cut from the file's bytes without making Python strings: each record runs
    from its start to the next record's start, less the line ending(s) between
    (a record never ends with a CR or LF of its own: one inside a field is
    quoted, so the record ends with the closing quote).
    """
    n = rec.n
    spans = None
    if rec.raw_lines is None and rec._spans is None and rec._data is not None and n:
        spans = _record_spans(rec._data, rec._base, n)
    if spans is None:
        return pa.array(rec.raw(np.arange(n)), type=pa.string())
    assert rec._data is not None
    starts, ends = spans
    body = pa.py_buffer(rec._data).slice(rec._base + int(starts[0]), int(ends[-1] - starts[0]))
    offsets = np.r_[starts, ends[-1]] - starts[0]
    if offsets[-1] >= 2**31:
        return pa.array(rec.raw(np.arange(n)), type=pa.string())
    whole = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), body]
    )
    return pc.utf8_rtrim(whole, characters="\r\n")


def _cut(buf: bytes) -> int:
    """Where to cut ``buf`` (which starts at a record boundary) so that the first
    part holds whole records: just after the last line ending that lies outside
    quotes, or 0 when there is none that is certain.

    Quote parity says whether a line ending is inside a quoted field only where
    every quote opens or closes a field (or is one of a doubled pair inside one),
    as in ``_record_spans``: past the first quote that does not, nothing is cut
    (the rest of the file is then read as one piece, by the exact path if need be).
    """
    a = np.frombuffer(buf, dtype=np.uint8)
    size = len(a)
    lf = np.flatnonzero(a == 10)
    cr = np.flatnonzero(a[: size - 1] == 13) if size > 1 else np.zeros(0, dtype=np.int64)
    if len(cr):
        cr = cr[a[cr + 1] != 10]
        ends = np.union1d(lf, cr)
    else:
        ends = lf
    del lf, cr
    quotes = np.flatnonzero(a == 34)
    if len(quotes) and len(ends):
        opening, closing = quotes[0::2], quotes[1::2]
        before = a[np.maximum(opening - 1, 0)]
        ok_open = (opening == 0) | (before == 44) | (before == 10) | (before == 13) | (before == 34)
        nxt = a[np.minimum(closing + 1, size - 1)]
        ok_close = (closing == size - 1) | (nxt == 44) | (nxt == 10) | (nxt == 13) | (nxt == 34)
        ok = np.empty(len(quotes), dtype=bool)
        ok[0::2] = ok_open
        ok[1::2] = ok_close
        irregular = np.flatnonzero(~ok)
        if len(irregular):
            ends = ends[ends < quotes[irregular[0]]]
        ends = ends[np.searchsorted(quotes, ends) % 2 == 0]
    return int(ends[-1]) + 1 if len(ends) else 0


def split_records(read: Callable[[], bytes], limit: int) -> Iterator[bytes]:
    """Cut a stream of records (``read()`` gives the next block, b"" at the end)
    into pieces of whole records, each about a block long.

    Where no record boundary is certain over more than ``limit`` bytes (a quote
    left open, or quoting too irregular to follow), the rest of the stream is one
    piece: ``read_records`` then reads it as it would have read the whole file
    (with the csv module, which finds an unbalanced quote and names its row).
    """
    pending = b""
    while True:
        block = read()
        if not block:
            if pending:
                yield pending
            return
        buf = pending + block if pending else block
        cut = _cut(buf)
        if cut == 0 and len(buf) > limit:
            rest = [buf]
            while block := read():
                rest.append(block)
            yield b"".join(rest)
            return
        if cut == 0:
            pending = buf
            continue
        yield buf[:cut]
        pending = buf[cut:]


def count_lines(piece: bytes) -> int:
    """Lines in ``piece`` as the csv module counts them (LF, CRLF or a lone CR)."""
    return piece.count(b"\n") + piece.count(b"\r") - piece.count(b"\r\n")
