"""adapt.contract: structural errors, bad rows, and text that must load unchanged."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from adapt.contract import Extract, StructuralError, read_extract

NOW = datetime(2025, 1, 1, 12, 0, 0)

INC_HEADER = (
    "incident_id,occurred_at,offence,is_crime,address,postcode,dash_risk,injury,"
    "weapon,children_present,outcome,area"
)
INC_ROWS = [
    "I1,2024-03-01,harassment,true,1 High St,LS1 1AA,standard,none,false,false,nfa,North",
    "I2,2024-03-02T22:15,abh,yes,2 High St,LS1 1AB,high,minor,N,Y,arrest,North",
    "I3,2024-03-03 22:15:00,stalking,0,,,,,,,,",
]
INV_HEADER = (
    "incident_id,role,person_ref,forename,surname,date_of_birth,gender,"
    "home_address,home_postcode,relationship"
)
INV_ROWS = [
    "I1,victim,P1,Anna,Smith,1980-01-02,F,1 High St,LS1 1AA,",
    "I1,suspect,P2,Bob,Jones,1978-05-06,M,3 Low St,LS2 2BB,intimate_partner",
    "I2,victim,,Carol,,,f,,,",
    "I3,witness,P4,,,,,,,",
]
MARAC_HEADER = (
    "referral_id,referral_date,meeting_date,flagged_at,victim_person_ref,victim_forename,"
    "victim_surname,victim_date_of_birth,perpetrator_person_ref,perpetrator_forename,"
    "perpetrator_surname,perpetrator_date_of_birth,referring_agency"
)
MARAC_ROWS = ["M1,2024-04-01,2025-02-01,2024-04-02,P1,Anna,Smith,1980-01-02,P2,Bob,Jones,,police"]
MGMT_HEADER = "person_ref,forename,surname,date_of_birth,status,from_date,to_date"
MGMT_ROWS = ["P2,Bob,Jones,1978-05-06,iom,2023-01-01,"]


def write(folder: Path, name: str, header: str, rows: list[str], nl: str = "\n") -> Path:
    path = folder / name
    path.write_bytes((nl.join([header, *rows]) + nl).encode("utf-8"))
    return path


def make(
    tmp_path: Path,
    inc: list[str] | None = None,
    inv: list[str] | None = None,
    marac: list[str] | None = None,
    mgmt: list[str] | None = None,
) -> Path:
    write(tmp_path, "incidents.csv", INC_HEADER, INC_ROWS if inc is None else inc)
    write(tmp_path, "involvements.csv", INV_HEADER, INV_ROWS if inv is None else inv)
    if marac is not None:
        write(tmp_path, "marac.csv", MARAC_HEADER, marac)
    if mgmt is not None:
        write(tmp_path, "management.csv", MGMT_HEADER, mgmt)
    return tmp_path


def read(folder: Path) -> Extract:
    ex = read_extract(folder, now=NOW)
    assert_accounted(ex)
    return ex


def assert_accounted(ex: Extract) -> None:
    for name, f in ex.files.items():
        q = ex.quarantine[ex.quarantine.source_file == name]
        assert len(f.rows) + q.source_row.nunique() == f.records, name
        assert set(q.source_row).isdisjoint(set(f.rows.source_row)), name


def only_problem(ex: Extract) -> pd.Series:
    assert len(ex.quarantine) == 1, ex.quarantine.to_dict("records")
    return ex.quarantine.iloc[0]


def structural(folder: Path) -> StructuralError:
    with pytest.raises(StructuralError) as info:
        read_extract(folder, now=NOW)
    err = info.value
    assert "\n" not in str(err)
    assert str(err).startswith(err.file)
    return err


# ---------------------------------------------------------------- happy path


def test_valid_folder_loads_typed(tmp_path: Path) -> None:
    ex = read(make(tmp_path, marac=MARAC_ROWS, mgmt=MGMT_ROWS))
    assert ex.quarantine.empty
    assert set(ex.files) == {"incidents.csv", "involvements.csv", "marac.csv", "management.csv"}
    inc = ex.files["incidents.csv"].rows
    assert inc.incident_id.dtype == "string"
    assert str(inc.occurred_at.dtype).startswith("datetime64")
    assert inc.is_crime.dtype == "boolean"
    assert inc.is_crime.tolist() == [True, True, False]
    assert inc.weapon.tolist()[:2] == [False, False]
    assert inc.children_present.tolist()[:2] == [False, True]
    assert inc.occurred_at.tolist() == [
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-03-02 22:15"),
        pd.Timestamp("2024-03-03 22:15:00"),
    ]
    assert inc.address.isna().tolist() == [False, False, True]
    assert inc.source_row.tolist() == [2, 3, 4]
    assert inc.row_hash.dtype == "int64"
    inv = ex.files["involvements.csv"].rows
    assert inv.seq.tolist() == [1, 2, 1, 1]
    assert inv.gender.tolist()[:3] == ["F", "M", "F"]
    mg = ex.files["management.csv"].rows
    assert mg.record_key.tolist() == ["p2|bob|jones|1978-05-06|iom|2023-01-01"]
    assert (
        ex.files["incidents.csv"].sha256
        == __import__("hashlib").sha256((tmp_path / "incidents.csv").read_bytes()).hexdigest()
    )


def test_row_hash_is_deterministic_and_sensitive(tmp_path: Path) -> None:
    a = read(make(tmp_path)).files["incidents.csv"].rows.row_hash.tolist()
    b = read(make(tmp_path)).files["incidents.csv"].rows.row_hash.tolist()
    assert a == b
    rows = list(INC_ROWS)
    rows[0] = rows[0].replace("North", "South")
    c = read(make(tmp_path, inc=rows)).files["incidents.csv"].rows.row_hash.tolist()
    assert c[0] != a[0] and c[1:] == a[1:]


# ---------------------------------------------------------------- structural


def test_missing_required_file(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "involvements.csv").unlink()
    err = structural(tmp_path)
    assert err.file == "involvements.csv" and "missing" in err.message


def test_empty_file(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "incidents.csv").write_bytes(b"")
    err = structural(tmp_path)
    assert str(err) == "incidents.csv: the file is empty (it has no bytes)"


def test_header_only(tmp_path: Path) -> None:
    make(tmp_path, inv=[])
    err = structural(tmp_path)
    assert str(err) == "involvements.csv: has a header but no records"


def test_optional_header_only_is_zero_records(tmp_path: Path) -> None:
    ex = read(make(tmp_path, marac=[]))
    assert ex.files["marac.csv"].records == 0
    assert len(ex.files["marac.csv"].rows) == 0


def test_wrong_delimiter(tmp_path: Path) -> None:
    make(tmp_path)
    write(
        tmp_path,
        "incidents.csv",
        INC_HEADER.replace(",", ";"),
        [r.replace(",", ";") for r in INC_ROWS],
    )
    err = structural(tmp_path)
    assert str(err) == "incidents.csv: the header seems to use ';' as the delimiter, not ','"


def test_latin1(tmp_path: Path) -> None:
    make(tmp_path)
    rows = [*INV_ROWS[:2], "I2,victim,,Ren\xe9e,,,,,,"]
    body = ("\n".join([INV_HEADER, *rows]) + "\n").encode("latin-1")
    (tmp_path / "involvements.csv").write_bytes(body)
    err = structural(tmp_path)
    assert err.file == "involvements.csv" and err.row == 4
    assert "Latin-1/Windows-1252" in err.message and "not UTF-8" in err.message
    assert "Ren" not in str(err)


def test_utf16(tmp_path: Path) -> None:
    make(tmp_path)
    body = "\n".join([INC_HEADER, *INC_ROWS]) + "\n"
    (tmp_path / "incidents.csv").write_bytes(body.encode("utf-16"))
    assert "is UTF-16, not UTF-8" in str(structural(tmp_path))
    (tmp_path / "incidents.csv").write_bytes(body.encode("utf-16-le"))
    assert "is UTF-16, not UTF-8" in str(structural(tmp_path))


def test_binary_garbage(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "incidents.csv").write_bytes(bytes(range(256)) * 40)
    err = structural(tmp_path)
    assert err.file == "incidents.csv"
    assert "binary data" in err.message or "UTF-16" in err.message
    (tmp_path / "incidents.csv").write_bytes(INC_HEADER.encode() + b"\nI1,\x00\x00,x\n")
    assert "does not look like a CSV file: it contains binary data" in str(structural(tmp_path))


def test_xlsx_renamed(tmp_path: Path) -> None:
    make(tmp_path)
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(INC_HEADER.split(","))
    wb.save(tmp_path / "incidents.csv")
    assert zipfile.is_zipfile(tmp_path / "incidents.csv")
    err = structural(tmp_path)
    assert "is an Excel .xlsx workbook (or other zip), not a CSV" in str(err)


def test_xls_signature(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "incidents.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert ".xls workbook" in str(structural(tmp_path))


def test_required_column_missing(tmp_path: Path) -> None:
    make(tmp_path)
    header = INC_HEADER.replace("occurred_at,", "")
    write(tmp_path, "incidents.csv", header, ["I1,harassment,true,,,,,,,,"])
    err = structural(tmp_path)
    assert err.column == "occurred_at"
    assert str(err).startswith("incidents.csv: required column 'occurred_at' is missing (found: ")


def test_required_column_missing_in_present_optional_file(tmp_path: Path) -> None:
    make(tmp_path)
    write(tmp_path, "management.csv", "person_ref,status,to_date", ["P1,iom,"])
    err = structural(tmp_path)
    assert err.file == "management.csv" and err.column == "from_date"


def test_unbalanced_quote(tmp_path: Path) -> None:
    rows = [*INV_ROWS, 'I2,victim,P9,"Dan,Smith,,,,,', *INV_ROWS]
    make(tmp_path, inv=rows)
    err = structural(tmp_path)
    assert err.file == "involvements.csv" and err.row == 6
    assert str(err) == (
        "involvements.csv row 6: unbalanced quote opened here (line 6); "
        "the rest of the file would be one field"
    )


def test_unbalanced_quote_in_last_field(tmp_path: Path) -> None:
    rows = [*INC_ROWS[:2], 'I3,2024-03-03,stalking,0,,,,,,,,"North']
    make(tmp_path, inc=rows)
    (tmp_path / "incidents.csv").write_bytes(
        (tmp_path / "incidents.csv").read_bytes().rstrip(b"\n")
    )
    err = structural(tmp_path)
    assert err.file == "incidents.csv" and err.row == 4


# ---------------------------------------------------------------- bad rows


def test_too_many_fields(tmp_path: Path) -> None:
    rows = [INC_ROWS[0], INC_ROWS[1] + ",extra", INC_ROWS[2]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[:2] + INV_ROWS[3:]))
    q = only_problem(ex)
    assert (q.source_file, q.source_row, q.reason) == (
        "incidents.csv",
        3,
        "has 13 fields; the header has 12",
    )
    assert pd.isna(q.column)
    assert q.raw == INC_ROWS[1] + ",extra"
    assert ex.files["incidents.csv"].rows.source_row.tolist() == [2, 4]


def test_too_few_fields(tmp_path: Path) -> None:
    ex = read(make(tmp_path, inv=[*INV_ROWS, "I1,victim"]))
    q = only_problem(ex)
    assert (q.source_row, q.reason) == (6, "has 2 fields; the header has 10")


def test_impossible_date(tmp_path: Path) -> None:
    rows = [INC_ROWS[0], INC_ROWS[1].replace("2024-03-02T22:15", "31/02/2024"), INC_ROWS[2]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[:2] + INV_ROWS[3:]))
    q = only_problem(ex)
    assert (q.source_file, q.source_row, q.column, q.value) == (
        "incidents.csv",
        3,
        "occurred_at",
        "31/02/2024",
    )
    assert q.reason == "occurred_at '31/02/2024' is not a date"


@pytest.mark.parametrize(
    "bad", ["2024-02-31", "yesterday", "01/03/2024", "2023-02-29", "2024-03-01 24:00", "2024-3-1"]
)
def test_not_dates(tmp_path: Path, bad: str) -> None:
    rows = [INC_ROWS[0].replace("2024-03-01", bad), *INC_ROWS[1:]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[2:]))
    q = only_problem(ex)
    assert (q.source_row, q.column, q.reason) == (
        2,
        "occurred_at",
        f"occurred_at '{bad}' is not a date",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", "2024-03-01 00:00:00"),
        ("2024-03-01T22:15", "2024-03-01 22:15:00"),
        ("2024-03-01 22:15", "2024-03-01 22:15:00"),
        ("2024-03-01T22:15:07", "2024-03-01 22:15:07"),
        ("2024-03-01 22:15:07", "2024-03-01 22:15:07"),
        (" 2024-02-29 ", "2024-02-29 00:00:00"),
    ],
)
def test_date_forms(tmp_path: Path, text: str, expected: str) -> None:
    rows = [INC_ROWS[0].replace("2024-03-01", f'"{text}"'), *INC_ROWS[1:]]
    ex = read(make(tmp_path, inc=rows))
    assert ex.quarantine.empty
    assert ex.files["incidents.csv"].rows.occurred_at[0] == pd.Timestamp(expected)


def test_date_column_normalised_to_midnight(tmp_path: Path) -> None:
    rows = [INV_ROWS[0].replace("1980-01-02", "1980-01-02 13:45:00"), *INV_ROWS[1:]]
    ex = read(make(tmp_path, inv=rows))
    assert ex.files["involvements.csv"].rows.date_of_birth[0] == pd.Timestamp("1980-01-02")


def test_future_date(tmp_path: Path) -> None:
    rows = [INC_ROWS[0].replace("2024-03-01", "2025-01-01T12:00:01"), *INC_ROWS[1:]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[2:]))
    q = only_problem(ex)
    assert (q.source_row, q.column, q.reason) == (
        2,
        "occurred_at",
        "occurred_at '2025-01-01T12:00:01' is in the future",
    )


def test_future_date_of_birth(tmp_path: Path) -> None:
    rows = [INV_ROWS[0].replace("1980-01-02", "2030-01-01"), *INV_ROWS[1:]]
    q = only_problem(read(make(tmp_path, inv=rows)))
    assert (q.source_file, q.source_row, q.column) == ("involvements.csv", 2, "date_of_birth")
    assert q.reason == "date_of_birth '2030-01-01' is in the future"


def test_meeting_date_may_be_ahead(tmp_path: Path) -> None:
    ex = read(make(tmp_path, marac=MARAC_ROWS))
    assert ex.quarantine.empty  # meeting_date 2025-02-01 is after NOW


def test_unknown_offence(tmp_path: Path) -> None:
    rows = [INC_ROWS[0], INC_ROWS[1].replace(",abh,", ",punching,"), INC_ROWS[2]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[:2] + INV_ROWS[3:]))
    q = only_problem(ex)
    assert (q.source_row, q.column, q.value) == (3, "offence", "punching")
    assert q.reason.startswith("offence 'punching' is not one of: verbal_argument, ")


def test_choices_are_case_insensitive(tmp_path: Path) -> None:
    rows = [
        INC_ROWS[0].replace("harassment", " HARASSMENT ").replace("standard", "Standard"),
        *INC_ROWS[1:],
    ]
    ex = read(make(tmp_path, inc=rows))
    inc = ex.files["incidents.csv"].rows
    assert inc.offence[0] == "harassment" and inc.dash_risk[0] == "standard"


def test_unknown_role(tmp_path: Path) -> None:
    rows = [*INV_ROWS[:3], INV_ROWS[3].replace("witness", "bystander")]
    q = only_problem(read(make(tmp_path, inv=rows)))
    assert (q.source_file, q.source_row, q.column, q.value) == (
        "involvements.csv",
        5,
        "role",
        "bystander",
    )
    assert q.reason == "role 'bystander' is not one of: victim, suspect, witness, other"


def test_bad_boolean(tmp_path: Path) -> None:
    rows = [INC_ROWS[0].replace(",true,", ",maybe,"), *INC_ROWS[1:]]
    q = only_problem(read(make(tmp_path, inc=rows, inv=INV_ROWS[2:])))
    assert (q.source_row, q.column) == (2, "is_crime")
    assert q.reason == "is_crime 'maybe' is not a yes/no value (true/false, 1/0, Y/N, yes/no)"


@pytest.mark.parametrize(
    ("word", "value"),
    [(w, True) for w in ["true", "TRUE", "True", "1", "y", "Y", "yes", "YES", "Yes"]]
    + [(w, False) for w in ["false", "FALSE", "False", "0", "n", "N", "no", "NO", "No"]],
)
def test_boolean_spellings(tmp_path: Path, word: str, value: bool) -> None:
    rows = [INC_ROWS[0].replace(",true,", f",{word},"), *INC_ROWS[1:]]
    ex = read(make(tmp_path, inc=rows))
    assert ex.files["incidents.csv"].rows.is_crime[0] is (pd.NA if value is None else value) or (
        bool(ex.files["incidents.csv"].rows.is_crime[0]) is value
    )


def test_required_cell_empty(tmp_path: Path) -> None:
    rows = [INC_ROWS[0].replace("harassment", ""), *INC_ROWS[1:]]
    q = only_problem(read(make(tmp_path, inc=rows, inv=INV_ROWS[2:])))
    assert (q.source_row, q.column, q.reason) == (2, "offence", "offence is empty; it is required")


def test_one_of_missing(tmp_path: Path) -> None:
    rows = [*INV_ROWS, "I2,other,,,,1990-01-01,,,,"]
    q = only_problem(read(make(tmp_path, inv=rows)))
    assert q.source_row == 6
    assert q.reason == "person_ref, forename and surname are all empty; at least one is needed"


def test_orphan_involvement(tmp_path: Path) -> None:
    rows = [*INV_ROWS, "I404,victim,P7,Eve,,,,,,"]
    q = only_problem(read(make(tmp_path, inv=rows)))
    assert (q.source_file, q.source_row, q.column, q.value) == (
        "involvements.csv",
        6,
        "incident_id",
        "I404",
    )
    assert q.reason == "incident 'I404' is not in incidents.csv"


def test_involvement_of_quarantined_incident(tmp_path: Path) -> None:
    rows = [INC_ROWS[0], INC_ROWS[1].replace("abh", "punching"), INC_ROWS[2]]
    ex = read(make(tmp_path, inc=rows))
    q = ex.quarantine[ex.quarantine.source_file == "involvements.csv"]
    assert q.source_row.tolist() == [4]
    assert q.reason.tolist() == [
        "incident 'I2' was quarantined (incidents.csv row 3), so this involvement cannot load"
    ]


def test_duplicated_incident_id(tmp_path: Path) -> None:
    rows = [*INC_ROWS, INC_ROWS[0].replace("harassment", "stalking")]
    ex = read(make(tmp_path, inc=rows))
    q = only_problem(ex)
    assert (q.source_file, q.source_row, q.column, q.value) == (
        "incidents.csv",
        5,
        "incident_id",
        "I1",
    )
    assert q.reason == "incident_id 'I1' already appears at row 2"
    assert ex.files["incidents.csv"].rows.offence[0] == "harassment"


def test_duplicated_marac_and_management(tmp_path: Path) -> None:
    ex = read(
        make(tmp_path, marac=MARAC_ROWS * 2, mgmt=[*MGMT_ROWS, MGMT_ROWS[0].replace("Bob", "BOB")])
    )
    q = ex.quarantine.sort_values("source_file")
    assert q.source_file.tolist() == ["management.csv", "marac.csv"]
    assert q.source_row.tolist() == [3, 3]
    assert q.reason.tolist() == [
        "the same person, status and from_date already appear at row 2",
        "referral_id 'M1' already appears at row 2",
    ]


def test_management_to_before_from(tmp_path: Path) -> None:
    q = only_problem(read(make(tmp_path, mgmt=["P2,Bob,Jones,,iom,2023-01-01,2022-12-31"])))
    assert (q.source_file, q.source_row, q.column) == ("management.csv", 2, "to_date")
    assert q.reason == "to_date '2022-12-31' is before from_date '2023-01-01'"


def test_ten_megabyte_cell(tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    rows = [INC_ROWS[0], INC_ROWS[1].replace("2 High St", big), INC_ROWS[2]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[:2] + INV_ROWS[3:]))
    q = only_problem(ex)
    assert (q.source_row, q.column) == (3, "address")
    assert q.reason == "address is 10,485,760 characters long; the most this column takes is 500"
    assert len(q.value) < 1000
    assert q.raw == rows[1]


# ---------------------------------------------------------------- text as written


def test_names_load_byte_exact(tmp_path: Path) -> None:
    names = [
        "Zoë",
        "O'Neill",
        "Siobhán 😀",
        "\u200fمحمد\u200f",
        "Null",
        "NA",
        "None",
        "N/A",
        "NaN",
        "=SUM(A1)",
        "+44 113",
        "-x",
        "@home",
        "  padded  ",
    ]
    rows = [f'I1,victim,P{i},"{n}",Smith,,,,,' for i, n in enumerate(names)]
    ex = read(make(tmp_path, inv=rows))
    assert ex.quarantine.empty
    assert ex.files["involvements.csv"].rows.forename.tolist() == names
    assert ex.files["involvements.csv"].rows.seq.tolist() == list(range(1, len(names) + 1))


def test_formula_like_cells_in_address(tmp_path: Path) -> None:
    rows = [INC_ROWS[0].replace("1 High St", "=HYPERLINK(1)"), *INC_ROWS[1:]]
    ex = read(make(tmp_path, inc=rows))
    assert ex.files["incidents.csv"].rows.address[0] == "=HYPERLINK(1)"


def test_bom_crlf_and_header_case_and_spaces(tmp_path: Path) -> None:
    make(tmp_path)
    header = " Incident_ID , OCCURRED_AT,Offence,Is_Crime" + INC_HEADER.split("is_crime")[1]
    path = write(tmp_path, "incidents.csv", header, INC_ROWS, nl="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ex = read(tmp_path)
    assert ex.quarantine.empty
    assert ex.files["incidents.csv"].rows.incident_id.tolist() == ["I1", "I2", "I3"]
    assert ex.files["incidents.csv"].rows.area[0] == "North"


def test_unknown_column_notice_and_absent_optional(tmp_path: Path) -> None:
    make(tmp_path)
    write(
        tmp_path,
        "incidents.csv",
        "incident_id,occurred_at,offence,is_crime,force_code",
        ["I1,2024-03-01,harassment,true,WY", "I2,2024-03-01,abh,1,WY", "I3,2024-03-01,gbh,0,WY"],
    )
    ex = read(tmp_path)
    assert ex.notices == [
        "incidents.csv: column 'force_code' is not in the contract and was ignored"
    ]
    rows = ex.files["incidents.csv"].rows
    assert ex.files["incidents.csv"].ignored_columns == ["force_code"]
    assert rows.address.isna().all() and rows.address.dtype == "string"
    assert rows.weapon.isna().all() and rows.weapon.dtype == "boolean"
    assert "force_code" not in rows.columns


def test_embedded_newline_keeps_record_numbers(tmp_path: Path) -> None:
    rows = [
        'I1,2024-03-01,harassment,true,"1 High St\nLeeds\nWest Yorkshire",,,,,,,',
        INC_ROWS[1],
        INC_ROWS[2].replace("2024-03-03 22:15:00", "31/02/2024"),
    ]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[:3]))
    q = only_problem(ex)
    assert (q.source_row, q.column) == (4, "occurred_at")
    rows_ = ex.files["incidents.csv"].rows
    assert rows_.address[0] == "1 High St\nLeeds\nWest Yorkshire"
    assert rows_.source_row.tolist() == [2, 3]


def test_embedded_newline_with_malformed_row(tmp_path: Path) -> None:
    rows = [
        'I1,2024-03-01,harassment,true,"1 High St\nLeeds",,,,,,,',
        INC_ROWS[1] + ",extra",
        INC_ROWS[2].replace("2024-03-03 22:15:00", "31/02/2024"),
    ]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[:1]))
    q = ex.quarantine
    assert q.source_row.tolist() == [3, 4]
    assert q.reason.tolist()[0] == "has 13 fields; the header has 12"
    assert q.raw.tolist()[0] == INC_ROWS[1] + ",extra"


def test_seq_counts_quarantined_rows(tmp_path: Path) -> None:
    rows = [INV_ROWS[0], INV_ROWS[1].replace("suspect", "bogus"), "I1,witness,P5,,,,,,,"]
    ex = read(make(tmp_path, inv=rows))
    assert ex.files["involvements.csv"].rows.seq.tolist() == [1, 3]


def test_row_with_two_problems_gives_two_quarantine_rows(tmp_path: Path) -> None:
    rows = [INC_ROWS[0].replace("harassment", "x").replace("2024-03-01", "nope"), *INC_ROWS[1:]]
    ex = read(make(tmp_path, inc=rows, inv=INV_ROWS[2:]))
    assert ex.quarantine.source_row.tolist() == [2, 2]
    assert set(ex.quarantine.column) == {"offence", "occurred_at"}


def test_progress_callback(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    read_extract(make(tmp_path), now=NOW, progress=lambda s, d, t: seen.append((s, d, t)))
    assert seen and seen[-1][1] == seen[-1][2]
