"""WCAG 2.2 AA in Chromium, as GOV.UK services test it (issue 14, item 5).

* axe-core (``axe-playwright-python`` ships its rules: nothing is fetched)
  runs on the sign-in page and on every page of every role's menu, taken from
  ``adapt.core.access.pages_for`` so a page added to a role is checked as it
  lands, and on a person's record and a MARAC search with their results; any
  serious or critical violation fails, with the rule and the elements named.
* The keyboard alone signs in and reaches the Cohort page, its table and a
  person's record: Tab, typing, arrows and Enter; no mouse.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from adapt.core.access import PAGES, ROLES, pages_for
from tests.browser.conftest import FAILING_IMPACTS, USERS, describe_violations, menu

if TYPE_CHECKING:
    from tests.browser.conftest import Journey

MAIN = '[data-testid="stMain"]'
USER_OF_ROLE = {role: user for user, role in USERS.items()}

# what has the keyboard's focus: its tag, id, label and the test id around it
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) return null;
  const around = e.closest('[data-testid]');
  return {tag: e.tagName, id: e.id, label: e.getAttribute('aria-label') || '',
          role: e.getAttribute('role') || '',
          testid: around ? around.getAttribute('data-testid') : '',
          text: (e.innerText || '').slice(0, 80)};
}"""


def _failing(j: Journey) -> list[dict]:
    return [v for v in j.accessibility() if v["impact"] in FAILING_IMPACTS]


def test_the_sign_in_page(journey: Journey) -> None:
    j = journey
    j.open()
    j.heading("ADAPT — sign in")
    j.assert_accessible("the sign-in page")
    j.shot("sign-in")
    j.sign_in("officer", "not-the-password")  # the page with its error message
    j.assert_accessible("the sign-in page after a wrong password")
    j.shot("sign-in-refused")
    j.finish()


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_every_role(journey: Journey, role: str) -> None:
    j = journey
    j.open()
    j.sign_in(USER_OF_ROLE[role])
    assert j.nav_items() == menu(role)
    found: dict[str, list[dict]] = {}
    for k, page in enumerate(pages_for(role)):
        if k:  # the first page is where the role lands
            j.go(PAGES[page])
        else:
            j.heading(PAGES[page])
        j.assert_no_app_error()
        found[page] = _failing(j)
        j.shot(page)
    failing = {page: v for page, v in found.items() if v}
    assert failing == {}, "\n".join(
        describe_violations(f"{ROLES[role]} on {PAGES[page]}", v) for page, v in failing.items()
    )
    j.finish()


def test_a_person_record_and_a_marac_search(journey: Journey) -> None:
    """The pages with the most drawn on them: a record opened, every tab of
    it (its charts), and the MARAC check's results."""
    j = journey
    j.open()
    j.sign_in("admin")
    j.go("Cohort")
    j.choose("Open a person")
    j.heading("Person pathway")
    j.choose("Purpose", "Offender management")
    j.page.locator(f"{MAIN} h2").first.wait_for()
    j.settle()
    j.assert_no_app_error()
    j.shot("person-record")
    person = _failing(j)
    tabs = j.page.locator(f'{MAIN} [role="tab"]')
    for k in range(1, tabs.count()):  # each tab of the record (its charts are in them)
        tabs.nth(k).click()
        j.settle()
        j.assert_no_app_error()
        person += _failing(j)
    j.shot("person-last-tab")

    j.go("MARAC check")
    j.choose("Purpose", "MARAC meeting")
    j.page.get_by_role("textbox", name="Search").fill("Taylor")
    j.click("Search")
    j.page.locator(f"{MAIN} h3").filter(has_text="match(es)").first.wait_for()
    j.assert_no_app_error()
    j.shot("marac-results")
    marac = _failing(j)
    assert person == [] and marac == [], "\n".join(
        [describe_violations("a person's record", person),
         describe_violations("MARAC search results", marac)]
    )  # fmt: skip
    j.finish()


# ------------------------------------------------------------- keyboard alone
def _focused(j: Journey) -> dict:
    return j.page.evaluate(FOCUSED) or {}


def _tab_to(j: Journey, wanted, what: str, limit: int = 60) -> dict:  # type: ignore[no-untyped-def]
    """Press Tab until ``wanted(focused)``; fail naming the stops on the way."""
    stops = []
    for _ in range(limit):
        j.page.keyboard.press("Tab")
        now = _focused(j)
        if wanted(now):
            return now
        stops.append(f"{now.get('tag')}#{now.get('id')} {now.get('label')} [{now.get('testid')}]")
    raise AssertionError(f"Tab never reached {what}; the stops were: {stops}")


def test_sign_in_and_open_a_person_by_keyboard_alone(journey: Journey) -> None:
    j = journey
    page, keys = j.page, j.page.keyboard
    j.open()
    _tab_to(j, lambda f: f.get("id") == "adapt-username", "the username field")
    keys.type("officer")
    keys.press("Tab")
    assert _focused(j).get("id") == "adapt-password"
    keys.type("demo")
    with page.expect_navigation():
        keys.press("Enter")
    page.locator('[data-testid="stSidebarNav"]').wait_for()
    j.settle()
    j.heading("Cohort")
    j.shot("signed-in")

    # the table: Tab reaches the grid (past its toolbar), an arrow moves to a
    # row, and Shift+Space selects the row, which opens that person's record
    _tab_to(j, lambda f: f.get("testid") == "data-grid-canvas", "the cohort table")
    j.shot("table-focused")
    keys.press("ArrowDown")
    page.wait_for_function(  # the grid moves the focus to the cell a moment later
        "() => document.activeElement?.getAttribute('role') === 'gridcell'", timeout=10_000
    )
    keys.press("Shift+Space")
    j.settle()
    j.heading("Person pathway")
    j.shot("person-opened")

    # the record is opened with a purpose, chosen from its list by keyboard
    _tab_to(j, lambda f: f.get("label") == "Purpose", "the purpose list")
    keys.type("Offender")
    keys.press("Enter")
    j.settle()
    header = page.locator(f"{MAIN} h2").first
    header.wait_for()
    assert re.search(r"\([^()]+\)", header.inner_text()), header.inner_text()
    j.shot("person-record")
    j.finish()
