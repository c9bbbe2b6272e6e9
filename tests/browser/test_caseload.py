"""An IOM officer's caseload in Chromium, against ``adapt app`` on the demo
force (the session's ``app`` fixture): the officer signs in, opens Caseload,
sees the plan reviews due and overdue, and ends one management with an exit
state and a reason; the page has no serious or critical axe-core violation.

Two people in the cohort are adopted by "officer" 40 days ago (written to the
session's database first, as the Cohort page would), so their plan review
(every 28 days) is 12 days overdue. Tables are canvases: the journey reads the
summary sentence, headings and messages, and acts through the labelled form.
Screenshots: ``test-output/screenshots/caseload-NN-*.png`` and
``/tmp/shots/caseload.png``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import update

from adapt.db import app_store, connect
from adapt.db.models import cohort_decisions
from adapt.db.scores import latest_score_run, score_run_frame
from tests.browser.conftest import menu, open_options

if TYPE_CHECKING:
    from tests.browser.conftest import App, Journey

MAIN = '[data-testid="stMain"]'
SHOT = Path("/tmp/shots/caseload.png")


def _adopt_two(app: App) -> list[str]:
    engine = connect(app.db_url)
    try:
        run = score_run_frame(engine, latest_score_run(engine)["id"])
        people = run.loc[run["in_cohort"], "person_id"].tail(2).tolist()
        for person in people:
            app_store.record_decision(
                engine, person_id=person, decision="adopted", author="officer",
                reason="Browser test: caseload", as_of=date(2026, 6, 30),
                settings_name="default", settings_version="1", snapshot={"score": 40.0},
            )  # fmt: skip
        with engine.begin() as conn:  # recorded 40 days ago: the review is overdue
            conn.execute(
                update(cohort_decisions)
                .where(cohort_decisions.c.person_id.in_(people))
                .values(decided_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=40))
            )
    finally:
        engine.dispose()
    return people


def _alerts(j: Journey, kind: str) -> list[str]:
    return j.page.locator(f'{MAIN} [data-testid="stAlertContent{kind}"]').all_inner_texts()


def test_caseload(journey: Journey, app: App) -> None:
    people = _adopt_two(app)
    j = journey
    j.open()
    j.sign_in("officer")
    assert "Caseload" in menu("iom_officer") and "Caseload" in j.nav_items()
    j.go("Caseload")
    j.assert_no_app_error()
    text = j.main_text()
    summary = re.search(r"You manage (\d+) (?:people|person): (\d+) plan reviews? overdue", text)
    assert summary, text[:800]
    managed, overdue = int(summary.group(1)), int(summary.group(2))
    assert managed >= 2 and overdue >= 2, summary.group(0)
    for heading in ("Plan reviews due and overdue", "People managed", "End management",
                    "Outcomes across the cohort"):  # fmt: skip
        assert heading in text
    assert "not a causal estimate" in text
    for word in ("None", "nan", "NaT"):
        assert not re.search(rf"\b{word}\b", text), word
    j.assert_accessible("caseload")
    j.shot("caseload")

    # end one management: moved away, with a reason
    form = j.page.locator('[data-testid="stForm"]').filter(has_text="Exit state")
    box = form.locator('[data-testid="stSelectbox"]').first
    open_options(box, j.page)
    j.page.locator('[role="option"]').filter(has_text=people[0]).first.click()
    form.get_by_text("Moved away", exact=True).click()
    form.get_by_role("textbox", name="Reason (required)").fill("Moved out of the force area")
    j.shot("end-filled")
    form.get_by_role("button", name="End management", exact=True).click()
    j.settle()
    assert any("ended (moved away)" in t for t in _alerts(j, "Success")), j.main_text()[:800]
    assert f"You manage {managed - 1} " in j.main_text()
    j.assert_no_app_error()
    j.shot("ended")  # the message shows by the form, where the officer is
    j.page.locator(f"{MAIN} h2").filter(
        has_text="Outcomes across the cohort"
    ).first.scroll_into_view_if_needed()
    j.shot("ended-and-outcome")
    j.page.locator(f"{MAIN} h1").first.scroll_into_view_if_needed()
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    j.page.screenshot(path=str(SHOT), full_page=True)  # the caseload after the ending

    engine = connect(app.db_url)
    try:
        latest = app_store.decisions_frame(engine, people[0]).iloc[0]
        assert (latest["decision"], latest["exit_state"]) == ("ended", "moved away")
        audit = app_store.audit_frame(engine, person_id=people[0], actions=("management_ended",))
        assert audit["username"].tolist() == ["officer"]
    finally:
        engine.dispose()
    j.finish()
