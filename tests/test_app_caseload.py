"""The Caseload page through Streamlit's AppTest, on the demo extract loaded
into a SQLite file once for the module: an officer sees the people they
adopted with reviews due, records a plan review, ends a management with an
exit state (audited, shown in the endings), the whole team's caseload, the
outcome panel with its text alternative and caveat, and a chair is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from adapt.cli import app
from adapt.db import app_store, connect
from adapt.db.accounts import ensure_demo_users
from adapt.db.history import load_history
from adapt.db.models import cohort_decisions
from adapt.db.scores import latest_score_run, score_run_frame
from adapt.services.session import USER_KEY

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
DEMO = ROOT / "data" / "synthetic" / "demo"
CASELOAD = "app_pages/caseload.py"
SNAP = {"score": 40.0}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo, with four people adopted on the data date 200 days before its
    last date: three by "officer" (two of them recorded 40 days ago, so their
    plan review is overdue), one by another officer but with an open action
    "officer" owns."""
    url = f"sqlite:///{tmp_path_factory.mktemp('caseload') / 'demo.sqlite'}"
    result = CliRunner().invoke(app, ["run", str(DEMO), "--db", url])
    assert result.exit_code == 0, result.output
    engine = connect(url)
    ensure_demo_users(engine)
    last = load_history(engine).last_date.date()
    run = score_run_frame(engine, latest_score_run(engine)["id"])
    people = run.loc[run["in_cohort"], "person_id"].head(4).tolist()
    for i, person in enumerate(people):
        app_store.record_decision(
            engine, person_id=person, decision="adopted", author="officer" if i < 3 else "other",
            reason="serial pattern", as_of=last - timedelta(days=200), settings_name="default",
            settings_version="1", snapshot=SNAP,
        )  # fmt: skip
    with engine.begin() as conn:  # the first two were adopted 40 days ago: review overdue
        conn.execute(
            update(cohort_decisions)
            .where(cohort_decisions.c.person_id.in_(people[:2]))
            .values(decided_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=40))
        )
    app_store.save_plan_entry(engine, person_id=people[3], author="other", kind="action",
                              text="Refer to housing", owner="officer",
                              due_date=last)  # fmt: skip
    engine.dispose()
    return url


@pytest.fixture
def db(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ADAPT_DATABASE_URL", demo_url)
    yield demo_url


def _open(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[USER_KEY] = username
    at.run()
    assert not at.exception
    at.switch_page(CASELOAD)
    at.run()
    assert not at.exception
    return at


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown).replace("\\", "")  # md_escape undone


def _form_select(at: AppTest, key: str):  # type: ignore[no-untyped-def]
    return next(s for s in at.selectbox if s.key == key)


def test_officer_sees_their_caseload_in_words(db: str) -> None:
    at = _open("officer")
    assert [t.value for t in at.title] == ["Caseload"]
    text = _text(at)
    assert "You manage 4 people" in text  # three adopted, one by an action they own
    headers = [h.value for h in at.header]
    for header in ("Plan reviews due and overdue", "People managed",
                   "Actions by owner and due date", "New incidents since the last contact",
                   "End management", "Outcomes across the cohort"):  # fmt: skip
        assert header in headers
    frames = [d.value for d in at.dataframe]
    people = next(f for f in frames if "On the caseload as" in f.columns)
    assert set(people["On the caseload as"]) == {"adopted", "owner of an open plan entry"}
    assert people["Name"].str.len().gt(0).all()  # names beside ids
    overdue = people["Plan review"] == "overdue by 12 days"  # 40 days - 28
    assert overdue.sum() == 2 and people["Plan review"][~overdue].eq("due in 28 days").all()
    due = next(f for f in frames if "Plan review" in f.columns and len(f.columns) == 5)
    assert due["Plan review"].tolist() == ["overdue by 12 days"] * 2
    actions = next(f for f in frames if "Action" in f.columns)
    assert actions["Owner"].tolist() == ["officer"] and actions["Action"].tolist() == [
        "Refer to housing"
    ]
    for frame in frames:  # plain words: no None, nan or NaT anywhere
        shown = frame.astype(str)
        assert not shown.isin(["None", "nan", "NaT", "<NA>"]).any().any(), frame.columns


def test_recording_a_review_and_ending_a_management(db: str) -> None:
    engine = connect(db)
    at = _open("officer")
    _form_select(at, "contact_person").select_index(0)
    at.radio[0].set_value("A plan review held")
    at.text_area[0].input("Reviewed the plan with the offender manager.")
    next(b for b in at.button if b.label == "Record it").click().run()
    assert not at.exception
    assert any("Plan review recorded" in s.value for s in at.success)

    # a reason is required
    end = _form_select(at, "end_person")
    last = len(end.options) - 1
    end.select_index(last)
    next(r for r in at.radio if r.label == "Exit state").set_value("Moved away")
    next(b for b in at.button if b.label == "End management").click().run()
    assert any("give the reason" in e.value for e in at.error)

    _form_select(at, "end_person").select_index(last)
    next(r for r in at.radio if r.label == "Exit state").set_value("Moved away")
    next(t for t in at.text_area if t.label == "Reason (required)").input("Moved to Leeds")
    next(b for b in at.button if b.label == "End management").click().run()
    assert not at.exception
    assert any("ended (moved away)" in s.value for s in at.success)
    assert "You manage 3 people" in _text(at)
    ended = next(d.value for d in at.dataframe if "Exit state" in d.value.columns)
    assert ended["Exit state"].tolist() == ["Moved away"]
    assert ended["Reason"].tolist() == ["Moved to Leeds"]
    audit = app_store.audit_frame(engine, actions=("management_ended",))
    assert len(audit) == 1 and audit["username"].iloc[0] == "officer"
    reviews = app_store.audit_frame(engine, actions=("plan_change",), username="officer")
    assert reviews["detail"].str.startswith("review ").sum() == 1  # the plan review, done
    engine.dispose()


def test_outcome_panel_has_a_text_alternative_and_a_caveat(db: str) -> None:
    at = _open("officer")
    text = _text(at)
    assert "not a causal estimate" in text and "regression to the mean" in text
    # four adopted 200 days before the data's end: the chart is drawn, with the
    # same figures as a table and in a sentence
    assert len(at.get("vega_lite_chart")) == 1
    table = next(d.value for d in at.dataframe if "Group" in d.value.columns)
    assert table["Group"].tolist() == ["Adopted", "Comparison (similar, not adopted)"]
    matched = int(table["People"].iloc[0])  # those with a similar person not adopted
    assert 1 <= matched <= 4
    assert (
        f"{matched} adopted {'person' if matched == 1 else 'people'} with a comparison: "
        "their harm went from" in text
    )


def test_whole_team_and_chair_refused(db: str) -> None:
    at = _open("officer")
    next(t for t in at.toggle if t.label == "Show the whole team's caseload").set_value(True).run()
    assert not at.exception
    assert "The team manages" in _text(at)

    admin = _open("admin")  # an administrator picks whose caseload
    assert "The team manages" in _text(admin)
    next(s for s in admin.selectbox if s.label == "Whose caseload").select("officer").run()
    assert not admin.exception
    assert "officer manages" in _text(admin)

    chair = AppTest.from_file(str(ROOT / CASELOAD), default_timeout=60)
    chair.session_state[USER_KEY] = "chair"
    chair.run()
    assert not chair.exception
    assert "Caseload" not in [t.value for t in chair.title]
    assert any("does not give access" in e.value for e in chair.error)
