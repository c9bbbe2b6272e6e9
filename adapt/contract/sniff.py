"""Byte-level structural checks: is this a UTF-8, comma-separated CSV with our header?

Everything here raises :class:`StructuralError`; nothing is re-decoded or guessed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

from adapt.contract.model import StructuralError
from adapt.core.spec import FileSpec

BOM = codecs.BOM_UTF8
_NOT_SPACE = re.compile(rb"\S")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_CONTROL = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
# A header cell that may be echoed in a message: a plain column name.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_ ]{0,39}")
# A cell that looks like a value, not a name: a number, an id such as 'P77' or 'INC00002'.
_DATA_LIKE = re.compile(r"[A-Za-z]{0,4}[ _-]?[0-9][0-9 ./:_-]*")
# Parts that only values have: a date, an e-mail address, a postcode-like or phone-like run.
_VALUE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|@|\d{5,}")


@dataclass(frozen=True)
class Header:
    names: list[str]  # as written
    keys: list[str]  # stripped, lower-cased
    start: int  # byte offset of the header (after any BOM)
    end: int  # byte offset just after the header line
    text: str


def check_bytes(name: str, data: bytes) -> None:
    """Refuse files that are empty, spreadsheets, binary or UTF-16."""
    if not data:
        raise StructuralError(name, "the file is empty (it has no bytes)")
    if data.startswith(b"PK\x03\x04"):
        raise StructuralError(
            name, "is an Excel .xlsx workbook (or other zip), not a CSV; save it as CSV UTF-8"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise StructuralError(name, "is an Excel .xls workbook, not a CSV; save it as CSV UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data[:4096]):
        raise StructuralError(name, "is UTF-16, not UTF-8; re-export it as UTF-8")
    if b"\x00" in data:
        raise StructuralError(name, "does not look like a CSV file: it contains binary data")
    head = data[:65536]
    if len(_CONTROL.findall(head)) > max(8, len(head) // 100):
        raise StructuralError(name, "does not look like a CSV file: it contains binary data")


def _looks_utf16(head: bytes) -> bool:
    if len(head) < 4:
        return False
    nul_even = head[0::2].count(0)
    nul_odd = head[1::2].count(0)
    half = len(head) // 2
    return max(nul_even, nul_odd) > 0.3 * half


def not_utf8(name: str, data: bytes, start: int, bad: int, before: int = 0) -> StructuralError:
    """The error for a file that does not decode, naming the record of the first bad byte.

    ``start`` is where the text begins (after any BOM), ``bad`` the offset of the bad byte;
    ``before``: records of the file before ``data`` (a piece of a bigger file).
    """
    prefix = data[start:bad].decode("utf-8", errors="replace")
    row = before + sum(1 for rec in csv.reader(io.StringIO(prefix + "x", newline="")) if rec)
    try:
        data.decode("cp1252")
        guess = "it seems to be Latin-1/Windows-1252"
    except UnicodeDecodeError:
        guess = "its encoding is unknown"
    return StructuralError(
        name,
        f"is not UTF-8 ({guess}; the first invalid byte is in this row); re-export it as UTF-8",
        row=row,
    )


def read_header(name: str, data: bytes) -> Header:
    start = len(BOM) if data.startswith(BOM) else 0
    m = _LINE_END.search(data, start)
    end = len(data) if m is None else m.end()
    raw = data[start:end]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise not_utf8(name, data, start, start + err.start) from None
    text = text.rstrip("\r\n")
    if not text.strip():
        raise StructuralError(name, "the first line is empty; it should be the header row", row=1)
    if text.count('"') % 2:
        raise StructuralError(name, "the header row has an unbalanced quote", row=1)
    try:
        names = next(csv.reader([text]))
    except csv.Error:
        raise StructuralError(name, "the header row cannot be read as CSV", row=1) from None
    return Header(names, [n.strip().lower() for n in names], start, end, text)


def has_records(data: bytes, header: Header) -> bool:
    return _NOT_SPACE.search(data, header.end) is not None


def match_columns(spec: FileSpec, header: Header) -> tuple[dict[str, int], list[str]]:
    """Map each contract column to its position in the header; list ignored columns."""
    positions: dict[str, int] = {}
    ignored: list[str] = []
    contract = set(spec.column_names)
    for i, key in enumerate(header.keys):
        if key in contract:
            if key in positions:
                raise StructuralError(
                    spec.name, f"column '{key}' appears twice in the header", row=1, column=key
                )
            positions[key] = i
        else:
            ignored.append(header.names[i])
    missing = [c for c in spec.required_columns if c not in positions]
    if missing:
        _check_delimiter(spec, header)
        col = missing[0]
        what = (
            f"required column '{col}' is missing"
            if len(missing) == 1
            else "required columns " + ", ".join(f"'{m}'" for m in missing) + " are missing"
        )
        raise StructuralError(spec.name, f"{what} {_found(spec, header)}", column=col)
    return positions, ignored


def _name_like(cell: str) -> bool:
    """Whether a header cell looks like a column name (and so is safe to echo)."""
    s = cell.strip()
    return bool(_NAME.fullmatch(s)) and not _DATA_LIKE.fullmatch(s)


def _normal(cell: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", cell.strip().lower()).strip("_")


def _found(spec: FileSpec, header: Header) -> str:
    """The header's cells for an error message, or a note that it is not a header.

    The message must not hold personal data, so cells are echoed only when the
    line looks like a header: at least one cell names a contract column (give or
    take case, spaces and punctuation) and no cell looks like a value (a number,
    a date, a reference like 'P77'). Even then only name-like cells are shown.
    """
    contract = {_normal(c) for c in spec.column_names}
    cells = [c for c in header.names if c.strip()]
    header_like = any(_normal(c) in contract for c in cells) and not any(
        _DATA_LIKE.fullmatch(c.strip()) or _VALUE_LIKE.search(c) for c in cells
    )
    if not header_like:
        return (
            "(the first line does not look like a header row: was the file exported without one?)"
        )
    shown = [c for c in header.names if _name_like(c)]
    hidden = sum(1 for c in cells if not _name_like(c))
    found = ", ".join(shown[:20]) + (", ..." if len(shown) > 20 else "")
    if hidden:
        found += f"{', ' if shown else ''}and {hidden} more not shown"
    return f"(found: {found})"


def _check_delimiter(spec: FileSpec, header: Header) -> None:
    contract = set(spec.column_names)
    for delim, words in _OTHER_DELIMITERS.items():
        if delim in header.text:
            parts = {p.strip().strip('"').strip().lower() for p in header.text.split(delim)}
            if len(parts & contract) >= 2:
                raise StructuralError(
                    spec.name, f"the header seems to use {words} as the delimiter, not ','"
                )
