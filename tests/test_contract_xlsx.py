"""Excel extracts load like CSV (issue 14): each sheet a contract file (or one
workbook per file), formulas read as the values Excel saved and never
evaluated, dates as Excel dates or text, and every bad cell quarantined with
the workbook, sheet, row and column named; stored on SQLite and PostgreSQL
like the CSV folder."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from adapt import pipeline
from adapt.contract import StructuralError, read_extract
from adapt.contract.xlsx import cell_text
from adapt.db import connect, quarantine_frame
from adapt.views.data import write_uploads
from tests.extracts import (
    INCIDENT_HEADER,
    INVOLVEMENT_HEADER,
    incident,
    involvement,
    write_extract,
)

NOW = datetime(2026, 1, 1)
NUMBERS = range(1, 7)


def _incidents() -> list[dict[str, str]]:
    return [incident(n) for n in NUMBERS]


def _involvements() -> list[dict[str, str]]:
    return [involvement(n, role, 100 * (role == "victim") + n % 3)
            for n in NUMBERS for role in ("suspect", "victim")]  # fmt: skip


def _typed(header: list[str], row: dict[str, str]) -> list[object]:
    """A record as an analyst's spreadsheet holds it: dates as dates, yes/no as
    booleans, everything else text."""
    out: list[object] = []
    for key in header:
        value = row[key]
        if key == "occurred_at":
            out.append(datetime.fromisoformat(value))
        elif key in ("is_crime", "weapon"):
            out.append(value == "true")
        else:
            out.append(value)
    return out


def _sheet(book: xlsxwriter.Workbook, name: str, header: list[str], rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    sheet = book.add_worksheet(name)
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(_typed(header, row)):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, when)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            else:
                sheet.write_string(r, c, value)
    return sheet


def _workbook_extract(folder: Path) -> Path:
    """The extract of :func:`_incidents` and :func:`_involvements` as one workbook."""
    folder.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(folder / "extract.xlsx")
    _sheet(book, "incidents", INCIDENT_HEADER, _incidents())
    _sheet(book, "Involvements", INVOLVEMENT_HEADER, _involvements())
    book.add_worksheet("Notes").write(0, 0, "exported by the records team")
    book.close()
    return folder


def _csv_extract(folder: Path) -> Path:
    return write_extract(folder, _incidents(), _involvements())


# ------------------------------------------------------------------- like CSV
def test_a_workbook_reads_exactly_as_the_same_csv_folder(tmp_path: Path) -> None:
    sheets = read_extract(_workbook_extract(tmp_path / "xlsx"), now=NOW)
    csvs = read_extract(_csv_extract(tmp_path / "csv"), now=NOW)
    assert sheets.quarantine.empty and csvs.quarantine.empty
    for name in ("incidents.csv", "involvements.csv"):
        # the same typed values and the same row hashes: a re-load in the other form changes nothing
        pd.testing.assert_frame_equal(sheets.files[name].rows, csvs.files[name].rows)
        assert sheets.files[name].records == len(NUMBERS) * (1 if name == "incidents.csv" else 2)
    assert 'extract.xlsx: sheet "Notes" is not a contract file and was ignored' in sheets.notices


def test_one_workbook_per_contract_file(tmp_path: Path) -> None:
    for name, header, rows in (("incidents", INCIDENT_HEADER, _incidents()),
                               ("involvements", INVOLVEMENT_HEADER, _involvements())):  # fmt: skip
        book = xlsxwriter.Workbook(tmp_path / f"{name.upper()}.xlsx")
        _sheet(book, "Sheet1", header, rows)
        book.close()
    ex = read_extract(tmp_path, now=NOW)
    assert ex.quarantine.empty and len(ex.files["involvements.csv"].rows) == 12


def test_cell_text_matches_what_a_csv_export_holds() -> None:
    assert cell_text(datetime(2024, 3, 1, 22, 15)) == "2024-03-01 22:15:00"
    assert cell_text(datetime(1984, 7, 9)) == "1984-07-09"
    assert cell_text(12345.0) == "12345" and cell_text(0.25) == "0.25"
    assert cell_text(False) == "false" and cell_text(None) == ""


# ------------------------------------------------------------ formulas and dates
def _formula_workbook(folder: Path) -> Path:
    """Six incidents: a date as an Excel date (row 2) and as text (row 3), an
    offence from a formula with its saved value (row 4), a formula saved
    without a value (row 5, written by openpyxl, which never calculates), an
    error value (row 6), an unknown offence (row 7); a blank row 8 and one
    more incident in row 9; the involvements of the six incidents."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "extract.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = _sheet(book, "incidents", INCIDENT_HEADER, _incidents())
    sheet.write_string(2, 1, "2024-03-02")  # a date typed as text
    sheet.write_formula(3, 2, '=LOWER("HARASSMENT")', None, "harassment")
    sheet.write_formula(5, 2, '=VLOOKUP("x",Z1:Z2,1,FALSE)', None, "#N/A")
    sheet.write_string(6, 2, "punching")
    sheet.write_row(8, 0, _typed(INCIDENT_HEADER, incident(7))[:1])
    sheet.write_string(8, 1, "2024-08-08")
    sheet.write_row(8, 2, _typed(INCIDENT_HEADER, incident(7))[2:])
    sheet.write_formula(4, 2, '=UPPER("abh")')  # saved value to be removed below
    _sheet(book, "involvements", INVOLVEMENT_HEADER, _involvements())
    book.close()
    _drop_saved_value(path, "xl/worksheets/sheet1.xml", "C5")
    return folder


def _drop_saved_value(path: Path, member: str, cell: str) -> None:
    """Remove a formula cell's saved value, as a program that never calculates
    (openpyxl, many report writers) saves it."""
    with zipfile.ZipFile(path) as zin:
        parts = {info: zin.read(info.filename) for info in zin.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in parts.items():
            if info.filename == member:
                text, count = re.subn(
                    rf'(<c r="{cell}"[^>]*>)(<f>[^<]*</f>)<v>[^<]*</v>', r"\1\2", data.decode()
                )
                assert count == 1
                data = text.encode()
            zout.writestr(info, data)


def test_formulas_read_as_saved_values_and_bad_cells_are_quarantined(tmp_path: Path) -> None:
    ex = read_extract(_formula_workbook(tmp_path), now=NOW)
    rows = ex.files["incidents.csv"].rows.set_index("source_row")
    assert rows.loc[2, "occurred_at"] == pd.Timestamp("2024-02-02 22:15")  # an Excel date
    assert rows.loc[3, "occurred_at"] == pd.Timestamp("2024-03-02")  # a date as text
    assert rows.loc[4, "offence"] == "harassment"  # the saved value, not the formula
    assert rows.loc[9, "incident_id"] == "INC00007"  # sheet row numbers, blank row 8 skipped
    assert sorted(rows.index) == [2, 3, 4, 9]

    q = ex.quarantine
    inc = q[q["source_file"] == "incidents.csv"].set_index("source_row")
    assert sorted(inc.index) == [5, 6, 7]
    assert inc.loc[5, "column"] == "offence" and inc.loc[5, "value"] == '=UPPER("abh")'
    assert inc.loc[5, "reason"] == (
        """offence is a formula '=UPPER("abh")' saved without its value; open the workbook in """
        'Excel and save it, or export the sheet as CSV (extract.xlsx, sheet "incidents", cell C5)'
    )
    assert inc.loc[6, "reason"] == (
        """offence holds the spreadsheet error '#N/A' (extract.xlsx, sheet "incidents", cell C6)"""
    )
    assert inc.loc[7, "reason"].startswith("offence 'punching' is not one of: ")
    assert inc.loc[7, "reason"].endswith('(extract.xlsx, sheet "incidents", cell C7)')
    assert inc.loc[5, "raw"].startswith('INC00004,2024-05-05 22:15:00,"=UPPER(""abh"")",true,')
    # nothing lost: their involvements wait in the quarantine too, naming the incident's row
    inv = q[q["source_file"] == "involvements.csv"]
    assert len(inv) == 6
    assert (
        inv["reason"].str.contains(r'was quarantined \(extract.xlsx, sheet "incidents" row ').all()
    )


def test_strict_mode_refuses_a_workbook_with_a_bad_cell(tmp_path: Path) -> None:
    folder = _formula_workbook(tmp_path / "x")
    url = f"sqlite:///{tmp_path / 'strict.sqlite'}"
    with pytest.raises(Exception, match='sheet "incidents", cell C5'):
        pipeline.load(url, folder, strict=True)


# ------------------------------------------------------------- structural errors
def test_a_contract_file_given_twice_is_refused(tmp_path: Path) -> None:
    _workbook_extract(tmp_path)
    _csv_extract(tmp_path)
    with pytest.raises(StructuralError) as err:
        read_extract(tmp_path, now=NOW)
    assert str(err.value) == (
        "incidents.csv: is given twice: as incidents.csv and as extract.xlsx, sheet "
        '"incidents"; keep one'
    )


def test_a_missing_column_names_the_workbook_and_sheet(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(tmp_path / "extract.xlsx")
    _sheet(book, "incidents", [h for h in INCIDENT_HEADER if h != "offence"], _incidents())
    _sheet(book, "involvements", INVOLVEMENT_HEADER, _involvements())
    book.close()
    with pytest.raises(StructuralError) as err:
        read_extract(tmp_path, now=NOW)
    assert str(err.value).startswith(
        """extract.xlsx, sheet "incidents" (incidents.csv): required column 'offence' is missing"""
    )


def test_an_empty_sheet_and_a_damaged_workbook_are_refused(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(tmp_path / "extract.xlsx")
    book.add_worksheet("incidents")
    _sheet(book, "involvements", INVOLVEMENT_HEADER, _involvements())
    book.close()
    with pytest.raises(
        StructuralError, match=r'^extract.xlsx, sheet "incidents": the sheet is empty'
    ):
        read_extract(tmp_path, now=NOW)
    (tmp_path / "extract.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(StructuralError, match=r"^extract.xlsx: cannot be opened as an Excel"):
        read_extract(tmp_path, now=NOW)


def test_an_unreadable_workbook_beside_the_csv_files_is_only_a_notice(tmp_path: Path) -> None:
    _csv_extract(tmp_path)
    (tmp_path / "notes.xlsx").write_bytes(b"\xd0\xcf\x11\xe0 a password-protected workbook")
    (tmp_path / "~$extract.xlsx").write_bytes(b"Excel's lock file")
    ex = read_extract(tmp_path, now=NOW)
    assert ex.quarantine.empty and len(ex.files["incidents.csv"].rows) == len(NUMBERS)
    assert [n for n in ex.notices if "xlsx" in n] == [
        "notes.xlsx: cannot be opened as an Excel .xlsx workbook (it may be password-protected, "
        "damaged, or an old .xls saved under a new name); it was ignored"
    ]


def test_an_upload_may_be_a_workbook(tmp_path: Path) -> None:
    assert write_uploads([("extract-2026-06.xlsx", b"PK")], tmp_path) == ["extract-2026-06.xlsx"]
    with pytest.raises(ValueError, match="not an extract file name"):
        write_uploads([("notes.docx", b"")], tmp_path / "y")


# ------------------------------------------------------------------- the store
def test_a_workbook_loads_into_the_database_like_csv(db_url: str, tmp_path: Path) -> None:
    first = pipeline.load(db_url, _workbook_extract(tmp_path / "xlsx"))
    assert {f.file_name: f.loaded for f in first.files} == {
        "incidents.csv": 6, "involvements.csv": 12,
    }  # fmt: skip
    # the same records as CSV are the same records: nothing new, nothing changed
    same = pipeline.load(db_url, _csv_extract(tmp_path / "csv"))
    assert {(f.loaded, f.updated) for f in same.files} == {(0, 0)}
    assert {f.file_name: f.unchanged for f in same.files} == {
        "incidents.csv": 6, "involvements.csv": 12,
    }  # fmt: skip

    # bad cells: valid rows load, bad ones wait in the stored quarantine with their place
    folder = _formula_workbook(tmp_path / "formulas")
    result = {f.file_name: f for f in pipeline.load(db_url, folder).files}
    assert result["incidents.csv"].quarantined == 3
    assert result["incidents.csv"].loaded == 1  # INC00007; the others were stored already
    engine = connect(db_url)
    try:
        stored = quarantine_frame(engine)
    finally:
        engine.dispose()
    assert len(stored) == 9
    assert stored["reason"].str.contains('extract.xlsx, sheet "').all()
    again = {f.file_name: f for f in pipeline.load(db_url, folder).files}
    assert (again["incidents.csv"].loaded, again["incidents.csv"].updated) == (0, 0)
