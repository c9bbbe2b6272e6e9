"""Downloads, table toolbars and hostile names in Chromium (issue 12).

* Nothing of a file reaches the browser before the click: with the page drawn
  and a purpose chosen, no ``/media/`` address has been sent over the
  websocket, linked in the page or requested. The click makes the server
  write the audit row, then build the file.
* The quarantine and audit-log downloads likewise have no address before the
  click, so a client that never signed in has nothing it could fetch.
* Tables show no "Download as CSV" in their toolbar.
* A surname such as ``![t](http://127.0.0.1:9/x.png)`` is drawn as text on
  the Person pathway and the MARAC check: no request to that address, no
  image or link made from it.

The session's demo database holds one small extra extract (people with
hostile surnames, one bad row for the quarantine): see ``conftest.app``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from adapt.db import app_store, connect
from tests.browser.conftest import BAD_DATE, open_options
from tests.test_app_privacy import HOSTILE

if TYPE_CHECKING:
    from tests.browser.conftest import App, Journey

MAIN = '[data-testid="stMain"]'
CSV_BUTTON = '[data-testid="stElementToolbar"] button[aria-label="Download as CSV"]'
JOINER = "\u2060"


@pytest.fixture(scope="module")
def hostile(app: App) -> App:
    """The session's app: its database holds the hostile people and the bad row."""
    return app


@dataclass
class Wire:
    """What the browser received over the websocket and asked for over HTTP."""

    frames: list[bytes] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("request", lambda request: self.requests.append(request.url))

    def _frame(self, payload: bytes | str) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def media(self) -> list[str]:
        """Every /media/ address sent in a frame or requested so far."""
        asked = [u for u in self.requests if urlparse(u).path.startswith("/media/")]
        sent = [f"(a frame) {f[:80]!r}" for f in self.frames if b"/media/" in f]
        return asked + sent


def _toolbar(j: Journey) -> None:
    """Hover the first table until its toolbar shows (its search button)."""
    j.page.locator(f"{MAIN} [data-testid='stDataFrame']").first.hover()
    j.page.locator('[data-testid="stElementToolbar"] button[aria-label="Search"]').first.wait_for()


def _media_links(j: Journey) -> list[str]:
    hrefs = j.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    return [h for h in hrefs if urlparse(h).path.startswith("/media/")]


def _entries(app: App, username: str, action: str) -> list[dict]:
    engine = connect(app.db_url)
    try:
        frame = app_store.audit_frame(engine, username=username, actions=(action,))
        return frame.to_dict("records")
    finally:
        engine.dispose()


def _download(j: Journey, label: str, target: Path) -> bytes:
    button = j.page.locator('[data-testid="stDownloadButton"]').filter(has_text=label).first
    with j.page.expect_download() as info:
        button.get_by_role("button").click()
    info.value.save_as(target)
    j.settle()
    return target.read_bytes()


@pytest.fixture
def wire(journey: Journey) -> Iterator[Wire]:
    seen = Wire()
    seen.watch(journey.page)
    yield seen


def test_cohort_export_is_audited_on_the_click_and_tables_have_no_csv_button(
    hostile: App, journey: Journey, wire: Wire, tmp_path: Path
) -> None:
    j = journey
    j.open()
    j.sign_in("officer")
    j.heading("Cohort")
    # (c) the table's toolbar offers no download (hover shows the toolbar)
    _toolbar(j)
    assert not [b for b in j.page.locator(CSV_BUTTON).all() if b.is_visible()]
    j.choose("In cohort", "Any")  # a later run: the option itself is in force now
    _toolbar(j)
    assert j.page.locator(CSV_BUTTON).count() == 0
    j.shot("toolbar-without-download")

    # no button before a purpose; with one chosen, still no file and no address
    assert j.page.locator('[data-testid="stDownloadButton"]').count() == 0
    before = len(_entries(hostile, "officer", "export"))
    j.choose("Purpose of the export", "Offender management")
    j.page.locator('[data-testid="stDownloadButton"]').filter(
        has_text="Download CSV"
    ).first.wait_for()
    j.page.wait_for_timeout(1000)
    assert wire.media() == [] and _media_links(j) == []
    assert len(_entries(hostile, "officer", "export")) == before  # nothing built, nothing audited
    j.shot("purpose-chosen-no-file")

    # (a) the click: the server audits, then builds the file
    data = _download(j, "Download CSV", tmp_path / "cohort.csv")
    assert data.splitlines()[0].startswith(b"rank,") or b"person_id" in data.splitlines()[0]
    exports = _entries(hostile, "officer", "export")
    assert len(exports) == before + 1
    assert exports[0]["purpose"] == "Offender management"
    assert exports[0]["detail"].startswith("cohort CSV, ")
    assert wire.media(), "the file came from a /media/ address made on the click"
    j.assert_no_app_error()
    j.finish()


def test_quarantine_and_audit_downloads_have_no_address_before_the_click(
    hostile: App, journey: Journey, wire: Wire, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    j = journey
    j.open()
    j.sign_in("admin")
    j.go("Data")
    j.page.get_by_role("textbox", name="Search the quarantine").fill(BAD_DATE)
    j.page.get_by_role("textbox", name="Search the quarantine").press("Enter")
    j.settle()
    assert j.page.locator('[data-testid="stDownloadButton"]').count() == 0  # no purpose yet
    j.choose("Purpose of the export", "Data quality")
    j.page.locator('[data-testid="stDownloadButton"]').first.wait_for()
    j.go("Audit")
    assert j.page.locator('[data-testid="stDownloadButton"]').count() == 0
    j.choose("Purpose of the export", "Audit")
    j.page.locator('[data-testid="stDownloadButton"]').first.wait_for()
    j.page.wait_for_timeout(1000)
    # both pages drawn with a purpose: no address of either file exists yet
    assert wire.media() == [] and _media_links(j) == []
    j.shot("audit-purpose-chosen")

    # a client that never signed in: the sign-in page, and no address to fetch
    stranger = browser.new_context()
    try:
        page = stranger.new_page()
        seen = Wire()
        seen.watch(page)
        page.goto(hostile.base_url)
        page.get_by_role("textbox", name="Username").wait_for()
        assert seen.media() == []
    finally:
        stranger.close()

    before = len(_entries(hostile, "admin", "audit_export"))
    data = _download(j, "Download audit", tmp_path / "audit.csv")
    assert b"username" in data.splitlines()[0]
    entries = _entries(hostile, "admin", "audit_export")
    assert len(entries) == before + 1 and entries[0]["purpose"] == "Audit"
    # the file's address, made on the click, answers only this signed-in browser
    address = next(u for u in wire.media() if u.startswith("http"))
    assert j.page.context.request.get(address).status == 200
    stranger = browser.new_context()
    try:
        assert stranger.request.get(address).status == 404
    finally:
        stranger.close()
    j.assert_no_app_error()
    j.finish()


def _no_trace_of(j: Journey, hostile_requests: list[str]) -> None:
    """No request to the hostile addresses; no image, link or bold text made
    from a name in the page's main area."""
    assert hostile_requests == []
    images = j.page.eval_on_selector_all(f"{MAIN} img", "els => els.map(e => e.src)")
    assert [s for s in images if "x.png" in s or s.endswith("/x")] == []
    links = j.page.eval_on_selector_all(f"{MAIN} a", "els => els.map(e => e.href)")
    assert [h for h in links if "evil.example" in h or ":9/" in h] == []
    strong = j.page.eval_on_selector_all(f"{MAIN} strong", "els => els.map(e => e.innerText)")
    assert "bold" not in strong


def test_hostile_names_are_drawn_as_text(hostile: App, journey: Journey) -> None:
    j = journey
    hostile_requests: list[str] = []
    j.page.on(
        "request",
        lambda r: hostile_requests.append(r.url) if ":9/" in r.url or "evil" in r.url else None,
    )
    j.open()
    j.sign_in("chair")
    j.go("Person pathway")
    find = j.page.get_by_role("textbox", name="Find a person")
    find.fill("Hostile")
    find.press("Enter")
    j.settle()
    for k, surname in enumerate(HOSTILE):
        box = j.page.locator('[data-testid="stSelectbox"]').filter(has_text="Person").first
        options = open_options(box, j.page)
        options.filter(has_text=f"Hostile {surname}").first.click()
        j.settle()
        j.choose("Purpose", "Offender management")  # each record is opened with a purpose
        header = j.page.locator(f"{MAIN} h2").first
        header.wait_for()
        shown = header.inner_text().replace(JOINER, "")  # an invisible joiner breaks addresses
        assert shown.startswith(f"Hostile {surname} ("), shown
        _no_trace_of(j, hostile_requests)
        if k in (0, 1):
            j.shot(f"person-{k}")

    j.go("MARAC check")
    j.choose("Purpose", "MARAC meeting")
    for k, surname in enumerate(HOSTILE):
        j.page.get_by_role("textbox", name="Search").fill(f"HV{k:03d}")
        j.click("Search")
        header = j.page.locator(f"{MAIN} h2").first
        header.wait_for()
        shown = header.inner_text().replace(JOINER, "")
        assert shown.startswith(f"Victim {surname} ("), shown
        expander = j.page.locator(f"{MAIN} [data-testid='stExpander'] summary").first
        assert f"Perpetrator: Hostile {surname}" in expander.inner_text().replace(JOINER, "")
        _no_trace_of(j, hostile_requests)
        if k in (0, 1):
            j.shot(f"marac-{k}")
    j.page.wait_for_timeout(1000)  # an image would have been asked for by now
    assert hostile_requests == []
    j.assert_no_app_error()
    j.finish()
