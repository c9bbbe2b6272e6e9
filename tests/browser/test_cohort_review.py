"""An IOM officer's four-weekly review in Chromium (issue 14, item 1): the
Cohort page opens on "Since the last review"; with no review stored it says
so and offers one; with the review of four weeks ago it lists who entered and
left, new alerts and the rest, each group with names and reasons; a row of a
group opens the person; a date typed into "As of" applies on Enter.
Screenshots to ``test-output/screenshots/cohort_review-*.png`` and
``/tmp/shots/cohort_review.png``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from adapt import pipeline
from adapt.core.settings import default_settings
from adapt.db import connect

if TYPE_CHECKING:
    from tests.browser.conftest import Journey

MAIN = '[data-testid="stMain"]'
SHOTS = Path("/tmp/shots")


def _latest_incident(db_url: str) -> date:
    engine = connect(db_url)
    try:
        with engine.connect() as conn:
            latest = conn.execute(text("SELECT max(occurred_at) FROM incidents")).scalar_one()
    finally:
        engine.dispose()
    return date.fromisoformat(str(latest)[:10])


def _reviews(db_url: str) -> int:
    engine = connect(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM reviews")).scalar_one())
    finally:
        engine.dispose()


def test_cohort_review(journey: Journey) -> None:
    j = journey
    latest = _latest_incident(j.app.db_url)
    j.open()
    j.sign_in("officer")
    j.heading("Cohort")
    since = j.page.locator(f"{MAIN} h2").filter(has_text="Since the last review")
    since.first.wait_for()
    body = j.main_text()
    # the page opens on the review, before the ranked list
    assert body.index("Since the last review") < body.index("Ranked cohort")
    if _reviews(j.app.db_url) == 0:
        assert "No review of the cohort is stored yet" in body, body[:800]
        assert j.button(f"Create a review as of {latest:%d %b %Y}").count() == 1
        j.shot("no-review-yet")

    # the review four weeks ago, as `adapt review --as-of` makes it
    four_weeks = latest - timedelta(days=28)
    pipeline.review(j.app.db_url, as_of=four_weeks, settings=default_settings(),
                    username="officer")  # fmt: skip
    j.go("Cohort")
    summary = j.page.locator(f"{MAIN} p").filter(has_text="From the review as of")
    summary.first.wait_for()
    said = summary.first.inner_text()
    assert f"{four_weeks:%d %b %Y}" in said and f"{latest:%d %b %Y}" in said, said
    counts = dict(re.findall(r"(\d+) (entered the cohort|left it|new alerts?)", said))
    assert counts, said
    groups = j.page.locator(f'{MAIN} [data-testid="stExpander"] summary').all_inner_texts()
    titles = [g.strip().splitlines()[-1] for g in groups]
    assert any(t.startswith("Entered the cohort (") for t in titles), titles
    assert any(t.startswith("New alerts (") for t in titles), titles
    alerts = int(re.search(r"New alerts \((\d+)\)", " ".join(titles)).group(1))
    assert alerts > 0, titles
    j.assert_no_app_error()
    j.page.locator(f'{MAIN} [data-testid="stExpander"]').first.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    j.page.screenshot(path=str(SHOTS / "cohort_review.png"), full_page=False)
    j.shot("since-the-last-review")
    j.assert_accessible("Cohort, since the last review")

    # a row of a group opens the person (the table is a canvas: click its first row)
    group = j.page.locator(f'{MAIN} [data-testid="stExpander"]').filter(has_text="New alerts (")
    group.first.scroll_into_view_if_needed()
    box = group.first.locator('[data-testid="stDataFrame"]').first.bounding_box()
    j.page.mouse.click(box["x"] + 16, box["y"] + 52)  # the selection box of the first row
    j.settle()
    j.heading("Person pathway")
    j.shot("person-from-a-group")
    j.go("Cohort")

    # a date typed into "As of" applies on Enter
    earlier = latest - timedelta(days=14)
    j.page.locator(f"{MAIN} h1").first.scroll_into_view_if_needed()
    day = j.page.get_by_role("spinbutton", name="day, As of")
    day.focus()
    j.page.keyboard.type(f"{earlier.day:02d}")
    month = j.page.get_by_role("spinbutton", name="month, As of")
    month.focus()
    j.page.keyboard.type(f"{earlier.month:02d}")
    j.page.keyboard.press("Enter")
    j.settle()
    j.page.locator(f"{MAIN}").get_by_text(f"up to {earlier:%d %b %Y}").first.wait_for()
    j.shot("as-of-applied")
    j.assert_no_app_error()
    j.finish()
