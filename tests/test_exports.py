"""Formula-safe CSV/XLSX export: written, then reopened and checked cell by cell."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from openpyxl.utils.escape import unescape

from adapt.exports import XLSX_MAX_ROWS, neutralise_formula, write_table

DANGEROUS = ["=SUM(A1)", "+44 7700 900123", "-1", "@cmd", "\tx", "\rx", "{=1}"]
HARMLESS = [
    "Zoë Ñúñez-Brontë",
    "emoji 😀☕ ok",
    "\u200fمرحبا\u200e mixed RTL",
    "Null",
    "NA",
    '{"a": 1}',
    'comma, "quote"\nnew line',
    "x=1",
]
TEXT = DANGEROUS + HARMLESS + [None]
N = len(TEXT)


@pytest.fixture
def frame() -> pd.DataFrame:
    base = pd.Timestamp("2024-03-01")
    return pd.DataFrame(
        {
            "text": pd.Series(TEXT, dtype="str"),
            "negative": np.arange(-N, 0, dtype="int64"),
            "amount": [-1.5, np.nan] + [2.25] * (N - 2),
            "flag": [True, False] * (N // 2) + [True] * (N % 2),
            "maybe": pd.array([True, False, None] + [True] * (N - 3), dtype="boolean"),
            "day": pd.Series([base + pd.Timedelta(days=i) for i in range(N - 1)] + [pd.NaT]),
            "at": pd.Series(
                [base + pd.Timedelta(hours=i, minutes=1) for i in range(N - 1)] + [None]
            ),
            "missing": [None] * N,
        }
    )


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


# --------------------------------------------------------------------------- helper


def test_neutralise_formula_prefixes_only_dangerous_text() -> None:
    out = neutralise_formula(pd.Series(TEXT, dtype="str"))
    assert out.iloc[: len(DANGEROUS)].tolist() == ["'" + v for v in DANGEROUS]
    assert out.iloc[len(DANGEROUS) : N - 1].tolist() == HARMLESS
    assert pd.isna(out.iloc[-1])


def test_neutralise_formula_leaves_non_text_alone() -> None:
    numbers = pd.Series([-1, 2, -3])
    assert neutralise_formula(numbers).equals(numbers)
    mixed = pd.Series([-1, "-1", None, 2.5, "=x"], dtype=object)
    assert neutralise_formula(mixed).tolist() == [-1, "'-1", None, 2.5, "'=x"]
    arrow = pd.Series(["=a", None, "b"], dtype=pd.ArrowDtype(pa.string()))
    assert neutralise_formula(arrow).tolist()[::2] == ["'=a", "b"]
    categories = pd.Series(pd.Categorical(["=a", "b", None]))
    assert neutralise_formula(categories).tolist()[:2] == ["'=a", "b"]


# --------------------------------------------------------------------------- CSV


def test_csv_prefixes_dangerous_text_and_keeps_types(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = write_table(frame, tmp_path / "out.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert raw.split(b"\r\n", 1)[0] == b"\xef\xbb\xbf" + ",".join(frame.columns).encode()

    rows = read_csv_rows(path)
    assert rows[0] == list(frame.columns)
    body = rows[1:]
    assert len(body) == N
    col = {name: [r[i] for r in body] for i, name in enumerate(rows[0])}

    assert col["text"][: len(DANGEROUS)] == ["'" + v for v in DANGEROUS]
    assert col["text"][len(DANGEROUS) : N - 1] == HARMLESS
    assert col["text"][-1] == ""
    # Numbers are numbers, never prefixed: a negative number stays a number.
    assert col["negative"] == [str(v) for v in range(-N, 0)]
    assert [int(v) for v in col["negative"]] == list(range(-N, 0))
    assert col["amount"][:3] == ["-1.5", "", "2.25"]
    assert col["flag"][:2] == ["true", "false"]
    assert col["maybe"][:3] == ["true", "false", ""]
    assert col["day"][0] == "2024-03-01" and col["day"][-1] == ""
    assert col["at"][0] == "2024-03-01T00:01:00" and col["at"][-1] == ""
    assert set(col["missing"]) == {""}


def test_csv_mixed_and_timezone_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "mixed": pd.Series([-2, "=x", True, dt.date(2024, 1, 2), None], dtype=object),
            "tz": pd.Series(
                pd.to_datetime(["2024-06-01 12:00", None, None, None, None])
            ).dt.tz_localize("Europe/London"),
        }
    )
    rows = read_csv_rows(write_table(frame, tmp_path / "m.csv"))
    assert [r[0] for r in rows[1:]] == ["-2", "'=x", "true", "2024-01-02", ""]
    assert rows[1][1] == "2024-06-01T12:00:00+01:00"


def test_csv_header_is_neutralised(tmp_path: Path) -> None:
    rows = read_csv_rows(write_table(pd.DataFrame({"=evil": [1]}), tmp_path / "h.csv"))
    assert rows == [["'=evil"], ["1"]]


# --------------------------------------------------------------------------- XLSX


def test_xlsx_writes_typed_strings_never_formulas(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = write_table(frame, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "out"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == list(frame.columns)
    assert all(c.font.b for c in sheet[1])

    cells = list(sheet.iter_rows())
    assert not [c.coordinate for row in cells for c in row if c.data_type == "f"]
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()

    text = [row[0] for row in cells[1:]]
    for cell, value in zip(text, TEXT, strict=True):
        if value is None:
            assert cell.value is None
        else:
            # Exactly the original text (control characters travel as OOXML
            # _xHHHH_ escapes, which Excel decodes and openpyxl leaves as is).
            assert cell.data_type == "s", (cell.coordinate, value)
            assert unescape(cell.value) == value

    negative = [row[1] for row in cells[1:]]
    assert all(c.data_type == "n" for c in negative)
    assert [c.value for c in negative] == list(range(-N, 0))
    assert [cells[i][2].value for i in (1, 2, 3)] == [-1.5, None, 2.25]
    assert (cells[1][3].data_type, cells[1][3].value) == ("b", True)
    assert [cells[i][4].value for i in (1, 2, 3)] == [True, False, None]
    assert cells[1][5].is_date and cells[1][5].value == dt.datetime(2024, 3, 1)
    assert cells[1][6].is_date and cells[1][6].value == dt.datetime(2024, 3, 1, 0, 1)
    assert cells[N][5].value is None and cells[N][6].value is None
    assert all(row[7].value is None for row in cells[1:])


def test_xlsx_sheet_names(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1]})
    long = write_table(frame, tmp_path / ("x" * 40 + ".xlsx"))
    assert openpyxl.load_workbook(long).active.title == "x" * 31
    named = write_table(frame, tmp_path / "n.xlsx", sheet="Cohort")
    assert openpyxl.load_workbook(named).active.title == "Cohort"
    with pytest.raises(ValueError, match="sheet name"):
        write_table(frame, tmp_path / "bad.xlsx", sheet="a/b")
    assert not (tmp_path / "bad.xlsx").exists()


def test_xlsx_keeps_values_excel_would_mangle(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "row_hash": np.array([2**62, -1], dtype="int64"),
            "tz": pd.Series(pd.to_datetime(["2024-06-01 12:00", None])).dt.tz_localize("UTC"),
            "old": pd.Series(pd.to_datetime(["1850-05-06", "2024-01-01"])),
            "ratio": [np.inf, -1.0],
        }
    )
    sheet = openpyxl.load_workbook(write_table(frame, tmp_path / "m.xlsx")).active
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert [c.value for c in sheet["D"][1:]] == ["inf", -1]
    assert [c.value for c in sheet["A"][1:]] == [str(2**62), "-1"]
    assert sheet["B2"].value == "2024-06-01T12:00:00+00:00"
    assert sheet["C2"].value == "1850-05-06" and sheet["C3"].is_date


def test_xlsx_row_limit_suggests_csv(tmp_path: Path) -> None:
    too_many = pd.DataFrame({"a": np.zeros(XLSX_MAX_ROWS, dtype="int8")})  # + header
    with pytest.raises(ValueError, match=r"1,048,576 rows.*\.csv"):
        write_table(too_many, tmp_path / "big.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "dtype",
    ["str", "string", object, "category", pd.ArrowDtype(pa.string())],
    ids=["str", "string", "object", "category", "arrow"],
)
def test_every_text_dtype_is_protected(tmp_path: Path, dtype: object) -> None:
    frame = pd.DataFrame({"t": pd.Series(["=1+1", "-2", "plain", None], dtype=dtype)})
    rows = read_csv_rows(write_table(frame, tmp_path / "t.csv"))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'-2", "plain", ""]
    sheet = openpyxl.load_workbook(write_table(frame, tmp_path / "t.xlsx")).active
    cells = sheet["A"][1:]
    assert [(c.data_type, c.value) for c in cells[:3]] == [
        ("s", "=1+1"),
        ("s", "-2"),
        ("s", "plain"),
    ]
    assert sheet.cell(row=5, column=1).value is None


# --------------------------------------------------------------------------- common


@pytest.mark.parametrize("name", ["out.txt", "out.xls", "out", "out.csv.gz"])
def test_unknown_suffix_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"unsupported suffix.*\.csv, \.xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"a": ["=1"]}), tmp_path / "UP.CSV")
    assert read_csv_rows(path) == [["a"], ["'=1"]]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_atomic_write_leaves_only_the_target(
    frame: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / "new" / "deeper" / f"export{suffix}"
    assert write_table(frame, str(target)) == target  # parents created, str accepted
    write_table(frame.head(2), target)  # replace an existing file
    write_table(frame.head(0), target)  # header only
    write_table(pd.DataFrame(), target)  # nothing at all
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    assert [p.name for p in tmp_path.iterdir()] == ["new"]


def test_failed_write_keeps_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "keep.xlsx"
    write_table(pd.DataFrame({"a": ["old"]}), target)
    before = target.read_bytes()
    too_long = pd.DataFrame({"a": ["ok", "y" * 40_000]})  # over Excel's cell limit
    with pytest.raises(ValueError, match="longer than Excel"):
        write_table(too_long, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.xlsx"]


@pytest.mark.slow
def test_million_row_csv(tmp_path: Path) -> None:
    n = 1_000_000
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "note": pd.Series(np.where(np.arange(n) % 10 == 0, "=cmd", "plain"), dtype="str"),
            "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="s"),
        }
    )
    rows = read_csv_rows(write_table(frame, tmp_path / "big.csv"))
    assert len(rows) == n + 1
    assert rows[1] == ["0", "'=cmd", "2024-01-01T00:00:00"]
    assert rows[2] == ["1", "plain", "2024-01-01T00:00:01"]
