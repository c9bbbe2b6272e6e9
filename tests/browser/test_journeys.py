"""The main journeys, in Chromium, against ``adapt app`` on the demo force.

Each journey saves screenshots to ``test-output/screenshots/<journey>-NN-<step>.png``
and ends by asserting that no request left the machine and no JavaScript
error was raised. Tables drawn by ``st.dataframe`` are canvases: journeys act
through the labelled widgets (selectboxes, forms) and read captions, headings
and messages, never table cells.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from adapt.services import imports
from tests.browser.conftest import menu, open_options

if TYPE_CHECKING:
    from tests.browser.conftest import Journey

DEMO_EXTRACT = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "demo"

MAIN = '[data-testid="stMain"]'


def _alerts(j: Journey, kind: str) -> list[str]:
    """Texts of the st.success / st.error / st.info / st.warning boxes shown."""
    return j.page.locator(f'{MAIN} [data-testid="stAlertContent{kind}"]').all_inner_texts()


def test_sign_in(journey: Journey) -> None:
    j = journey
    j.open()
    j.heading("ADAPT — sign in")
    assert j.nav_items() == [], "the menu must not show before sign-in"
    j.shot("sign-in-page")

    j.sign_in("officer", "not-the-password")
    assert any("wrong password" in t for t in _alerts(j, "Error")), j.main_text()
    j.shot("wrong-password")

    j.sign_in("officer")
    assert j.nav_items() == menu("iom_officer")
    j.heading("Cohort")
    sidebar = j.page.locator('[data-testid="stSidebar"]').inner_text()
    assert "IOM / ADAPT officer" in sidebar
    j.assert_no_app_error()
    j.shot("signed-in")

    j.page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    j.settle()
    j.heading("ADAPT — sign in")
    j.shot("signed-out")
    j.finish()


def test_cohort_open_person_and_adopt(journey: Journey) -> None:
    j = journey
    j.open()
    j.sign_in("officer")
    j.heading("Cohort")
    caption = j.main_text()
    assert re.search(r"\d+ in the cohort of \d+ people", caption), caption[:500]
    assert re.search(r"\d+ people shown", caption)
    j.assert_no_app_error()
    j.shot("cohort")

    # open a person from the list
    picked = j.choose("Open a person")
    person_id = re.search(r"\(([^()]*)\)\s*$", picked)
    assert person_id, picked
    person_id = person_id.group(1)
    j.heading("Person pathway")
    j.shot("person-opened")
    j.choose("Purpose", "Offender management")
    header = j.page.locator(f"{MAIN} h2").filter(has_text=person_id)
    header.first.wait_for()
    j.assert_no_app_error()
    j.shot("person-pathway")

    # back to the cohort: adopting needs a reason
    j.go("Cohort")
    form = j.page.locator('[data-testid="stForm"]').filter(has_text="Reason")
    form.get_by_role("button", name="Adopt", exact=True).click()
    j.settle()
    assert any("reason is required" in t for t in _alerts(j, "Error")), j.main_text()[-800:]
    j.shot("adopt-without-reason")

    box = form.locator('[data-testid="stSelectbox"]').first
    open_options(box, j.page)
    j.page.locator('[role="option"]').filter(has_text=person_id).first.click()
    form.get_by_role("textbox", name="Reason").fill("Browser test: escalating, three victims.")
    j.shot("adopt-filled")
    form.get_by_role("button", name="Adopt", exact=True).click()
    j.settle()
    assert any(f"{person_id} adopted" in t for t in _alerts(j, "Success")), j.main_text()[:800]
    j.assert_no_app_error()
    j.shot("adopted")
    j.finish()


def test_marac_check_and_pdf(journey: Journey, tmp_path: Path) -> None:
    j = journey
    j.open()
    j.sign_in("chair")
    assert j.nav_items() == menu("marac_chair")
    j.go("MARAC check")
    j.shot("marac")
    j.choose("Purpose", "MARAC meeting")  # no search without a purpose
    j.page.get_by_role("textbox", name="Search").fill("Taylor")
    j.click("Search")
    matches = j.page.locator(f"{MAIN} h3").filter(has_text="match(es)")
    matches.first.wait_for()
    j.assert_no_app_error()
    j.shot("results")
    j.choose("Person")  # among several matches the chair opens one check

    button = j.page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download PDF")
    button.first.wait_for()
    j.page.get_by_text("Summary for the meeting").scroll_into_view_if_needed()
    j.shot("summary")
    with j.page.expect_download() as info:
        button.first.get_by_role("button").click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.name.endswith(".pdf")
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 1000
    j.settle()
    j.shot("downloaded")
    j.finish()


def _metric(j: Journey, label: str) -> str:
    metric = j.page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_tuning_weight_changes_cohort(journey: Journey) -> None:
    j = journey
    j.open()
    j.sign_in("analyst")
    j.go("Tuning")
    assert _metric(j, "Entering") == "0" and _metric(j, "Leaving") == "0"
    size_before = _metric(j, "Cohort size")
    j.assert_no_app_error()
    j.shot("tuning")

    j.page.get_by_role("tab", name="Gravity", exact=True).click()
    weight = j.page.get_by_role("spinbutton", name="Gravity weight")
    old = float(weight.input_value())
    weight.fill(str(old * 4 if old else 5.0))
    weight.press("Enter")
    j.settle()
    j.shot("gravity-changed")
    changed = int(_metric(j, "Entering")) + int(_metric(j, "Leaving"))
    assert changed > 0, (
        f"a fourfold gravity weight moved nobody (cohort {size_before} -> "
        f"{_metric(j, 'Cohort size')})"
    )
    j.assert_no_app_error()
    j.finish()


def _bad_extract(folder: Path) -> str:
    """A small extract: ten demo incidents (unchanged in the database) with
    their people, and one new incident whose date does not exist."""
    folder.mkdir()
    inc = (DEMO_EXTRACT / "incidents.csv").read_text(encoding="utf-8").splitlines()
    header, rows = inc[0], inc[1:11]
    ids = {r.split(",", 1)[0] for r in rows}
    bad_id = "IR26-9999-000001"
    bad_date = "2026-02-30T10:00"
    fields = rows[0].split(",")
    bad = ",".join([bad_id, bad_date, *fields[2:]])
    (folder / "incidents.csv").write_text("\n".join([header, *rows, bad]) + "\n", encoding="utf-8")
    inv = (DEMO_EXTRACT / "involvements.csv").read_text(encoding="utf-8").splitlines()
    keep = [r for r in inv[1:] if r.split(",", 1)[0] in ids]
    (folder / "involvements.csv").write_text("\n".join([inv[0], *keep]) + "\n", encoding="utf-8")
    return bad_date


def test_import_bad_row_goes_to_quarantine(journey: Journey) -> None:
    j = journey
    # the app imports only from its import folder (the same environment as this process)
    folder = imports.import_root() / f"browser-bad-extract-{uuid.uuid4().hex[:8]}"
    try:
        _import_bad_extract(j, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _import_bad_extract(j: Journey, folder: Path) -> None:
    bad_date = _bad_extract(folder)
    j.open()
    j.sign_in("analyst")
    j.go("Data")
    j.shot("data")
    before = j.page.locator(f"{MAIN} [data-testid='stCaptionContainer']").filter(
        has_text="quarantined problem"
    )
    total_before = int(re.search(r"of (\d+) quarantined", before.first.inner_text()).group(1))

    j.page.get_by_role("textbox", name="Extract folder on the server").fill(str(folder))
    j.page.get_by_role("textbox", name="Extract folder on the server").press("Tab")
    j.settle()
    j.click("Import")
    # the import runs in the background; the page follows it and redraws when it
    # ends, saying what was rejected (a warning, not a green success)
    j.page.locator(f'{MAIN} [data-testid="stAlertContentWarning"]').filter(
        has_text="quarantined"
    ).first.wait_for()
    j.settle()
    assert not _alerts(j, "Success"), j.main_text()[:1500]
    j.assert_no_app_error()
    j.shot("imported")

    search = j.page.get_by_role("textbox", name="Search the quarantine")
    search.fill(bad_date)
    search.press("Enter")
    j.settle()
    caption = j.page.locator(f"{MAIN} [data-testid='stCaptionContainer']").filter(
        has_text="quarantined problem"
    )
    text = caption.first.inner_text()
    found = re.search(r"(\d+) of (\d+) quarantined", text)
    assert found, text
    assert int(found.group(1)) >= 1, f"the bad row is not in the quarantine: {text}"
    assert int(found.group(2)) > total_before, text
    j.page.locator(f"{MAIN} h2").filter(has_text="Quarantine").first.scroll_into_view_if_needed()
    j.shot("quarantine-found")
    j.finish()


def test_role_without_a_page_is_refused(journey: Journey) -> None:
    j = journey
    j.open()
    j.sign_in("chair")
    nav = j.nav_items()
    assert nav == menu("marac_chair"), nav
    j.shot("chair-menu")

    # the chair tries the cohort's address within the signed-in session
    j.page.evaluate(
        "() => { window.history.pushState({}, '', '/cohort');"
        " window.dispatchEvent(new PopStateEvent('popstate')); }"
    )
    j.settle()
    j.shot("chair-tries-cohort")
    assert not j.page.url.rstrip("/").endswith("/cohort"), j.page.url
    assert j.page.locator(f"{MAIN} h1").filter(has_text="Cohort").count() == 0
    assert "in the cohort of" not in j.main_text()

    # an officer may open the MARAC check but not produce the meeting PDF
    j.page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    j.settle()
    j.sign_in("officer")
    j.go("MARAC check")
    j.choose("Purpose", "Offender management")
    j.page.get_by_role("textbox", name="Search").fill("Taylor")
    j.click("Search")
    j.choose("Person")
    j.page.get_by_text("Your role cannot generate the meeting summary").wait_for()
    assert j.page.locator('[data-testid="stDownloadButton"]').count() == 0
    j.shot("officer-refused-pdf")
    j.finish()
