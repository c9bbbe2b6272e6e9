"""The Cohort page's "Since the last review" through Streamlit's AppTest, on a
small hand-built force (built once, copied for each test so no test sees
another's writes):

* person 1 (Alex Patel) attends in January, February and March 2024, the
  third time with a new partner: not in the cohort at the end of February,
  in it on 20 March, with a new-partner alert;
* person 3 (Chris Nowak) attends in November, December and January (in the
  cohort at the end of February), is adopted, and attends again on 20 March;
* person 4 (Sam Smith) attends twice, with a new partner the second time: out
  of the cohort, adopted, with an alert that no filter may hide;
* person 2 (Jo O'Neill) attends once.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.core.settings import default_settings
from adapt.db import app_store, connect
from adapt.db.accounts import ensure_demo_users
from adapt.services.session import USER_KEY
from tests.extracts import incident, involvement, write_extract

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
COHORT = "app_pages/cohort.py"
PERSON = "app_pages/person.py"
ATTENDANCES = {  # incident -> (date, suspect, victim)
    1: ("2024-01-10", 1, 101), 2: ("2024-02-12", 1, 101), 3: ("2024-03-15", 1, 102),
    4: ("2024-01-20", 2, 103),
    5: ("2023-11-05", 3, 106), 6: ("2023-12-05", 3, 106), 7: ("2024-01-05", 3, 106),
    8: ("2024-03-20", 3, 106),
    9: ("2024-02-01", 4, 104), 10: ("2024-03-18", 4, 105),
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("force")
    incs = [incident(n, occurred_at=f"{d}T21:00") for n, (d, _, _) in ATTENDANCES.items()]
    invs = []
    for n, (_, suspect, victim) in ATTENDANCES.items():
        invs += [involvement(n, "suspect", suspect), involvement(n, "victim", victim)]
    write_extract(folder / "extract", incs, invs)
    path = folder / "force.sqlite"
    result = CliRunner().invoke(app, ["run", str(folder / "extract"), "--db", f"sqlite:///{path}"])
    assert result.exit_code == 0, result.output
    engine = connect(f"sqlite:///{path}")
    ensure_demo_users(engine)
    with engine.connect() as conn:  # everything into the main file: the copy is one file
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def db(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    copy = tmp_path / "force.sqlite"
    shutil.copy(built, copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    yield url


def _cohort(username: str = "officer") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[USER_KEY] = username
    at.run()
    at.switch_page(COHORT)
    at.run()
    assert not at.exception, at.exception
    return at


def _adopt(url: str, person_id: str, as_of: date) -> None:
    engine = connect(url)
    app_store.record_decision(
        engine, person_id=person_id, decision="adopted", author="officer",
        reason="IOM panel agreed", as_of=as_of, settings_name="default",
        settings_version="1", snapshot={"score": 10.0},
    )  # fmt: skip
    engine.dispose()


def _person_id(url: str, ref: str) -> str:
    """The resolved id of the person whose rows carry ``ref``."""
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT a.person_id FROM person_assignments a JOIN involvements v "
                "ON a.row_key = 'involvements:' || v.id WHERE v.person_ref = ? LIMIT 1",
                (ref,),
            ).scalar_one()
    finally:
        engine.dispose()


def _group(at: AppTest, title: str):  # type: ignore[no-untyped-def]
    return next(e for e in at.expander if e.label.startswith(title))


def test_no_review_yet_is_said_in_words_with_a_button_to_create_one(db: str) -> None:
    at = _cohort()
    assert [s.value for s in at.header][:2] == ["Since the last review", "Ranked cohort"]
    assert any("No review of the cohort is stored yet" in i.value for i in at.info)
    button = next(b for b in at.button if b.label.startswith("Create a review as of"))
    assert button.label == "Create a review as of 20 Mar 2024"
    button.click().run()
    assert not at.exception
    assert any("Review stored as of 20 Mar 2024" in s.value for s in at.success)
    engine = connect(db)
    created = app_store.audit_frame(engine, actions=("review_created",))
    engine.dispose()
    assert list(created["username"]) == ["officer"]
    assert "as of 2024-03-20" in created["detail"].iloc[0]
    # the page now says the review is stored (and offers no second one that day)
    assert any("The first review is stored, as of 20 Mar 2024" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Create a review")]


def test_since_the_last_review_lists_the_groups_with_names_and_reasons(db: str) -> None:
    p1, p3, p4 = (_person_id(db, ref) for ref in ("P0001", "P0003", "P0004"))
    pipeline.review(db, as_of="2024-02-29", settings=default_settings(), username="officer")
    _adopt(db, p3, date(2024, 2, 29))
    _adopt(db, p4, date(2024, 2, 29))
    at = _cohort()
    summary = next(m.value for m in at.markdown if m.value.startswith("From the review as of"))
    assert "**29 Feb 2024** (made by officer) to 20 Mar 2024" in summary

    entered = _group(at, "Entered the cohort (1)")
    table = entered.dataframe[0].value
    assert list(table["person_id"]) == [p1]
    assert list(table["name"]) == ["Alex Patel"]
    assert table["reason"].iloc[0] == (
        "3 attendances in 12 months reached the cohort rule (at least 3)"
    )
    alerts = _group(at, "New alerts").dataframe[0].value.set_index("person_id")
    assert alerts.loc[p1, "reason"].startswith("new partner (first incident with the new partner")
    # person 4 is out of the cohort: the new alert is listed all the same
    assert alerts.loc[p4, "in_cohort"] == "No" and alerts.loc[p4, "decision"] == "adopted"
    # both adopted people attended again in March
    incidents = _group(at, "Adopted, with new incidents (2)").dataframe[0].value
    assert dict(zip(incidents["person_id"], incidents["reason"], strict=True)) == {
        p3: "1 new incident since the last review (latest 2024-03-20)",
        p4: "1 new incident since the last review (latest 2024-03-18)",
    }
    # in the cohort both times (person 3), or adopted (person 4): 5 points or more
    moved = _group(at, "Score changes of 5 points or more (2)").dataframe[0].value
    assert moved.set_index("person_id").loc[p3, "reason"].startswith("score 18 → 26 (+8)")
    assert _group(at, "Left the cohort (0)")
    # nothing drawn says None, nan or NaT
    for frame in (d.value for d in at.dataframe):
        text = frame.astype(str).to_numpy().ravel().tolist()
        assert not {"None", "nan", "NaT", "<NA>"} & set(text)


def test_an_adopted_person_with_an_alert_is_never_filtered_out(db: str) -> None:
    p4 = _person_id(db, "P0004")
    _adopt(db, p4, date(2024, 3, 20))
    at = _cohort()
    shown = next(m.value for m in at.markdown if "people shown" in m.value)
    # "In cohort: Yes" is the default filter; person 4 is not in the cohort
    assert "1 adopted person with an alert is shown whatever the filters" in shown
    ranked = at.dataframe[-1].value
    assert p4 in set(ranked["person_id"])
    next(s for s in at.selectbox if s.label == "Alerts").select("No alert").run()
    assert p4 in set(at.dataframe[-1].value["person_id"])


def test_plain_words_in_the_ranked_table_and_a_fresh_date(db: str) -> None:
    pipeline.review(db, as_of="2024-02-29", settings=default_settings(), username="analyst")
    at = _cohort("analyst")
    # the ranked table: a name beside every id, statuses and dates in words
    ranked = at.dataframe[-1].value
    assert ranked["name"].notna().all() and (ranked["name"] != "").all()
    assert ranked["last_incident"].str.fullmatch(r"\d{4}-\d{2}-\d{2}|not recorded").all()
    assert any(re.search(r"Rank is the place among all \d+ people scored", c.value)
               for c in at.caption)  # fmt: skip
    # a fresh date applies (Enter in the browser: tests/browser/test_cohort_review.py)
    at.date_input[0].set_value(date(2024, 3, 1)).run()
    assert not at.exception
    assert any("up to 01 Mar 2024" in c.value for c in at.caption)
    summary = next(m.value for m in at.markdown if m.value.startswith("From the review as of"))
    assert "**29 Feb 2024** (made by analyst) to 01 Mar 2024" in summary
    assert any("The next review is due on 28 Mar 2024" in c.value for c in at.caption)
