"""Excel workbooks in an extract folder: each sheet a contract file.

An extract folder may hold ``.xlsx`` (or ``.xlsm``) workbooks instead of, or
beside, CSV files. A sheet is a contract file when it is named like one
(``incidents`` or ``incidents.csv``, any case), or when it is the only sheet
of a workbook named like one (``incidents.xlsx``). A contract file given twice
(a CSV and a sheet, or two sheets) is a structural error: nothing is guessed.

A sheet becomes the same :class:`~adapt.contract.csvread.Records` the CSV
path makes (every cell as text), so that one set of rules checks both:

* row 1 is the header; a row with no value in any cell is blank (not a
  record, like a blank line of a CSV) and row numbers are the sheet's own,
  so ``row 5`` is the row Excel shows as 5;
* text stays as written; whole numbers are written without a decimal point
  (``1001``, not ``1001.0``); ``TRUE``/``FALSE`` cells become ``true``/``false``;
  a cell Excel holds as a date becomes an ISO date (``2024-03-01``), or date
  and time (``2024-03-01 22:15:00``) when it has a time of day; a date typed
  as text is parsed as the contract says, like a CSV cell;
* formulas are never evaluated: a formula cell reads as the value Excel saved
  with it (openpyxl ``data_only=True``). A formula saved without a value (a
  workbook written by a program that does not calculate), and a cell holding
  an error (``#REF!``, ``#N/A``...), are bad values: the row goes to the
  quarantine, the reason naming the workbook, sheet and cell.

openpyxl is pure Python: a sheet reads at roughly 1,000 rows a second (a
second pass is made over a sheet that has formulas), against a CSV's hundreds
of thousands: large extracts load faster as CSV.

Known limit: openpyxl reads a formula whose saved value is the empty string
as a formula without a saved value, so such a row is quarantined rather than
read as empty.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from adapt.contract.csvread import Records
from adapt.contract.model import StructuralError
from adapt.contract.sniff import Header
from adapt.core.spec import FILES, FileSpec

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_FORMULAS = (ArrayFormula, DataTableFormula)
_SHOW = 80


@dataclass(frozen=True)
class SheetSource:
    """Where a contract file is in a workbook."""

    spec: FileSpec
    path: Path
    sheet: str

    @property
    def where(self) -> str:
        """``extract.xlsx, sheet "incidents"``: how messages name the sheet (in
        double quotes: single quotes mark a cell's value, which logs hide)."""
        return f'{self.path.name}, sheet "{self.sheet}"'


@dataclass
class SheetRecords:
    """A sheet read as text: its header, its records and a hash of its content."""

    header: Header
    records: Records
    sha256: str


@dataclass
class Workbooks:
    """The workbooks of a folder (opened read-only), which contract file each
    sheet is, and notices for sheets that are not contract files."""

    sources: dict[str, SheetSource] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    # Workbooks that could not be opened and are not named like a contract file:
    # only a notice while the contract files are found elsewhere, the error when
    # a required file is missing (it may have been in one of them).
    unreadable: list[StructuralError] = field(default_factory=list)
    _open: dict[Path, Workbook] = field(default_factory=dict)

    def close(self) -> None:
        for book in self._open.values():
            book.close()
        self._open.clear()


def _stem(name: str) -> str:
    return name.strip().lower().removesuffix(".csv")


def _open(path: Path, *, data_only: bool) -> Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception:  # zipfile, XML and openpyxl errors alike: the file is not a workbook
        raise StructuralError(
            path.name,
            "cannot be opened as an Excel .xlsx workbook (it may be password-protected, "
            "damaged, or an old .xls saved under a new name)",
        ) from None


def find_workbooks(folder: Path) -> Workbooks:
    """Which sheet of which workbook in ``folder`` is which contract file.

    Raises :class:`StructuralError` for a workbook named like a contract file
    that cannot be opened or whose several sheets are none named like it, and
    for a contract file given by two sheets. Any other workbook that cannot be
    opened is kept in :attr:`Workbooks.unreadable` (see there).
    """
    found = Workbooks()
    paths = sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in WORKBOOK_SUFFIXES
        and not p.name.startswith(("~$", "."))  # Excel's lock files, hidden files
    )
    stems = {spec.name.removesuffix(".csv"): spec for spec in FILES}
    candidates: dict[str, list[SheetSource]] = {}
    try:
        for path in paths:
            own = stems.get(path.stem.strip().lower())
            try:
                book = _open(path, data_only=True)
            except StructuralError as err:
                if own is not None:
                    raise
                found.unreadable.append(err)
                found.notices.append(f"{err}; it was ignored")
                continue
            found._open[path] = book
            named = {title: stems.get(_stem(title)) for title in book.sheetnames}
            if own is not None and own not in named.values():
                if len(book.sheetnames) != 1:
                    raise StructuralError(
                        path.name,
                        f"has {len(book.sheetnames)} sheets and none is named "
                        f'"{own.name.removesuffix(".csv")}"; name the sheet after its contract '
                        "file, or keep one sheet in the workbook",
                    )
                named[book.sheetnames[0]] = own
            for title, spec in named.items():
                if spec is None:
                    found.notices.append(
                        f'{path.name}: sheet "{title}" is not a contract file and was ignored'
                    )
                else:
                    candidates.setdefault(spec.name, []).append(SheetSource(spec, path, title))
    except BaseException:
        found.close()
        raise
    for name, sources in candidates.items():
        if len(sources) > 1:
            found.close()
            raise StructuralError(
                name,
                "is given more than once: " + " and ".join(s.where for s in sources) + "; keep one",
            )
        found.sources[name] = sources[0]
    return found


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV export of it would hold.

    >>> [cell_text(v) for v in (None, "Sam", 1001, 1001.0, 2.5, True)]
    ['', 'Sam', '1001', '1001', '2.5', 'true']
    >>> cell_text(datetime(2024, 3, 1)), cell_text(datetime(2024, 3, 1, 22, 14, 59, 999000))
    ('2024-03-01', '2024-03-01 22:15:00')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        # Excel keeps times as fractions of a day: round to the second.
        value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _show(text: str) -> str:
    return text if len(text) <= _SHOW else text[:_SHOW] + "…"


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _has_formulas(sheet: object) -> bool:
    """Whether a read-only sheet's XML holds any formula element, found by a
    byte search of the part (fast) so that the second, formula-text pass over
    the sheet is made only for a workbook that has formulas. Uses openpyxl's
    ``_get_source`` (the sheet's XML stream; openpyxl is pinned to 3.1)."""
    tail = b""
    with sheet._get_source() as stream:  # type: ignore[attr-defined]
        while chunk := stream.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def read_sheet(found: Workbooks, source: SheetSource) -> SheetRecords:
    """Read one contract sheet as text records (see the module docstring).

    Raises :class:`StructuralError` (naming the workbook and sheet) for a
    chart sheet, a sheet with no cells or an empty first row.
    """
    where = source.where
    values = found._open[source.path][source.sheet]
    if not hasattr(values, "iter_rows"):  # a chart sheet
        raise StructuralError(where, "is a chart, not a table of records")
    # The formulas' own text (for a formula saved without its value) is a second
    # pass over the sheet: made only when the sheet has formulas at all.
    formulas_book = _open(source.path, data_only=False) if _has_formulas(values) else None
    try:
        # Some writers store a wrong size: read every row there is.
        values.reset_dimensions()
        if formulas_book is not None:
            formulas = formulas_book[source.sheet]
            formulas.reset_dimensions()
            texts = formulas.iter_rows(values_only=True)
        else:
            texts = itertools.repeat(())
        rows = zip(values.iter_rows(), texts, strict=False)
        first = next(rows, None)
        if first is None:
            raise StructuralError(where, "the sheet is empty (it has no cells)")
        names = [cell_text(c.value) for c in first[0]]
        while names and not names[-1].strip():
            names.pop()
        if not names:
            raise StructuralError(
                where, "the first row is empty; it should be the header row", row=1
            )
        width = len(names)
        columns: list[list[str]] = [[] for _ in range(width)]
        source_row: list[int] = []
        nfields: list[int] = []
        bad: dict[int, tuple[list[int], list[str]]] = {}
        extra_raw: dict[int, str] = {}
        for number, (cells, formula_row) in enumerate(rows, start=2):
            texts: list[str] = []
            problems: list[tuple[int, str]] = []
            for j, cell in enumerate(cells):
                value = cell.value
                formula = formula_row[j] if j < len(formula_row) else None
                if cell.data_type == "e":  # an error value: #REF!, #N/A, #DIV/0! ...
                    text = cell_text(value)
                    problems.append((j, f"holds the spreadsheet error '{_show(text)}'"))
                elif value is None and (
                    isinstance(formula, _FORMULAS)
                    or (isinstance(formula, str) and formula.startswith("="))
                ):
                    text = formula.text if isinstance(formula, ArrayFormula) else str(formula)
                    problems.append(
                        (
                            j,
                            f"is a formula '{_show(text)}' saved without its value; open the "
                            "workbook in Excel and save it, or export the sheet as CSV",
                        )
                    )
                else:
                    text = cell_text(value)
                texts.append(text)
            filled = [j for j, t in enumerate(texts) if t.strip()]
            if not filled and not problems:
                continue  # a blank row is not a record
            position = len(source_row)
            source_row.append(number)
            count = max(width, filled[-1] + 1) if filled else width
            nfields.append(count)
            if count > width:
                extra_raw[position] = _csv_line(texts[:count])
            row = (texts + [""] * width)[:width]
            for j in range(width):
                columns[j].append(row[j])
            for j, reason in problems:
                if j < width:
                    rows_, reasons = bad.setdefault(j, ([], []))
                    rows_.append(position)
                    reasons.append(reason)
    finally:
        if formulas_book is not None:
            formulas_book.close()
    records = Records(
        columns=[pa.chunked_array([pa.array(c, type=pa.string())]) for c in columns],
        nfields=np.asarray(nfields, dtype=np.int64),
        source_row=np.asarray(source_row, dtype=np.int64),
        exact=True,
        raw_override=extra_raw,
        bad_cells={j: (np.asarray(r, dtype=np.int64), reasons) for j, (r, reasons) in bad.items()},
        location=where,
    )
    digest = hashlib.sha256(source.path.read_bytes())
    digest.update(b"\x00" + source.sheet.encode("utf-8"))
    header = Header(names, [n.strip().lower() for n in names], 0, 0, ",".join(names))
    return SheetRecords(header, records, digest.hexdigest())


def cell_name(column_position: int, row: int) -> str:
    """``C5`` for the third column of row 5.

    >>> cell_name(2, 5)
    'C5'
    """
    return f"{get_column_letter(column_position + 1)}{row}"
