"""`adapt load` and `adapt export quarantine` end to end, on every database:
each bad input of the contract's last section, its exit code, its one line on
standard error, what is stored and what is not."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from adapt.cli import app
from adapt.db import connect, quarantine_frame
from tests.extracts import (
    INCIDENT_HEADER,
    incident,
    involvement,
    simple_extract,
    write_csv,
    write_extract,
)

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def _stored(url: str) -> dict[str, int]:
    engine = connect(url)
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("incidents", "involvements", "quarantine", "imports")
        }


# ---------------------------------------------------------------- structural


def _empty(folder: Path) -> None:
    (folder / "incidents.csv").write_bytes(b"")


def _header_only(folder: Path) -> None:
    write_csv(folder / "incidents.csv", INCIDENT_HEADER, [])


def _semicolons(folder: Path) -> None:
    path = folder / "incidents.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")


def _latin1(folder: Path) -> None:
    path = folder / "involvements.csv"
    content = path.read_text(encoding="utf-8").replace("Smith", "Sm\u00e9th")
    path.write_bytes(content.encode("latin-1"))


def _utf16(folder: Path) -> None:
    path = folder / "incidents.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def _binary(folder: Path) -> None:
    (folder / "incidents.csv").write_bytes(bytes(range(256)) * 40)


def _xlsx_renamed(folder: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(INCIDENT_HEADER)
    buf = io.BytesIO()
    workbook.save(buf)
    (folder / "incidents.csv").write_bytes(buf.getvalue())
    assert zipfile.is_zipfile(folder / "incidents.csv")


def _missing_column(folder: Path) -> None:
    path = folder / "incidents.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    header = [c for c in INCIDENT_HEADER if c != "occurred_at"]
    write_csv(path, header, rows)


def _optional_missing_column(folder: Path) -> None:
    (folder / "marac.csv").write_text("referral_id,victim_surname\nM1,Smith\n", encoding="utf-8")


def _unbalanced_quote(folder: Path) -> None:
    path = folder / "involvements.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first, rest = lines[5].split(",", 1)
    lines[5] = first + ',"' + rest  # a quote opens on record 5 (row 6) and never closes
    path.write_text("".join(lines), encoding="utf-8")


def _no_involvements(folder: Path) -> None:
    (folder / "involvements.csv").unlink()


STRUCTURAL: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("empty file", _empty, "incidents.csv", "empty"),
    ("header only", _header_only, "incidents.csv", "no records"),
    ("wrong delimiter", _semicolons, "incidents.csv", "';'"),
    ("latin-1", _latin1, "involvements.csv", "not UTF-8"),
    ("utf-16", _utf16, "incidents.csv", "UTF-16"),
    ("binary garbage", _binary, "incidents.csv", "binary"),
    ("xlsx renamed", _xlsx_renamed, "incidents.csv", "xlsx"),
    ("required column missing", _missing_column, "incidents.csv", "occurred_at"),
    ("optional file column missing", _optional_missing_column, "marac.csv", "referral_date"),
    ("unbalanced quote", _unbalanced_quote, "involvements.csv row 6", "quote"),
    ("required file missing", _no_involvements, "involvements.csv", "missing"),
]


@pytest.mark.parametrize(
    ("case", "spoil", "file", "phrase"), STRUCTURAL, ids=[c[0] for c in STRUCTURAL]
)
def test_structural_problem_exits_2_and_writes_nothing(
    db_url: str, tmp_path: Path, case: str, spoil: Callable[[Path], None], file: str, phrase: str
) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 11))
    spoil(folder)
    result = _run("load", str(folder), "--db", db_url)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert file in lines[0]
    assert phrase.lower() in lines[0].lower(), lines[0]
    assert "Smith" not in lines[0] and "Sm\u00e9th" not in lines[0]  # no personal data
    assert _stored(db_url) == {"incidents": 0, "involvements": 0, "quarantine": 0, "imports": 0}


def test_unreachable_database_exits_2(tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 3))
    url = "postgresql://nobody@127.0.0.1:1/none"
    result = _run("load", str(folder), "--db", url)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot open database" in result.stderr


# ------------------------------------------------------------------ bad rows

TEN_MB = "x" * (10 * 1024 * 1024)

ROW_CASES = [
    # (case, incident overrides by number, extra involvement rows,
    #  expected (file, row, column, reason))
    (
        "not a date",
        {3: {"occurred_at": "31/02/2024"}},
        [],
        ("incidents.csv", 4, "occurred_at", "occurred_at '31/02/2024' is not a date"),
    ),
    (
        "in the future",
        {3: {"occurred_at": "2031-05-01T10:00"}},
        [],
        ("incidents.csv", 4, "occurred_at", "occurred_at '2031-05-01T10:00' is in the future"),
    ),
    (
        "unknown offence",
        {5: {"offence": "burglary"}},
        [],
        ("incidents.csv", 6, "offence", "offence 'burglary' is not one of"),
    ),
    (
        "unknown role",
        {},
        [involvement(2, "bystander", 9)],
        ("involvements.csv", 22, "role", "role 'bystander' is not one of"),
    ),
    (
        "orphan involvement",
        {},
        [involvement(404, "victim", 9)],
        ("involvements.csv", 22, "incident_id", "incident 'INC00404' is not in incidents.csv"),
    ),
    (
        "10 MB cell",
        {7: {"address": TEN_MB}},
        [],
        ("incidents.csv", 8, "address", "address is 10,485,760 characters long"),
    ),
]


@pytest.mark.parametrize(
    ("case", "overrides", "extra", "expected"), ROW_CASES, ids=[c[0] for c in ROW_CASES]
)
def test_bad_row_is_quarantined_and_the_rest_loads(
    db_url: str, tmp_path: Path, case: str, overrides, extra, expected
) -> None:
    incs = [incident(n, **overrides.get(n, {})) for n in range(1, 11)]
    invs = [involvement(n, "suspect", n % 4) for n in range(1, 11)]
    invs += [involvement(n, "victim", 50 + n) for n in range(1, 11)]
    invs += extra
    folder = write_extract(tmp_path / "x", incs, invs)
    result = _run("load", str(folder), "--db", db_url)
    assert result.exit_code == 0, result.output
    q = quarantine_frame(connect(db_url))
    file, row, column, reason = expected
    hit = q[(q.source_file == file) & (q.source_row == row) & (q.column == column)]
    assert len(hit) == 1, q[["source_file", "source_row", "column", "reason"]]
    assert hit["reason"].item().startswith(reason)
    stored = _stored(db_url)
    bad_incidents = len(q[q.source_file == "incidents.csv"].source_row.unique())
    bad_involvements = len(q[q.source_file == "involvements.csv"].source_row.unique())
    assert stored["incidents"] + bad_incidents == len(incs)
    assert stored["involvements"] + bad_involvements == len(invs)
    # The printed table agrees with the database.
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith(file))
    records, loaded, _upd, _unch, quarantined, _wd = (int(x) for x in line.split()[1:])
    assert loaded + quarantined == records


def test_duplicated_incident_id_keeps_first(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 6)] + [incident(2, offence="gbh")]
    invs = [involvement(n, "suspect", n) for n in range(1, 6)]
    folder = write_extract(tmp_path / "x", incs, invs)
    assert _run("load", str(folder), "--db", db_url).exit_code == 0
    engine = connect(db_url)
    q = quarantine_frame(engine)
    assert list(zip(q.source_row, q.column, q.reason, strict=True)) == [
        (7, "incident_id", "incident_id 'INC00002' already appears at row 3")
    ]
    with engine.connect() as conn:
        offence = conn.execute(
            text("SELECT offence FROM incidents WHERE incident_id = 'INC00002'")
        ).scalar_one()
    assert offence == "common_assault"


def test_too_many_fields(db_url: str, tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 6))
    path = folder / "incidents.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].rstrip("\r\n") + ",surplus\r\n"
    path.write_text("".join(lines), encoding="utf-8")
    assert _run("load", str(folder), "--db", db_url).exit_code == 0
    q = quarantine_frame(connect(db_url))
    row = q[q.source_file == "incidents.csv"]
    assert list(row.source_row) == [4]
    assert row.reason.item() == "has 13 fields; the header has 12"
    assert "surplus" in row.raw.item()


def test_strict_mode_exits_1_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 5)] + [incident(5, offence="burglary")]
    invs = [involvement(n, "suspect", n) for n in range(1, 6)]
    folder = write_extract(tmp_path / "x", incs, invs)
    result = _run("load", str(folder), "--strict", "--db", db_url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("adapt: incidents.csv row 6, column 'offence'")
    assert _stored(db_url)["incidents"] == 0


# --------------------------------------------------------- text loads as is

AWKWARD = [
    ("Zo\u00eb", "O'Neill-Bront\u00eb"),
    ("Se\u00e1n", "N\u00ed Bhriain"),
    ("Amy \U0001f600", "\u200fSmith\u200f"),  # emoji; right-to-left marks
    ("\u0645\u062d\u0645\u062f", "\u0627\u0644\u0639\u0644\u064a"),
    ("NA", "Null"),
    ("N/A", "None"),
    ('=HYPERLINK("http://x")', "+44 7700 900123"),
    ("-1", "@SUM(A1)"),
]


def test_awkward_text_loads_unchanged_and_exports_neutralised(db_url: str, tmp_path: Path) -> None:
    invs = [
        involvement(n + 1, "victim", n, forename=f, surname=s) for n, (f, s) in enumerate(AWKWARD)
    ]
    # Also quarantine one of them (unknown role) to see it in the export.
    invs.append(involvement(1, "nosy", 1, forename="=cmd|' /C calc'!A0", surname="@x"))
    folder = write_extract(tmp_path / "x", [incident(n) for n in range(1, 9)], invs)
    assert _run("load", str(folder), "--db", db_url).exit_code == 0
    engine = connect(db_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT forename, surname FROM involvements ORDER BY source_row")
        ).all()
    assert [tuple(r) for r in stored] == AWKWARD

    csv_out, xlsx_out = tmp_path / "q.csv", tmp_path / "q.xlsx"
    for out in (csv_out, xlsx_out):
        result = _run("export", "quarantine", "--purpose=test", "--out", str(out), "--db", db_url)
        assert result.exit_code == 0, result.output
    with csv_out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source_row"] for r in rows] == ["10"]
    assert rows[0]["column"] == "role"
    assert rows[0]["raw"].startswith("'") or rows[0]["raw"].startswith("INC")
    sheet = openpyxl.load_workbook(xlsx_out).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    raw_cell = next(c for c in cells if isinstance(c.value, str) and "calc" in c.value)
    assert raw_cell.data_type == "s"
    assert "=cmd|' /C calc'!A0" in raw_cell.value


def test_formula_cell_in_quarantine_is_neutralised(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 4)] + [incident(4, offence="=1+2")]
    invs = [involvement(n, "suspect", n) for n in range(1, 5)]
    folder = write_extract(tmp_path / "x", incs, invs)
    assert _run("load", str(folder), "--db", db_url).exit_code == 0
    out = tmp_path / "q.csv"
    assert (
        _run("export", "quarantine", "--purpose=test", "--out", str(out), "--db", db_url).exit_code
        == 0
    )
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    value = next(r["value"] for r in rows if r["column"] == "offence")
    assert value == "'=1+2"
    xlsx = tmp_path / "q.xlsx"
    assert (
        _run("export", "quarantine", "--purpose=test", "--out", str(xlsx), "--db", db_url).exit_code
        == 0
    )
    sheet = openpyxl.load_workbook(xlsx).active
    values = [c for row in sheet.iter_rows() for c in row if c.value == "=1+2"]
    assert values and all(c.data_type == "s" for c in values)


def test_ten_megabyte_raw_row_exports_to_both_formats(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 4)] + [incident(4, address=TEN_MB)]
    invs = [involvement(n, "suspect", n) for n in range(1, 5)]
    folder = write_extract(tmp_path / "x", incs, invs)
    assert _run("load", str(folder), "--db", db_url).exit_code == 0
    out = tmp_path / "q.csv"
    assert (
        _run("export", "quarantine", "--purpose=test", "--out", str(out), "--db", db_url).exit_code
        == 0
    )
    csv.field_size_limit(50 * 1024 * 1024)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    incident_rows = [r for r in rows if r["source_file"] == "incidents.csv"]
    assert TEN_MB in incident_rows[0]["raw"]  # the CSV keeps the row whole
    xlsx = tmp_path / "q.xlsx"
    result = _run("export", "quarantine", "--purpose=test", "--out", str(xlsx), "--db", db_url)
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(xlsx).active
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("characters in all; export as .csv" in t for t in texts)


def test_unknown_export_kind_exits_2(tmp_path: Path) -> None:
    result = _run("export", "cohort-ish", "--purpose=test", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 2
    assert "not available" in result.stderr


def test_strict_refusal_does_not_echo_personal_data(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 4)]
    invs = [involvement(n, "suspect", n) for n in range(1, 4)]
    invs[0]["date_of_birth"] = "31/02/1980"
    folder = write_extract(tmp_path / "x", incs, invs)
    result = _run("load", str(folder), "--strict", "--db", db_url)
    assert result.exit_code == 1
    assert "31/02/1980" not in result.stderr
    assert "involvements.csv row 2, column 'date_of_birth'" in result.stderr
    assert "(value not shown) is not a date" in result.stderr


@pytest.mark.parametrize(
    "url",
    ["foo://x", "sqlite:////proc/no-such-place/x.sqlite", "not a url"],
    ids=["unknown dialect", "unwritable sqlite path", "malformed"],
)
def test_bad_database_urls_exit_2_with_one_line(tmp_path: Path, url: str) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 3))
    result = _run("load", str(folder), "--db", url)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot open database" in result.stderr or "not valid" in result.stderr


def test_a_file_that_is_not_a_database_exits_2(tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 3))
    result = _run("load", str(folder), "--db", f"sqlite:///{folder / 'incidents.csv'}")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_folder_and_folder_named_like_a_file_exit_2(db_url: str, tmp_path: Path) -> None:
    result = _run("load", str(tmp_path / "nowhere"), "--db", db_url)
    assert result.exit_code == 2 and "does not exist" in result.stderr
    folder = simple_extract(tmp_path / "x", range(1, 3))
    (folder / "involvements.csv").unlink()
    (folder / "involvements.csv").mkdir()
    result = _run("load", str(folder), "--db", db_url)
    assert result.exit_code == 2
    assert "involvements.csv: is a folder, not a file" in result.stderr


def test_unwritable_export_path_exits_2(db_url: str, tmp_path: Path) -> None:
    result = _run(
        "export",
        "quarantine",
        "--purpose=test",
        "--out",
        "/proc/no-such-place/q.csv",
        "--db",
        db_url,
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_strict_message_hides_values_outside_coded_columns(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 3)]
    invs = [involvement(n, "suspect", n) for n in range(1, 3)]
    invs[1]["gender"] = "Jane Smith"  # a shifted row puts a name in a coded column
    folder = write_extract(tmp_path / "x", incs, invs)
    result = _run("load", str(folder), "--strict", "--db", db_url)
    assert result.exit_code == 1
    assert "Jane Smith" not in result.stderr
    assert "gender (value not shown) is not one of" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
