"""Write a DataFrame to CSV or XLSX, formula-safe and atomically.

One entry point, :func:`write_table`; the format follows the file suffix.

CSV
    UTF-8 with a byte-order mark (so Excel reads accents), RFC 4180 quoting
    with CRLF line ends, a header row.  Text a spreadsheet would evaluate is
    prefixed with ``'`` (:func:`adapt.exports.safe.neutralise_formula`).
    Numbers are written as numbers, booleans as ``true``/``false``, dates as
    ISO 8601 (``2024-05-01``, ``2024-05-01T13:45:00``, with ``+01:00`` when
    time-zone aware), missing values as empty cells.

XLSX
    XlsxWriter with string-to-formula/URL/number conversion off; every text
    cell is a typed string cell holding exactly the value (no prefix, never a
    formula), numbers are numbers, booleans are booleans, naive dates and
    date-times are date cells (time-zone-aware ones are ISO text, as Excel
    has no time zones).  Bold, frozen header row with an autofilter; column
    widths from the first rows, capped.  Excel's limits (1,048,576 rows
    including the header, 16,384 columns, 32,767 characters in a cell) raise
    :class:`ValueError` rather than losing data.  Integers beyond 2**53 are
    written as text, as Excel would round them.

Both formats write a temporary file beside the target and ``os.replace`` it
into place, so a reader never sees a half-written export, and a failure (a
full disk included) leaves no file behind and raises :class:`OSError`.  The temporary file
is created private (mode 0600) and keeps that mode.  The frame's index is not
written; reset it first if it carries data.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
import numbers
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from pandas.api import types as ptypes
from xlsxwriter.exceptions import FileCreateError

from adapt.exports.safe import neutralise_formula

__all__ = ["ALLOWED_SUFFIXES", "XLSX_MAX_ROWS", "write_table"]

ALLOWED_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")

XLSX_MAX_ROWS = 1_048_576  # including the header row
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_CELL_CHARS = 32_767  # UTF-16 code units
_SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_EXACT_INT_MAX = 2**53 - 1

_WIDTH_MIN, _WIDTH_MAX, _WIDTH_SAMPLE = 8, 60, 1000
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_FIRST_SAFE_DATE = pd.Timestamp("1900-03-01")  # after Excel's 1900 leap bug

_XLSX_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,  # rows streamed to disk: bounded memory for big frames
}


def write_table(frame: pd.DataFrame, path: Path | str, *, sheet: str | None = None) -> Path:
    """Write ``frame`` to ``path`` as CSV or XLSX, chosen by the suffix.

    ``sheet`` names the XLSX worksheet (default: the file stem, cut to 31
    characters); it is ignored for CSV.  Parent folders are created.  Returns
    the path written.  Raises :class:`ValueError` for an unknown suffix, an
    invalid sheet name, or a frame that does not fit in an Excel sheet.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValueError(
            f"cannot export {path.name!r}: unsupported suffix {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(ALLOWED_SUFFIXES)}"
        )
    frame = frame.reset_index(drop=True)
    write: Callable[[Path], None]
    if suffix == ".csv":

        def write(tmp: Path) -> None:
            _write_csv(frame, tmp)

    else:
        sheet_name = _sheet_name(path, sheet)
        _check_xlsx_shape(frame)

        def write(tmp: Path) -> None:
            _write_xlsx(frame, tmp, sheet_name)

    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, write)
    return path


def write_bytes(data: bytes, path: Path | str) -> Path:
    """Write ``data`` to ``path`` atomically, private (mode 0600) like every
    export; parent folders are created. For exports that are not tables (GraphML)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, lambda tmp: tmp.write_bytes(data))
    return path


# --------------------------------------------------------------------------- shared


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _is_missing(value: object) -> bool:
    return value is None or (ptypes.is_scalar(value) and bool(pd.isna(value)))


def _classify(series: pd.Series) -> tuple[str, pd.Series]:
    """Return (kind, series) with kind one of text/bool/number/datetime/date/other."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _classify(series.astype(object))
    if ptypes.is_bool_dtype(dtype):
        return "bool", series
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return "number", series
    if ptypes.is_datetime64_any_dtype(dtype):
        if not isinstance(dtype, np.dtype | pd.DatetimeTZDtype):  # Arrow timestamps
            series = pd.to_datetime(series)
        return "datetime", series
    if isinstance(dtype, pd.StringDtype):
        return "text", series
    if not ptypes.is_object_dtype(dtype):  # Arrow dates, timedeltas, periods, ...: judge the values
        return _classify(series.astype(object))
    inferred = ptypes.infer_dtype(series, skipna=True)
    if inferred in ("string", "empty"):
        return "text", series
    if inferred == "boolean":
        return "bool", series.astype("boolean")
    if inferred == "date":
        return "date", series
    if inferred in ("datetime", "datetime64"):
        try:
            return "datetime", pd.to_datetime(series)
        except (TypeError, ValueError):  # e.g. mixed time zones
            return "other", series
    return "other", series


def _wall_clock(series: pd.Series) -> np.ndarray:
    """Datetime column as a numpy datetime64 array of local wall-clock times."""
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    return series.to_numpy()


def _has_time(series: pd.Series) -> bool:
    values = _wall_clock(series)
    return bool((values.astype("datetime64[D]") != values)[~np.isnat(values)].any())


def _iso_text(series: pd.Series) -> pd.Series:
    """Datetime column as ISO 8601 text, vectorised; missing values become None.

    Date only when no value has a time of day (and the column is naive);
    fractions of a second only when some value has them; ``+hh:mm`` offset
    when the column is time-zone aware.
    """
    tz = getattr(series.dtype, "tz", None)
    values = _wall_clock(series)
    missing = np.isnat(values)
    if tz is None and not _has_time(series):
        unit = "D"
    elif (values.astype("datetime64[s]") != values)[~missing].any():
        unit = np.datetime_data(values.dtype)[0]
    else:
        unit = "s"
    text = pd.Series(np.datetime_as_string(values, unit=unit), index=series.index, dtype=object)
    if tz is not None:
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        offset = (values - utc).astype("timedelta64[m]").astype(np.int64)
        minutes = pd.Series(np.where(missing, 0, offset), index=series.index)
        offsets = {
            m: f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
            for m in minutes[~missing].unique().tolist()
        }
        text = text + minutes.map(offsets).astype(object)
    return text.where(~missing, None)


def _plain(value: object) -> object:
    """One value of a mixed column: str, a number, or None (CSV fallback)."""
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Real | decimal.Decimal):
        return value
    if isinstance(value, dt.date):  # datetime and pandas Timestamp included
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- CSV


def _csv_column(series: pd.Series) -> pd.Series:
    kind, series = _classify(series)
    if kind == "text":
        return neutralise_formula(series)
    if kind == "bool":
        text = pd.Series(np.where(series.fillna(False).astype(bool), "true", "false"), dtype=object)
        return text.where(series.notna().to_numpy(), None)
    if kind == "datetime":
        return _iso_text(series)
    if kind in ("number", "date"):  # str(date) is ISO already
        return series
    return neutralise_formula(series.map(_plain).astype(object))


def _write_csv(frame: pd.DataFrame, tmp: Path) -> None:
    if frame.shape[1] == 0:  # nothing to write but the BOM
        tmp.write_bytes(b"\xef\xbb\xbf")
        return
    header = neutralise_formula(pd.Series([str(c) for c in frame.columns], dtype=object)).tolist()
    columns = {i: _csv_column(frame.iloc[:, i]) for i in range(frame.shape[1])}
    out = pd.DataFrame(columns, index=frame.index)
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        out.to_csv(
            fh,
            header=header,
            index=False,
            na_rep="",
            lineterminator="\r\n",
            quoting=csv.QUOTE_MINIMAL,
        )


# --------------------------------------------------------------------------- XLSX


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _sheet_name(path: Path, sheet: str | None) -> str:
    if sheet is None:
        name = _SHEET_NAME_BAD.sub("_", path.stem).strip("'")
        while _utf16_len(name) > _SHEET_NAME_MAX:
            name = name[:-1]
        return name.strip("'") or "Sheet1"
    if (
        not sheet
        or _utf16_len(sheet) > _SHEET_NAME_MAX
        or _SHEET_NAME_BAD.search(sheet)
        or sheet.startswith("'")
        or sheet.endswith("'")
        or sheet.lower() == "history"
    ):
        raise ValueError(
            f"invalid sheet name {sheet!r}: 1-31 characters, none of []:*?/\\, "
            "no leading or trailing apostrophe, not 'History'"
        )
    return sheet


def _check_xlsx_shape(frame: pd.DataFrame) -> None:
    rows, cols = frame.shape
    if rows + 1 > XLSX_MAX_ROWS:
        raise ValueError(
            f"{rows:,} rows do not fit in an Excel sheet (at most {XLSX_MAX_ROWS - 1:,} "
            "below the header); export to .csv instead"
        )
    if cols > XLSX_MAX_COLUMNS:
        raise ValueError(
            f"{cols:,} columns do not fit in an Excel sheet (at most {XLSX_MAX_COLUMNS:,}); "
            "export to .csv instead"
        )


def _as_list(series: pd.Series) -> list[Any]:
    """Python values with every missing value as None."""
    values = series.astype(object)
    return values.where(series.notna().to_numpy(), None).tolist()


def _write_xlsx(frame: pd.DataFrame, tmp: Path, sheet_name: str) -> None:
    # XlsxWriter streams rows to its own temporary files (and leaks one for an
    # empty sheet): keep them in a scratch folder beside the target, removed here.
    with tempfile.TemporaryDirectory(dir=tmp.parent, prefix=f"{tmp.name}.") as scratch:
        _write_workbook(frame, tmp, sheet_name, scratch)


def _write_workbook(frame: pd.DataFrame, tmp: Path, sheet_name: str, scratch: str) -> None:
    rows, cols = frame.shape
    options = dict(_XLSX_OPTIONS, tmpdir=scratch, use_zip64=rows * cols > 2_000_000)
    workbook = xlsxwriter.Workbook(str(tmp), options)
    try:
        sheet = workbook.add_worksheet(sheet_name)
        bold = workbook.add_format({"bold": True})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        datetime_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        header = [str(c) for c in frame.columns]

        def put_text(r: int, c: int, value: str) -> None:
            if sheet.write_string(r, c, value) == -2:
                raise ValueError(
                    f"column {header[c]!r}, row {r + 1}: text longer than Excel's "
                    f"{XLSX_MAX_CELL_CHARS:,} characters; export to .csv instead"
                )

        def put_number(r: int, c: int, value: float) -> None:
            sheet.write_number(r, c, value)

        def put_bool(r: int, c: int, value: bool) -> None:
            sheet.write_boolean(r, c, bool(value))

        def put_date(fmt: Any) -> Callable[[int, int, Any], None]:
            def put(r: int, c: int, value: Any) -> None:
                if isinstance(value, str):  # before 1900-03-01: ISO text
                    put_text(r, c, value)
                else:
                    sheet.write_number(r, c, value, fmt)

            return put

        def put_any(r: int, c: int, value: Any) -> None:
            if isinstance(value, str):
                put_text(r, c, value)
            elif isinstance(value, bool | np.bool_):
                put_bool(r, c, bool(value))
            elif isinstance(value, numbers.Real | decimal.Decimal):
                if isinstance(value, numbers.Integral) and abs(int(value)) > _EXACT_INT_MAX:
                    put_text(r, c, str(value))
                elif math.isfinite(float(value)):
                    put_number(r, c, float(value))
                elif not math.isnan(float(value)):  # Excel has no infinity
                    put_text(r, c, str(float(value)))
            elif isinstance(value, dt.datetime | pd.Timestamp):
                if value.tzinfo is not None or value.year < 1900:
                    put_text(r, c, value.isoformat())
                else:
                    sheet.write_datetime(r, c, value, datetime_fmt)
            elif isinstance(value, dt.date):
                if value.year < 1900:
                    put_text(r, c, value.isoformat())
                else:
                    sheet.write_datetime(r, c, value, date_fmt)
            else:
                put_text(r, c, str(value))

        values: list[list[Any]] = []
        putters: list[Callable[[int, int, Any], None]] = []
        widths: list[int] = []
        for i in range(cols):
            kind, series = _classify(frame.iloc[:, i])
            width: int | None = None
            if (
                kind == "number"
                and ptypes.is_integer_dtype(series.dtype)
                and bool(((series > _EXACT_INT_MAX) | (series < -_EXACT_INT_MAX)).any())
            ):
                kind, series = "text", series.astype("string")
            if (
                kind == "number"
                and ptypes.is_float_dtype(series.dtype)
                and bool(np.isinf(series.to_numpy(dtype=float, na_value=np.nan)).any())
            ):
                kind = "other"
            if kind == "datetime" and getattr(series.dtype, "tz", None) is not None:
                kind, series = "text", _iso_text(series)
            if kind == "datetime":
                timed = _has_time(series)
                serial = (series - _EXCEL_EPOCH) / pd.Timedelta(days=1)
                early = (series < _EXCEL_FIRST_SAFE_DATE).to_numpy()
                if early.any():  # Excel cannot show these dates: ISO text instead
                    serial = serial.astype(object).where(~early, _iso_text(series))
                values.append(_as_list(serial))
                putters.append(put_date(datetime_fmt if timed else date_fmt))
                width = 19 if timed else 10
            else:
                values.append(_as_list(series))
                putters.append(
                    {"text": put_text, "number": put_number, "bool": put_bool}.get(kind, put_any)
                )
            if width is None:
                sample = [len(str(v)) for v in values[-1][:_WIDTH_SAMPLE] if v is not None]
                width = max(sample, default=0)
            width = max(width, len(header[i]))
            widths.append(min(max(width + 2, _WIDTH_MIN), _WIDTH_MAX))

        for c, width in enumerate(widths):
            sheet.set_column(c, c, width)
        for c, name in enumerate(header):
            sheet.write_string(0, c, name, bold)
        sheet.freeze_panes(1, 0)
        if cols:
            sheet.autofilter(0, 0, rows, cols - 1)

        for r, row in enumerate(zip(*values, strict=True), start=1):
            for c, value in enumerate(row):
                if value is not None:
                    putters[c](r, c, value)
    finally:
        _close(workbook)


def _close(workbook: xlsxwriter.Workbook) -> None:
    """Close (write out) the workbook. XlsxWriter wraps the OSError of a full
    disk or a vanished folder in its own FileCreateError, which is no OSError:
    unwrap it, so callers handle it as any other file that cannot be written."""
    try:
        workbook.close()
    except FileCreateError as exc:
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(str(exc)) from None


def clip_long_text(frame: pd.DataFrame, limit: int = XLSX_MAX_CELL_CHARS - 200) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells fit in a spreadsheet cell: longer
    ones are cut and end with a note giving the full length, so a reader knows
    the CSV export holds the whole value. Vectorised."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if not (pd.api.types.is_string_dtype(col.dtype) or col.dtype == object):
            continue
        text = col.astype("string")
        lengths = text.str.len()
        long = lengths.fillna(0).astype("int64") > limit
        if long.any():
            note = (
                " … [cut: "
                + lengths[long].map("{:,}".format)
                + " characters in all; export as .csv for the whole value]"
            )
            out.loc[long, name] = text[long].str.slice(0, limit) + note
    return out


def table_bytes(frame: pd.DataFrame, suffix: str, sheet: str | None = None) -> bytes:
    """``frame`` as the bytes of a formula-safe ``.csv`` or ``.xlsx`` file (for
    a download button), written by :func:`write_table` in a private temporary
    folder that is removed afterwards. XLSX cells too long for a spreadsheet
    are clipped with a note, as the command-line export does."""
    with tempfile.TemporaryDirectory(prefix="adapt-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        data = frame if suffix == ".csv" else clip_long_text(frame)
        write_table(data, path, sheet=sheet if suffix == ".xlsx" else None)
        return path.read_bytes()
