"""The Cohort and Person pathway pages through Streamlit's AppTest, on the
demo extract loaded into a SQLite file once for the module: sign in, open the
page, filter, adopt, refuse a role without the page, open a person with a
purpose (audited).

AppTest cannot click dataframe rows (they are drawn on a canvas): the
"Open a person" selectbox is the tested path, and the position-to-id mapping
is tested in test_views_cohort_person.py."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.db import app_store, connect
from adapt.db.accounts import ensure_demo_users
from adapt.services import cohort, data
from adapt.services import settings as saved_settings
from adapt.services.session import USER_KEY

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
DEMO = ROOT / "data" / "synthetic" / "demo"
COHORT = "app_pages/cohort.py"
PERSON = "app_pages/person.py"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'demo.sqlite'}"
    result = CliRunner().invoke(app, ["run", str(DEMO), "--db", url])
    assert result.exit_code == 0, result.output
    engine = connect(url)
    ensure_demo_users(engine)  # the app creates no account
    engine.dispose()
    return url


@pytest.fixture
def db(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ADAPT_DATABASE_URL", demo_url)
    yield demo_url


def _signed_in(username: str, page: str | None = None) -> AppTest:
    # signed in as the server's sign-in route leaves a session (the form posts
    # to the server, outside AppTest's reach)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[USER_KEY] = username
    at.run()
    assert not at.exception
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception
    return at


def _select(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(s for s in at.selectbox if s.label == label)


def _shown(at: AppTest) -> int:
    text = next(m.value for m in at.markdown if "people shown" in m.value)
    return int(re.search(r"(\d+) people shown", text).group(1))


def test_officer_sees_the_cohort_and_filters_change_it(db: str) -> None:
    at = _signed_in("officer", COHORT)
    assert [t.value for t in at.title] == ["Cohort"]
    in_cohort = _shown(at)
    assert in_cohort > 0
    _select(at, "In cohort").select("Any").run()
    everyone = _shown(at)
    assert everyone > in_cohort
    _select(at, "Alerts").select("Any alert").run()
    alerts = _shown(at)
    assert 0 < alerts < everyone
    _select(at, "Escalating").select("Yes").run()
    assert _shown(at) <= alerts
    assert {"Adopt", "Decline"} <= {b.label for b in at.button}
    assert [t.label for t in at.text_area] == ["Reason"]


def test_adopting_records_a_decision_and_a_reason_is_required(db: str) -> None:
    engine = connect(db)
    before = len(app_store.decisions_frame(engine))
    at = _signed_in("officer", COHORT)
    person = _select(at, "Person").value
    next(b for b in at.button if b.label == "Adopt").click().run()
    assert any("reason is required" in e.value for e in at.error)
    assert len(app_store.decisions_frame(engine)) == before

    at.text_area[0].input("Serial pattern across three victims; IOM panel agreed.")
    next(b for b in at.button if b.label == "Adopt").click().run()
    assert not at.exception
    decisions = app_store.decisions_frame(engine)
    assert len(decisions) == before + 1
    latest = decisions.iloc[0]
    assert latest["person_id"] == person and latest["decision"] == "adopted"
    assert latest["author"] == "officer" and latest["reason"].startswith("Serial pattern")
    assert '"score"' in latest["score_snapshot"]
    assert any("adopted" in s.value for s in at.success)
    # the list now shows the decision
    _select(at, "In cohort").select("Any").run()
    assert not at.exception


def test_chair_is_refused_the_cohort(db: str) -> None:
    at = _signed_in("chair")
    assert "Cohort" not in [t.value for t in at.title]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(COHORT)  # not in a chair's menu
    # the page re-checks the role itself, not only the menu
    page = AppTest.from_file(str(ROOT / COHORT), default_timeout=60)
    page.session_state["adapt_username"] = "chair"
    page.run()
    assert not page.exception
    assert "Cohort" not in [t.value for t in page.title]
    assert any("does not give access" in e.value for e in page.error)
    refused = app_store.audit_frame(connect(db), username="chair", actions=("refused",))
    assert (refused["detail"] == "cohort/view").any()


def test_opening_a_person_needs_a_purpose_and_is_audited(db: str) -> None:
    engine = connect(db)
    at = _signed_in("officer", COHORT)
    pick = _select(at, "Open a person")
    first = _select(at, "Person").value  # the decision form's first person is the list's first
    pick.select(first).run()
    assert at.session_state["person_id"] == first
    at.switch_page(PERSON).run()  # AppTest does not follow st.switch_page by itself
    assert [t.value for t in at.title] == ["Person pathway"]
    assert not at.header  # nothing of the record before a purpose is chosen
    seen = app_store.audit_frame(engine, person_id=first, actions=("view_person",))
    assert seen.empty
    _select(at, "Purpose").select("Offender management").run()
    assert not at.exception
    assert first in at.header[0].value
    seen = app_store.audit_frame(engine, person_id=first, actions=("view_person",))
    assert list(seen["purpose"]) == ["Offender management"]
    assert list(seen["username"]) == ["officer"]
    # a rerun does not audit again; the officer may edit the plan but not split joins
    at.run()
    assert len(app_store.audit_frame(engine, person_id=first, actions=("view_person",))) == 1
    assert "Split these rows" not in {b.label for b in at.button}
    entry = next(t for t in at.text_area if t.label == "Entry")
    entry.input("Refer to housing options")
    next(b for b in at.button if b.label == "Save plan entry").click().run()
    assert not at.exception
    plan = app_store.plan_frame(engine, first)
    assert list(plan["text"]) == ["Refer to housing options"]


def test_analyst_sees_the_split_form(db: str) -> None:
    # The cohort's top-ranked person: attended as a suspect more than once, so
    # several rows are joined into them and there is a join to split.
    top = pipeline.score(db, store=False).table.iloc[0]
    assert top["rank"] == 1 and top["attendances_window"] > 1
    person = str(top["person_id"])
    at = _signed_in("analyst", PERSON)
    assert [t.value for t in at.title] == ["Person pathway"]
    next(t for t in at.text_input if t.label == "Find a person").input(person).run()
    _select(at, "Person").select(person).run()
    _select(at, "Purpose").select("Data quality").run()
    assert not at.exception
    assert "Split these rows" in {b.label for b in at.button}
    assert "Save plan entry" not in {b.label for b in at.button}


def test_the_cohort_export_file_is_the_list_shown(db: str) -> None:
    """What the Cohort page's download buttons build when clicked."""
    settings = saved_settings.settings_in_force()
    as_of = data.default_as_of()
    shown = cohort.filter_cohort(cohort.cohort_table(as_of, settings), in_cohort=True)
    content = cohort.export_file(shown, data.ranked(as_of, settings), ".csv")
    exported = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str)
    assert exported["person_id"].tolist() == shown["person_id"].tolist()
    assert {"rank", "name", "score", "decision_status"} <= set(exported.columns)
