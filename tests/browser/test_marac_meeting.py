"""A MARAC chair's meeting in Chromium, against ``adapt app`` on the demo
force (the session's ``app`` fixture): the chair signs in and lands on MARAC
check, builds the meeting list (the last meeting four weeks before the latest
data, the default), downloads it as CSV and as a PDF to print (both audited),
and opens a victim's page from the list, which asks a purpose first. Neither
page has a serious or critical axe-core violation.

Tables are canvases: the journey reads headings, metrics and the summary
sentence, and acts through labelled widgets. Screenshots:
``test-output/screenshots/marac_meeting-NN-*.png`` and ``/tmp/shots/marac_*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from adapt.db import connect
from adapt.db.app_store import audit_frame
from tests.browser.conftest import menu

if TYPE_CHECKING:
    from tests.browser.conftest import Journey

MAIN = '[data-testid="stMain"]'
SHOTS = Path("/tmp/shots")


def _shot(j: Journey, name: str) -> None:
    j.shot(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    j.page.screenshot(path=str(SHOTS / f"marac_{name}.png"), full_page=True)


def _scrolled_shot(j: Journey, text: str, name: str) -> None:
    j.page.locator(MAIN).get_by_text(text, exact=True).first.scroll_into_view_if_needed()
    j.page.wait_for_timeout(300)  # tables draw as they come into view
    _shot(j, name)


def _metric(j: Journey, label: str) -> int:
    metric = j.page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().strip())


def _download(j: Journey, label: str, folder: Path) -> Path:
    button = j.page.locator('[data-testid="stDownloadButton"]').filter(has_text=label).first
    with j.page.expect_download() as info:
        button.get_by_role("button").click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    j.settle()
    return target


def test_a_chair_prepares_the_meeting_and_opens_a_victim(journey: Journey, tmp_path: Path) -> None:
    j = journey
    j.open()
    j.sign_in("chair")
    assert j.nav_items() == menu("marac_chair")
    j.heading("MARAC check")  # a chair lands on MARAC check
    j.assert_no_app_error()
    _shot(j, "landing")

    j.choose("Purpose", "MARAC meeting")
    j.page.get_by_role("tab", name="Meeting list").click()
    j.settle()
    j.click("Build the meeting list")
    j.page.locator(f"{MAIN} h3").filter(has_text="Meeting list for").first.wait_for()
    j.assert_no_app_error()
    text = j.main_text()
    assert re.search(r"since the last meeting on \d\d/\d\d/\d{4}: \d+ cases?", text), text[:800]
    repeats = _metric(j, "Cases with a repeat")
    assert repeats > 0 and _metric(j, "Perpetrators with several referred victims") > 0
    for word in ("None", "nan", "NaT", "late_flag"):
        assert not re.search(rf"\b{word}\b", text), word
    _shot(j, "meeting_list")
    _scrolled_shot(j, "Perpetrators linked to more than one referred victim", "meeting_sections")
    _scrolled_shot(j, "Export or print the list", "meeting_export")
    j.assert_accessible("the MARAC meeting list")

    csv = _download(j, "Download CSV", tmp_path).read_bytes().decode("utf-8-sig")
    assert csv.startswith("section,victim,victim_id,perpetrator,perpetrator_id")
    assert csv.count("SafeLives repeat since the last meeting") == repeats
    pdf = _download(j, "Download PDF to print", tmp_path).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    engine = connect(j.app.db_url)
    try:
        logged = audit_frame(engine, username="chair", actions=("marac_meeting_list",))
    finally:
        engine.dispose()
    details = set(logged["detail"])
    assert any(d.startswith("CSV: meeting ") for d in details)
    assert any(d.startswith("PDF: meeting ") for d in details)
    assert logged["person_id"].notna().sum() > repeats  # everyone listed, when it was drawn
    _shot(j, "downloaded")

    victim = j.choose("Open a victim's page")
    victim_id = re.search(r"\(([^()]*)\)\s*$", victim).group(1)  # type: ignore[union-attr]
    j.heading("Victim")
    assert "Choose a purpose to open the record" in j.main_text()
    _shot(j, "victim_purpose")
    j.choose("Purpose", "MARAC meeting")
    j.page.locator(f"{MAIN} h2").filter(has_text=victim_id).first.wait_for()
    j.page.locator(f"{MAIN} h3").filter(has_text="Each perpetrator's other victims").wait_for()
    j.assert_no_app_error()
    text = j.main_text()
    assert re.search(r"\d+ incidents? as a victim", text), text[:800]
    for word in ("None", "nan", "NaT"):
        assert not re.search(rf"\b{word}\b", text), word
    _shot(j, "victim_page")
    _scrolled_shot(j, "Perpetrators", "victim_perpetrators")
    _scrolled_shot(j, "Each perpetrator's other victims", "victim_others")
    j.assert_accessible("a victim's page")
    j.finish()
