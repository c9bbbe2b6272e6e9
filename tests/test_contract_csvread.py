"""Record numbering of the CSV splitter: a malformed row stays on the fast
(Arrow) path, in its place, with its raw text, and every record keeps the
number a spreadsheet shows, whatever quoted newlines and blank lines precede it."""

from __future__ import annotations

import pandas as pd

from adapt.contract import read_extract
from adapt.contract.csvread import read_records
from adapt.contract.sniff import read_header
from tests.extracts import simple_extract

NOW = pd.Timestamp("2026-11-01").to_pydatetime()


def test_malformed_rows_keep_the_fast_path_and_their_record_numbers() -> None:
    data = (
        b"a,b,c\n"
        b"1,2,3\n"  # row 2
        b'"two\nlines",5,6\n'  # row 3 spans two physical lines
        b"\n"  # a blank line is not a record
        b"4,5,6,7\n"  # row 4: too many fields
        b"7,8,9\n"  # row 5
        b"10,11\n"  # row 6: too few
        b"12,13,14\n"  # row 7
    )
    records = read_records("x.csv", data, read_header("x.csv", data))
    assert not records.exact
    assert records.source_row.tolist() == [2, 3, 4, 5, 6, 7]
    assert records.nfields.tolist() == [3, 3, 4, 3, 2, 3]
    assert records.columns[0].to_pylist() == ["1", "two\nlines", "4", "7", "10", "12"]
    assert records.raw(records.source_row[[2, 4]] - 2) == ["4,5,6,7", "10,11"]


def test_row_numbers_after_a_multiline_address_are_records(tmp_path) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 8))
    path = folder / "incidents.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # The address is quoted (it holds a comma); put a newline inside the quotes.
    lines[2] = lines[2].replace('"2 High Street, Leicester"', '"2 High Street\nLeicester"')
    lines[5] = lines[5].rstrip("\r\n") + ",extra\r\n"  # record 5 = spreadsheet row 6
    path.write_text("".join(lines), encoding="utf-8")
    extract = read_extract(folder, now=NOW)
    q = extract.quarantine[extract.quarantine.source_file == "incidents.csv"]
    assert q["source_row"].tolist() == [6]
    assert q["reason"].item() == "has 13 fields; the header has 12"
    rows = extract.files["incidents.csv"].rows
    assert rows.loc[rows.incident_id == "INC00002", "address"].item() == "2 High Street\nLeicester"
    assert rows["source_row"].tolist() == [2, 3, 4, 5, 7, 8]
