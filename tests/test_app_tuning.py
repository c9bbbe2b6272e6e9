"""The Tuning page in Streamlit's AppTest (issue 12): a save is a draft that a
second person approves, seeing its cohort difference against the live
version; the editors start again after a save; a reused name and version is
refused; a hostile JSON box is a message, not a crash.

Against a small generated database built once per module, on SQLite and,
when configured, PostgreSQL. The tests share it, so each uses its own
settings names and reads the live version rather than assuming it."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from adapt.core.settings import Settings, default_settings
from adapt.db import connect, load_extract
from adapt.db.accounts import ensure_demo_users
from adapt.db.app_store import audit_frame
from adapt.db.settings_store import live_settings, save_settings_version, settings_json
from adapt.identity.runner import resolve_database
from adapt.services.session import USER_KEY
from adapt.synthetic import GeneratorConfig, generate

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 90


@pytest.fixture(scope="module")
def tuning_db(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A resolved database of a small synthetic force (about 2.5 years)."""
    from adapt.contract import read_extract

    folder = tmp_path_factory.mktemp("extract")
    generate(folder, GeneratorConfig(seed=5, incidents=700, years=2.5))
    engine = connect(module_db_url)
    load_extract(engine, read_extract(folder))
    resolve_database(engine)
    # the demo's user names, not its password (the app refuses that on PostgreSQL)
    ensure_demo_users(engine, password=f"tuning-{uuid.uuid4().hex}")
    engine.dispose()
    return module_db_url


@pytest.fixture
def db(tuning_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ADAPT_DATABASE_URL", tuning_db)
    return tuning_db


def _tuning(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    at.run()
    at.switch_page("app_pages/tuning.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Tuning"], _said(at.error)
    return at


def _said(elements) -> list[str]:  # type: ignore[no-untyped-def]
    """What the elements show (their Markdown with the escapes of text taken out)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in elements]


def _live(url: str) -> Settings:
    engine = connect(url)
    try:
        return live_settings(engine)[0]
    finally:
        engine.dispose()


def _stored(url: str, name: str, version: str) -> Settings | None:
    engine = connect(url)
    try:
        text = settings_json(engine, name, version)
    finally:
        engine.dispose()
    return Settings.from_json(text) if text else None


def _save(at: AppTest, name: str, version: str, reason: str = "test") -> None:
    next(t for t in at.text_input if t.label == "Name").input(name)
    next(t for t in at.text_input if t.label == "Version").input(version)
    next(t for t in at.text_area if t.label == "Reason (required)").input(reason)
    next(b for b in at.button if b.label == "Save settings").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def _gravity_weight(at: AppTest):  # type: ignore[no-untyped-def]
    return next(n for n in at.number_input if n.label == "Gravity weight")


def _draft_by(url: str, name: str, author: str, **cohort: float) -> None:
    engine = connect(url)
    try:
        save_settings_version(
            engine,
            default_settings().with_changes(
                {"cohort": cohort}, name=name, version="1", author=author, reason="wider cohort"
            ),
        )
    finally:
        engine.dispose()


def test_a_save_is_a_draft_and_the_editors_start_again(db: str) -> None:
    live = _live(db)
    at = _tuning("analyst")
    assert any("Live settings (used by every page)" in said for said in _said(at.info))
    _gravity_weight(at).set_value(live.gravity.weight + 1.5)
    at.run()
    _save(at, "carry over", "1")
    assert any("Saved carry over v1 as a draft" in said for said in _said(at.success))
    # the edit is in the draft, and the draft is not live
    assert _stored(db, "carry over", "1").gravity.weight == live.gravity.weight + 1.5
    assert _live(db) == live
    # the editors start again from their base: the next save does not carry the edit
    assert _gravity_weight(at).value == live.gravity.weight
    _save(at, "carry over", "2")
    assert _stored(db, "carry over", "2").gravity.weight == live.gravity.weight
    listed = at.dataframe[0].value
    assert set(listed.loc[listed["name"] == "carry over", "status"]) == {"draft"}


def test_a_reused_name_and_version_is_refused_in_the_page(db: str) -> None:
    at = _tuning("analyst")
    _save(at, "unique", "1")
    assert not at.error
    _save(at, "unique", "1")
    assert any("'unique' version '1' is already saved" in said for said in _said(at.error))
    packaged = default_settings()
    _save(at, packaged.name, packaged.version)
    assert any("packaged defaults" in said for said in _said(at.error))
    assert _stored(db, packaged.name, packaged.version) is None


def test_an_approver_sees_the_cohort_difference_and_approves(db: str) -> None:
    _draft_by(db, "wider", "analyst", min_attendances=1, min_score=0.0)
    at = _tuning("admin")
    at.selectbox(key="approve_pick").set_value("wider v1").run()
    assert not at.exception
    enter = next(m for m in at.metric if m.label == "Would enter")
    assert int(enter.value) > 0, "the draft widens the cohort: someone enters"
    entering = next(d.value for d in at.dataframe if "rank_draft" in d.value.columns)
    assert len(entering) == min(int(enter.value), 500)
    assert any("wider cohort" in said for said in _said(at.caption)), "the author's reason is shown"
    approve = next(b for b in at.button if b.label == "Approve (it becomes live)")
    approve.click().run()
    assert any("give a reason" in said for said in _said(at.error)), "a reason is required"
    assert _live(db).cohort.min_attendances != 1
    at.text_area(key="approve_reason").input("checked who enters")
    next(b for b in at.button if b.label == "Approve (it becomes live)").click().run()
    assert not at.exception
    assert any("Approved wider v1. It is now live." in said for said in _said(at.success))
    assert _live(db).cohort.min_attendances == 1
    assert any("approved version 'wider' v1, approved by admin" in said for said in _said(at.info))
    engine = connect(db)
    entries = audit_frame(engine, username="admin", actions=("settings_approved",))
    engine.dispose()
    assert "wider v1: checked who enters" in set(entries["detail"])


def test_the_author_cannot_approve_their_own_draft_but_another_can_reject(db: str) -> None:
    _draft_by(db, "own", "analyst", min_attendances=9)
    at = _tuning("analyst")
    at.selectbox(key="approve_pick").set_value("own v1").run()
    assert any("You saved this draft" in said for said in _said(at.warning))
    assert not [b for b in at.button if b.label.startswith("Approve")]
    at = _tuning("admin")
    at.selectbox(key="approve_pick").set_value("own v1").run()
    at.text_area(key="approve_reason").input("too narrow")
    next(b for b in at.button if b.label == "Reject").click().run()
    assert any("Rejected own v1." in said for said in _said(at.success))
    assert _live(db).cohort.min_attendances != 9


def test_a_hostile_bands_box_is_a_message_not_a_crash(db: str) -> None:
    at = _tuning("analyst")
    box = next(t for t in at.text_area if t.label == "Gravity bands (JSON)")
    for text, message in (
        ("[" * 100_000, "nested too deeply"),
        ('[{"at_least": ' + "9" * 5000 + ', "points": 1}]', "too long"),
        ('[{"at_least": Infinity, "points": 1}]', "Infinity is not allowed"),
    ):
        box.input(text).run()
        assert not at.exception, [e.message for e in at.exception]
        assert any("gravity.bands" in e and message in e for e in _said(at.error))
        box = next(t for t in at.text_area if t.label == "Gravity bands (JSON)")
