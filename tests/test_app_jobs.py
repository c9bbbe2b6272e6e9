"""Long work in the app runs as background jobs, not in a page rerun: an
import followed from another session and after navigating away, an
analyst's split re-resolving identities, a backtest on the Tuning page. Also
what the pages read from the settings in force and their help text. On a
small generated force, on both databases."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from adapt import pipeline
from adapt.core.settings import default_settings, setting_descriptions
from adapt.db import accounts, connect
from adapt.db.app_store import audit_frame
from adapt.db.identity import assignments
from adapt.db.scores import save_settings_version
from adapt.db.settings_store import decide_settings_version
from adapt.services import jobs
from adapt.services.session import USER_KEY
from adapt.synthetic import GeneratorConfig

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 90


@pytest.fixture(scope="module")
def force(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A resolved small force (about 2.5 years), and a second extract to import."""
    first = pipeline.generate(tmp_path_factory.mktemp("a"), GeneratorConfig(seed=8, incidents=600,
                                                                          years=2.5))  # fmt: skip
    pipeline.load(module_db_url, first.folder)
    pipeline.resolve(module_db_url)
    engine = connect(module_db_url)
    accounts.ensure_demo_users(engine)
    engine.dispose()
    later = pipeline.generate(tmp_path_factory.mktemp("b"), GeneratorConfig(seed=9, incidents=80))
    return module_db_url, later.folder


@pytest.fixture
def app_url(force: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ADAPT_DATABASE_URL", force[0])
    monkeypatch.setenv("ADAPT_IMPORT_ROOT", str(force[1].parent))  # server imports from here only
    return force[0]


def _open(page: str, username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def _following(at: AppTest) -> bool:
    return any("runs on the server" in c for c in _captions(at))


def test_an_import_goes_on_across_sessions_and_pages(app_url: str, force: tuple[str, Path]) -> None:
    runner = jobs.runner()
    hold = threading.Event()
    # work already writing to this database holds the import in the queue meanwhile
    blocker = runner.submit("maintenance", lambda p: hold.wait(60), database=app_url,
                            label="Maintenance")  # fmt: skip
    try:
        mine = _open("data", "analyst")
        folder = next(t for t in mine.text_input if t.label == "Extract folder on the server")
        folder.input(str(force[1]))
        next(b for b in mine.button if b.label == "Import").click()
        mine.run()
        job_id = mine.session_state["data_import_job"]
        assert runner.get(job_id).state == jobs.QUEUED and _following(mine)
        assert not mine.success  # the page did not wait for it

        other = _open("data", "admin")  # a new session sees it running, and whose it is
        assert _following(other)

        mine.switch_page("app_pages/tuning.py").run()  # away ...
        assert not mine.exception
        mine.switch_page("app_pages/data.py").run()  # ... and back: still followed
        assert _following(mine) and mine.session_state["data_import_job"] == job_id
    finally:
        hold.set()
    runner.wait(blocker)
    job = runner.wait(job_id, timeout=300)
    assert job.state == jobs.DONE and job.result.ok, job.error
    assert job.result.identities.startswith("Identity run")

    mine.run()  # how it ended, shown once to the session that asked
    # the extract has a few bad rows: a warning naming them, never a green success
    assert not mine.success
    assert any("quarantined" in w.value and "Stored" in w.value for w in mine.warning)
    assert any(i.value.startswith("Identity run") for i in mine.info)
    assert "data_import_job" not in mine.session_state
    mine.run()
    assert not mine.success and not _following(mine)

    other.run()  # another session: a line on how the latest import ended
    assert any(c.startswith("The latest import (by analyst") for c in _captions(other))
    logged = audit_frame(connect(app_url), username="analyst", actions=("import",))
    assert logged["detail"].str.startswith(f"import {job.result.import_id}:").any()


def test_a_split_re_resolves_identities_in_the_background(app_url: str) -> None:
    top = pipeline.score(app_url, store=False).table.iloc[0]
    assert top["attendances_window"] > 1  # several rows joined: a join to split
    person = str(top["person_id"])
    at = _open("person", "analyst")
    next(t for t in at.text_input if t.label == "Find a person").input(person).run()
    next(s for s in at.selectbox if s.label == "Person").select(person).run()
    next(s for s in at.selectbox if s.label == "Purpose").select("Data quality").run()
    first = next(s for s in at.selectbox if s.label == "First row").value
    second = next(s for s in at.selectbox if s.label == "Second row").value
    next(t for t in at.text_area if t.label == "Reason for the split").input("Two brothers")
    next(b for b in at.button if b.label == "Split these rows").click().run()
    assert not at.exception
    job_id = at.session_state["person_identity_job"]
    job = jobs.runner().wait(job_id, timeout=300)
    assert job.state == jobs.DONE and job.result.run_id is not None, job.error
    at.run()
    assert any("re-resolved" in s.value for s in at.success)
    engine = connect(app_url)
    decided = audit_frame(engine, username="analyst", actions=("identity_decision",))
    assert list(decided["detail"]) == [f"not_same {first} {second}"]
    person_of = assignments(engine).set_index("row_key")["person_id"]
    assert person_of[first] != person_of[second]
    engine.dispose()


def test_the_backtest_runs_as_a_job_and_settings_show_their_help(app_url: str) -> None:
    at = _open("tuning", "analyst")
    help_text = setting_descriptions()
    window = next(n for n in at.number_input if n.label == "Window days")
    assert window.help == help_text["windows.window_days"]
    assert all(n.help for n in at.number_input)  # every setting explains itself
    next(t for t in at.toggle if t.label == "Show the backtest capture curve").set_value(True)
    at.run()
    assert not at.exception
    job = jobs.runner().latest("backtest", app_url)
    assert job is not None
    jobs.runner().wait(job.id, timeout=300)
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2, "the capture curve is drawn once the job is done"
    at.run()  # the same settings on the same data: the same job, its result kept
    assert jobs.runner().latest("backtest", app_url).id == job.id


def test_the_marac_check_uses_the_settings_in_force(app_url: str) -> None:
    engine = connect(app_url)
    settings = default_settings().with_changes(
        {"windows": {"marac_repeat_days": 180}}, name="short repeat window", version="1"
    )
    save_settings_version(engine, settings)
    # a saved version is a draft until a second person approves it
    decide_settings_version(engine, "short repeat window", "1", approve=True, by="admin",
                            role="admin", reason="a shorter window for the test")  # fmt: skip
    engine.dispose()
    at = _open("marac", "chair")
    next(s for s in at.selectbox if s.label == "Purpose").set_value("MARAC meeting").run()
    at.radio[0].set_value("Either")
    next(t for t in at.text_input if t.label == "Search").input("Smith")
    next(b for b in at.button if b.label == "Search").click()
    at.run()
    assert not at.exception
    said: list[str] = []
    people = next(s for s in at.selectbox if s.label == "Person").options
    for person in people[:20]:  # until someone linked to a perpetrator is shown
        next(s for s in at.selectbox if s.label == "Person").set_value(person.split()[-1][1:-1])
        at.run()
        said = [m.value for m in at.markdown if "SafeLives repeat status" in m.value]
        if said:
            break
    assert said and all("within 180 days of the pair's last referral" in m for m in said)
