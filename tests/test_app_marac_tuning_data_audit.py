"""The MARAC check, Tuning, Data and Audit pages in Streamlit's AppTest,
against a small generated database (built once per module, on SQLite and,
when configured, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from adapt.contract import read_extract as read_extract_folder
from adapt.core.access import can
from adapt.db import connect, load_extract
from adapt.db.accounts import ensure_demo_users
from adapt.db.app_store import audit_frame
from adapt.identity.runner import resolve_database
from adapt.services.jobs import runner
from adapt.services.session import USER_KEY
from adapt.synthetic import GeneratorConfig, generate
from adapt.views.text import md_escape
from tests.extracts import INVOLVEMENT_HEADER, involvement, simple_extract, write_csv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
HEADINGS = {"marac": "MARAC check", "tuning": "Tuning", "data": "Data", "audit": "Audit"}
USERS = {"iom_officer": "officer", "marac_chair": "chair", "analyst": "analyst", "admin": "admin"}
TIMEOUT = 90


@pytest.fixture(scope="module")
def app_db(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, pd.DataFrame]:
    """A resolved database of a small synthetic force (about 2.5 years)."""
    from adapt.contract import read_extract

    folder = tmp_path_factory.mktemp("extract")
    generate(folder, GeneratorConfig(seed=3, incidents=900, years=2.5))
    engine = connect(module_db_url)
    load_extract(engine, read_extract(folder))
    resolve_database(engine)
    ensure_demo_users(engine)
    engine.dispose()
    return module_db_url, folder


@pytest.fixture
def app_env(app_db, monkeypatch: pytest.MonkeyPatch) -> str:
    url, _ = app_db
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    monkeypatch.setenv("ADAPT_DEMO_USERS", "1")
    return url


def _open(page: str, username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.mark.parametrize(
    ("page", "role"),
    [(p, r) for p in HEADINGS for r in USERS if can(r, p)],
)
def test_each_page_opens_for_each_allowed_role(app_env: str, page: str, role: str) -> None:
    at = _open(page, USERS[role])
    assert HEADINGS[page] in _titles(at)
    assert not at.error


@pytest.mark.parametrize(
    ("page", "role"), [("tuning", "iom_officer"), ("audit", "analyst"), ("data", "marac_chair")]
)
def test_a_refused_role_sees_the_refusal(app_env: str, page: str, role: str) -> None:
    # The menu does not even register the page; its own guard refuses it too.
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = USERS[role]
    at.run()
    assert HEADINGS[page] not in _titles(at)
    assert any("does not give access" in e.value for e in at.error)
    refused = audit_frame(connect(app_env), username=USERS[role], actions=("refused",))
    assert f"{page}/view" in set(refused["detail"])


def test_marac_check_finds_a_person_and_offers_the_pdf(app_env: str) -> None:
    at = _open("marac", "chair")
    purpose = next(s for s in at.selectbox if s.label == "Purpose")
    assert purpose.value is None  # never pre-filled
    assert not [t for t in at.text_input if t.label == "Search"]  # no search without a purpose
    purpose.select("MARAC meeting").run()
    at.radio[0].set_value("Either")
    search = next(t for t in at.text_input if t.label == "Search")
    search.input("Smith")
    next(b for b in at.button if b.label == "Search").click()
    at.run()
    assert not at.exception
    # among several matches nobody's check is opened (or audited) until one is chosen
    box = next(s for s in at.selectbox if s.label == "Person")
    assert box.value is None and len(box.options) > 1
    assert "Download PDF" not in [b.label for b in at.get("download_button")]
    box.set_value(box.options[0].split()[-1][1:-1]).run()  # "Name (P0000001)": the id
    assert "Download PDF" in [b.label for b in at.get("download_button")]
    person = next(s for s in at.selectbox if s.label == "Person").value
    logged = audit_frame(connect(app_env), username="chair", actions=("marac_check",))
    assert person in set(logged["person_id"])
    assert set(logged["purpose"]) == {"MARAC meeting"}


def test_a_marac_search_records_the_term_and_everyone_shown(app_env: str) -> None:
    """s.62 consultation: the search term and every person the list showed,
    not only the one opened (the page used to audit one person)."""
    at = _open("marac", "chair")
    next(s for s in at.selectbox if s.label == "Purpose").select("Safeguarding a victim").run()
    at.radio[0].set_value("Either")
    next(t for t in at.text_input if t.label == "Search").input("Smyth")
    next(b for b in at.button if b.label == "Search").click()
    at.run()
    assert not at.exception
    shown = next(d.value for d in at.dataframe if "Match" in d.value.columns)
    assert len(shown) > 1
    logged = audit_frame(connect(app_env), username="chair", actions=("marac_search",))
    mine = logged[logged["detail"].str.startswith("search 'Smyth', either: ")]
    assert sorted(mine["person_id"]) == sorted(shown["Person id"])
    assert set(mine["purpose"]) == {"Safeguarding a victim"}
    assert f"1 of {len(shown)} shown" in set(mine["detail"].str.split(": ").str[-1])

    # a search that finds nobody is recorded too, with its term
    next(t for t in at.text_input if t.label == "Search").input("Qwxzyv")
    next(b for b in at.button if b.label == "Search").click()
    at.run()
    logged = audit_frame(connect(app_env), username="chair", actions=("marac_search",))
    assert "search 'Qwxzyv', either: nobody shown" in set(logged["detail"])

    # a list found for one purpose is not shown under another: search again
    next(t for t in at.text_input if t.label == "Search").input("Smyth")
    next(b for b in at.button if b.label == "Search").click()
    at.run()
    assert [d for d in at.dataframe if "Match" in d.value.columns]
    next(s for s in at.selectbox if s.label == "Purpose").select("MARAC meeting").run()
    assert not [d for d in at.dataframe if "Match" in d.value.columns]


def test_a_setting_change_changes_the_cohort_size(app_env: str) -> None:
    at = _open("tuning", "analyst")
    size = next(m for m in at.metric if m.label == "Cohort size")
    before = int(size.value)
    next(n for n in at.number_input if n.label == "Cohort min attendances").set_value(1)
    next(n for n in at.number_input if n.label == "Cohort min score").set_value(0.0)
    at.run()
    assert not at.exception
    after = int(next(m for m in at.metric if m.label == "Cohort size").value)
    assert after > before
    assert [n for n in at.number_input if n.label == "Gravity weight"]


def test_a_bad_import_shows_its_quarantine(
    app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADAPT_IMPORT_ROOT", str(tmp_path))
    folder = simple_extract(tmp_path / "bad", range(1, 6))
    rows = [involvement(n, "suspect", n) for n in range(1, 6)]
    rows.append(involvement(5, "victim", 9, date_of_birth="31/02/1990x"))
    write_csv(folder / "involvements.csv", INVOLVEMENT_HEADER, rows)
    at = _open("data", "analyst")
    next(t for t in at.text_input if t.label == "Extract folder on the server").input(str(folder))
    next(c for c in at.checkbox if c.label.startswith("Resolve identities")).uncheck()
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    assert not at.exception
    # the import runs in the background: the page follows it, then shows how it ended
    runner().wait(at.session_state["data_import_job"])
    at.run()
    assert not at.exception
    # rows were quarantined: a warning, not a green success
    assert not at.success and any("quarantined" in w.value for w in at.warning), [
        e.value for e in at.error
    ]
    quarantine = next(d.value for d in at.dataframe if "Why it was not loaded" in d.value.columns)
    mine = quarantine[
        (quarantine["File"] == "involvements.csv")
        & (quarantine["Row"] == 7)
        & (quarantine["Column"] == "date_of_birth")
    ]
    assert len(mine) == 1
    logged = audit_frame(connect(app_env), username="analyst", actions=("import",))
    assert len(logged)


def test_the_audit_page_lists_a_view(app_env: str) -> None:
    from adapt.db.app_store import record

    record(connect(app_env), username="officer", role="iom_officer", action="view_person",
           person_id="P0000042", purpose="Offender management")  # fmt: skip
    at = _open("audit", "admin")
    next(t for t in at.text_input if t.label == "Person id").input("P0000042")
    at.run()
    table = at.dataframe[0].value
    assert list(table["action"]) == ["view_person"]
    assert table["username"].iloc[0] == "officer"


def test_the_data_page_imports_only_from_the_import_folder(
    app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/etc (which exists) and a folder that does not exist get one same
    answer, and neither starts an import."""
    monkeypatch.setenv("ADAPT_IMPORT_ROOT", str(tmp_path / "imports"))
    (tmp_path / "imports").mkdir()
    said = []
    for folder in ("/etc", "/no/such/folder"):
        at = _open("data", "analyst")
        next(t for t in at.text_input if t.label == "Extract folder on the server").input(folder)
        next(b for b in at.button if b.label == "Import").click()
        at.run()
        assert not at.exception
        assert "data_import_job" not in at.session_state
        said.append([e.value for e in at.error])
    assert len(said[0]) == 1
    assert said[0][0].replace(md_escape("/etc"), "X") == said[1][0].replace(
        md_escape("/no/such/folder"), "X"
    )


@pytest.mark.parametrize(("page", "button"), [("data", "Download quarantine"),
                                              ("audit", "Download audit")])  # fmt: skip
def test_no_download_before_a_purpose_is_chosen(
    app_env: str, tmp_path: Path, page: str, button: str
) -> None:
    if page == "data":  # a quarantine to export
        folder = simple_extract(tmp_path / "bad", range(1, 3))
        rows = [involvement(1, "suspect", 1, date_of_birth="31/02/1990x")]
        write_csv(folder / "involvements.csv", INVOLVEMENT_HEADER, rows)
        load_extract(connect(app_env), read_extract_folder(folder))
    at = _open(page, "admin" if page == "audit" else "analyst")
    purpose = next(s for s in at.selectbox if s.label == "Purpose of the export")
    assert purpose.value is None  # never pre-filled
    assert not [b for b in at.get("download_button") if b.label.startswith(button)]
    purpose.select("Audit" if page == "audit" else "Data quality").run()
    assert [b for b in at.get("download_button") if b.label.startswith(button)]
