"""The Data page in plain words (issue 14): an import that quarantined rows
says what was rejected ("6 of 6 involvement rows quarantined") as a warning
or an error, never a green success; tables have their columns in words and
show no None, nan or NaT; a workbook can be imported like CSV files. In
Streamlit's AppTest on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from streamlit.testing.v1 import AppTest

from adapt import pipeline
from adapt.db import connect
from adapt.db.accounts import ensure_demo_users
from adapt.services.jobs import runner
from adapt.services.session import USER_KEY
from tests.extracts import (
    INCIDENT_HEADER,
    INVOLVEMENT_HEADER,
    incident,
    involvement,
    simple_extract,
    write_csv,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
NOT_WORDS = ("None", "nan", "NaT", "<NA>")


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pipeline.load(db_url, simple_extract(tmp_path / "first", range(1, 4)))
    engine = connect(db_url)
    ensure_demo_users(engine)
    engine.dispose()
    monkeypatch.setenv("ADAPT_DATABASE_URL", db_url)
    monkeypatch.setenv("ADAPT_DEMO_USERS", "1")
    monkeypatch.setenv("ADAPT_IMPORT_ROOT", str(tmp_path))
    return db_url


def _import(folder: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[USER_KEY] = "analyst"
    at.switch_page("app_pages/data.py")  # straight to the Data page
    at.run()
    assert [t.value for t in at.title] == ["Data"], [e.message for e in at.exception]
    next(t for t in at.text_input if t.label == "Extract folder on the server").input(str(folder))
    next(c for c in at.checkbox if c.label.startswith("Resolve identities")).uncheck()
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    runner().wait(at.session_state["data_import_job"])
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _said(elements) -> list[str]:  # type: ignore[no-untyped-def]
    """What the page says, without the Markdown escapes of text drawn as text."""
    return [e.value.replace("\\", "") for e in elements]


def _no_empty_words(at: AppTest) -> None:
    for table in at.dataframe:
        cells = table.value.astype("string").fillna("<NA>")
        for word in NOT_WORDS:
            assert not cells.isin([word]).any().any(), (word, table.value.columns.tolist())
        assert not any("_" in str(c) for c in table.value.columns), table.value.columns.tolist()


def test_an_import_that_rejected_every_involvement_says_so_as_an_error(
    app_env: str, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    write_csv(folder / "incidents.csv", INCIDENT_HEADER, [incident(n) for n in range(11, 14)])
    rows = [involvement(n, role, n, date_of_birth="31/02/1990")
            for n in range(11, 14) for role in ("suspect", "victim")]  # fmt: skip
    write_csv(folder / "involvements.csv", INVOLVEMENT_HEADER, rows)
    at = _import(folder)
    assert not at.success, [s.value for s in at.success]
    said = _said(at.error)
    assert any("6 of 6 involvement rows quarantined (none of them was stored)" in s
               for s in said), said  # fmt: skip
    assert any("Stored: 3 new incidents." in s for s in said), said
    quarantine = next(d.value for d in at.dataframe if "Why it was not loaded" in d.value.columns)
    assert list(quarantine.columns) == [
        "File", "Row", "Column", "Value", "Why it was not loaded", "The row as it was in the file",
    ]  # fmt: skip
    assert (
        quarantine["Why it was not loaded"] == "date_of_birth '31/02/1990' is not a date"
    ).sum() == 6
    history = next(d.value for d in at.dataframe if "Started" in d.value.columns)
    assert history["Import"].iloc[0] == "2" and set(history["Status"]) == {"Applied"}
    assert history["Started"].str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d").all()
    quality = next(d.value for d in at.dataframe if "figure" in d.value.columns)
    assert (
        quality.set_index("figure")
        .loc["Involvement rows with no person reference", "value"]
        .endswith("%")
    )
    _no_empty_words(at)


def test_a_workbook_import_with_some_bad_rows_is_a_warning(app_env: str, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    folder.mkdir()
    book = xlsxwriter.Workbook(folder / "extract.xlsx")
    for name, header, rows in (
        ("incidents", INCIDENT_HEADER, [incident(n) for n in range(21, 24)]),
        ("involvements", INVOLVEMENT_HEADER, [involvement(n, "suspect", n) for n in range(21, 24)]),
    ):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, header)
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, [row[k] for k in header])
    book.get_worksheet_by_name("incidents").write_string(2, 2, "punching")
    book.close()
    at = _import(folder)
    assert not at.success and not at.error, [s.value for s in [*at.success, *at.error]]
    said = _said(at.warning)
    assert any(
        "1 of 3 incident rows quarantined; 1 of 3 involvement rows quarantined" in s for s in said
    ), said
    files = next(d.value for d in at.dataframe if "Rows in the file" in d.value.columns)
    assert files.set_index("File").loc["incidents.csv", "Quarantined"] == "1"
    quarantine = next(d.value for d in at.dataframe if "Why it was not loaded" in d.value.columns)
    assert (
        quarantine["Why it was not loaded"]
        .str.contains(r'\(extract.xlsx, sheet "incidents", cell C3\)', regex=True)
        .any()
    )
    _no_empty_words(at)
    assert isinstance(quarantine, pd.DataFrame)
