"""The MARAC meeting list and the Victim page in Streamlit's AppTest, against
a small generated force (built once per module, on SQLite and, when
configured, PostgreSQL): what the page shows is what the pure functions
compute, every table is in plain words, and everything is audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from adapt.contract import read_extract
from adapt.core.settings import default_settings
from adapt.db import connect, load_extract
from adapt.db.accounts import ensure_demo_users
from adapt.db.app_store import audit_frame
from adapt.db.history import load_history
from adapt.identity.runner import resolve_database
from adapt.services.session import USER_KEY
from adapt.synthetic import GeneratorConfig, generate
from adapt.views import marac_meeting

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 90
BAD_WORDS = ("None", "nan", "NaT", "<NA>")


@pytest.fixture(scope="module")
def app_db(module_db_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A resolved database of a small synthetic force, and its meeting list for
    the latest data's day with the last meeting at the start of the history (so that every
    section has rows)."""
    folder = tmp_path_factory.mktemp("extract")
    generate(folder, GeneratorConfig(seed=3, incidents=900, years=2.5))
    engine = connect(module_db_url)
    load_extract(engine, read_extract(folder))
    resolve_database(engine)
    ensure_demo_users(engine)
    history = load_history(engine)
    engine.dispose()
    meeting = history.last_date.date()
    since = meeting - timedelta(days=800)  # about the whole history: no section is empty
    ml = marac_meeting.meeting_list(history, meeting, since, settings=default_settings())
    assert len(ml.repeats) and len(ml.late_flags) and len(ml.serial)
    return module_db_url, ml


@pytest.fixture
def app_env(app_db, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    url, ml = app_db
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    monkeypatch.setenv("ADAPT_DEMO_USERS", "1")
    return url, ml


def _signed_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _plain(frame: pd.DataFrame) -> None:
    text = frame.astype(str)
    for bad in BAD_WORDS:
        assert not text.apply(lambda c, b=bad: c.str.contains(rf"\b{b}\b")).any().any(), bad
    assert not [c for c in frame.columns if "_" in str(c)], list(frame.columns)


def _box(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(s for s in at.selectbox if s.label == label)


def _build(at: AppTest, ml) -> None:  # type: ignore[no-untyped-def]
    _box(at, "Purpose").select("MARAC meeting").run()
    assert [t.label for t in at.tabs] == ["Search the history", "Meeting list"]
    meeting = next(d for d in at.date_input if d.label == "Meeting date")
    assert meeting.value == ml.meeting_date.date()  # the latest data's day is offered
    next(d for d in at.date_input if d.label == "Previous meeting").set_value(ml.since.date())
    next(b for b in at.button if b.label == "Build the meeting list").click().run()
    assert not at.exception, [e.message for e in at.exception]


def test_a_chair_lands_on_marac_and_builds_the_meeting_list(app_env) -> None:  # type: ignore[no-untyped-def]
    url, ml = app_env
    at = _signed_in("chair")
    assert [t.value for t in at.title] == ["MARAC check"]  # a chair lands on MARAC check
    _build(at, ml)
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics == {
        "Cases with a repeat": len(ml.repeats),
        "Incidents a late flag missed": len(ml.late_flags),
        "Perpetrators with several referred victims": len(ml.serial),
    }
    tables = [d.value for d in at.dataframe]
    assert [len(t) for t in tables] == [len(ml.repeats), len(ml.late_flags), len(ml.serial)]
    for table in tables:
        _plain(table)
    # names beside ids
    assert tables[0]["Victim"].str.fullmatch(r".+ \(P\d+\)").all()
    assert "Open a victim's page" in [s.label for s in at.selectbox]
    downloads = [b.label for b in at.get("download_button")]
    assert downloads == ["Download CSV", "Download XLSX", "Download PDF to print"]

    # the list is audited as a consultation of everyone on it, once
    logged = audit_frame(connect(url), username="chair", actions=("marac_meeting_list",))
    assert sorted(logged["person_id"]) == sorted(ml.people())
    assert set(logged["purpose"]) == {"MARAC meeting"}
    assert (
        logged["detail"]
        .str.startswith(f"meeting list for {ml.meeting_date:%d/%m/%Y}, since {ml.since:%d/%m/%Y}: ")
        .all()
    )
    at.run()
    again = audit_frame(connect(url), username="chair", actions=("marac_meeting_list",))
    assert len(again) == len(logged)

    # a previous meeting on or after the meeting is refused in words
    next(d for d in at.date_input if d.label == "Previous meeting").set_value(
        ml.meeting_date.date()
    )
    next(b for b in at.button if b.label == "Build the meeting list").click().run()
    assert [e.value for e in at.error] == ["The previous meeting must be before this meeting."]
    assert not at.metric


def test_an_officer_has_the_search_but_no_meeting_list(app_env) -> None:  # type: ignore[no-untyped-def]
    at = _signed_in("officer")
    at.switch_page("app_pages/marac.py")
    at.run()
    _box(at, "Purpose").select("MARAC meeting").run()
    assert not at.tabs and "Search" in [t.label for t in at.text_input]
    assert not [b for b in at.button if b.label == "Build the meeting list"]


def test_choosing_a_victim_opens_the_victim_page(app_env) -> None:  # type: ignore[no-untyped-def]
    _, ml = app_env
    at = _signed_in("chair")
    _build(at, ml)
    box = _box(at, "Open a victim's page")
    assert box.value is None
    box.select_index(0).run()
    assert [t.value for t in at.title] == ["Victim"]
    assert at.session_state["victim_id"] == ml.victims()[0]


def test_the_victim_page_asks_a_purpose_and_audits_who_it_shows(app_env) -> None:  # type: ignore[no-untyped-def]
    url, ml = app_env
    victim_id = str(ml.repeats["victim_id"].iloc[0])
    at = _signed_in("chair")
    at.session_state["victim_id"] = victim_id
    at.switch_page("app_pages/victim.py")
    at.run()
    assert [t.value for t in at.title] == ["Victim"]
    assert _box(at, "Victim").value == victim_id
    assert _box(at, "Purpose").value is None  # never pre-filled
    assert not at.header and not at.dataframe
    assert not audit_frame(connect(url), username="chair", actions=("view_person",)).size

    _box(at, "Purpose").select("Safeguarding a victim").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.header[0].value.endswith(f"\\({victim_id}\\)")  # the name, then the id
    tables = [d.value for d in at.dataframe]
    timeline, perpetrators = tables[0], tables[1]
    assert {"Date", "What", "Perpetrator", "Harm (CHI days)"} <= set(timeline.columns)
    assert timeline["What"].str.startswith(("Incident: ", "MARAC referral")).all()
    assert (timeline["What"] == "MARAC referral").any()
    perp = str(ml.repeats["perpetrator_id"].iloc[0])
    assert perpetrators["Perpetrator"].str.endswith(f"({perp})").any()
    for table in tables:
        _plain(table)
    assert at.get("plotly_chart")  # the chart, with the table as its text

    logged = audit_frame(connect(url), username="chair", actions=("view_person",))
    opened = logged[logged["person_id"] == victim_id]
    assert len(opened) == 1 and opened["detail"].iloc[0].startswith("victim page")
    assert set(logged["purpose"]) == {"Safeguarding a victim"}
    shown = logged[logged["person_id"] != victim_id]
    assert perp in set(shown["person_id"])
    assert set(shown["detail"]) == {f"shown on the victim page of {victim_id}"}
    assert "Open a perpetrator's pathway" in [s.label for s in at.selectbox]


def test_the_marac_check_speaks_plain_words_and_links_victims(app_env) -> None:  # type: ignore[no-untyped-def]
    _, ml = app_env
    victim_id = str(ml.late_flags["victim_id"].iloc[0])
    at = _signed_in("chair")
    _box(at, "Purpose").select("MARAC meeting").run()
    next(t for t in at.text_input if t.label == "Search").input(victim_id)
    next(b for b in at.button if b.label == "Search").click().run()
    assert not at.exception, [e.message for e in at.exception]
    results = at.dataframe[0].value
    assert list(results.columns) == ["Name", "Person id", "Other names", "Dates of birth",
                                     "References", "Recorded as", "Match"]  # fmt: skip
    assert list(results["Match"]) == ["100%"]
    assert _box(at, "Person").value == victim_id  # one match opens at once
    for table in at.dataframe[1:]:
        _plain(table.value)
    repeats = [d.value for d in at.dataframe if "Flag on by that day" in d.value.columns]
    assert repeats and repeats[0]["Flag on by that day"].str.startswith("no").any()
    link = _box(at, "Open a victim's page")
    assert victim_id in link.options[0]
    link.select_index(0).run()
    assert [t.value for t in at.title] == ["Victim"]


def test_a_role_without_the_victim_page_is_refused(app_env) -> None:  # type: ignore[no-untyped-def]
    url, _ = app_env
    at = AppTest.from_file(str(ROOT / "app_pages" / "victim.py"), default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = "analyst"
    at.run()
    assert "Victim" not in [t.value for t in at.title]
    assert any("does not give access" in e.value for e in at.error)
    refused = audit_frame(connect(url), username="analyst", actions=("refused",))
    assert "victim/view" in set(refused["detail"])
