"""Browser tests: Playwright driving Debian's Chromium against ``adapt app``.

Done the way Streamlit's own suite does them (see the field notes):

* one demo database per session, built in this process (the demo force and
  the hostile names of ``test_downloads``, resolved and scored together), and
  one ``adapt app`` on it, started here as a subprocess on a free loopback
  port and stopped afterwards;
* ``/_stcore/health`` is polled until it answers ``ok``;
* after every interaction the page is waited on until the script state is
  ``notRunning`` and no ``stSkeleton`` is left;
* every request that is not to 127.0.0.1/localhost is aborted and recorded,
  and each test asserts none happened (the app must work with no internet);
* each journey saves screenshots to ``test-output/screenshots/``;
* :meth:`Journey.accessibility` runs axe-core (shipped in the
  ``axe-playwright-python`` package: nothing is fetched) on the page as it is,
  for WCAG 2.2 A and AA and axe's best practices; a serious or critical
  violation fails the test that asks (:meth:`Journey.assert_accessible`).

Chromium is never downloaded: Debian's ``/usr/bin/chromium`` is used
(``.ci/run`` installs it). Without it, or without the ``playwright`` package,
the tests skip with the reason, unless ``ADAPT_REQUIRE_BROWSER=1`` (set by
``.ci/run``), when they fail instead.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

try:  # axe-core's rules, shipped in the package (the test extra)
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the browser fixture says what is missing
    Axe = None

from adapt import pipeline
from adapt.core.access import PAGES, pages_for
from adapt.db import accounts, connect
from tests.extracts import INCIDENT_HEADER, incident, write_csv
from tests.test_app_privacy import hostile_extract

ROOT = Path(__file__).resolve().parents[2]
DEMO_EXTRACT = ROOT / "data" / "synthetic" / "demo"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 60_000
PASSWORD = "demo"
# demo accounts (adapt.db.accounts.DEMO_USERS, made by `adapt demo`; the app
# makes none, so the fixture below adds them to its database): username -> role
USERS = {"officer": "iom_officer", "chair": "marac_chair", "analyst": "analyst", "admin": "admin"}

READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'

# the hostile people's extract gets one incident whose date does not exist (quarantined)
BAD_DATE = "2026-02-31T10:00"
# axe-core: WCAG 2.2 A and AA as GOV.UK services test it, and axe's best practices;
# a violation of these impacts fails
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
FAILING_IMPACTS = ("serious", "critical")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium against a running `adapt app` (runs in CI)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def menu(role: str) -> list[str]:
    """The menu a role sees, in order (``adapt.core.access``)."""
    return [PAGES[p] for p in pages_for(role)]


def _unavailable(reason: str) -> None:
    if os.environ.get("ADAPT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (ADAPT_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    found = os.environ.get("ADAPT_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(base_url: str, proc: subprocess.Popen | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"adapt app exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base_url} did not answer /_stcore/health within {timeout:.0f} s")


@dataclass
class App:
    base_url: str
    db_url: str
    workdir: Path
    log: Path


def start_app(
    db_url: str, log: Path, port: int | None = None, cwd: Path = ROOT
) -> tuple[subprocess.Popen, str]:
    """Start ``adapt app`` in a process group of its own (it starts streamlit as
    a child); return the process and the base URL once healthy. ``cwd`` is where
    Streamlit looks for ``.streamlit/secrets.toml`` (single sign-on)."""
    port = port or free_port()
    env = dict(os.environ)
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapt", "app", "--db", db_url, "--port", str(port)],
        cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_health(base, proc)
    except Exception:
        stop_app(proc)
        raise
    return proc, base


def stop_app(proc: subprocess.Popen) -> None:
    """Stop the process group this module started (``adapt app`` and its streamlit)."""
    try:  # the group, even if `adapt app` itself has gone: streamlit is its child
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def hostile_folder(folder: Path) -> Path:
    """The extract of people with hostile surnames (``tests.test_app_privacy``)
    and one incident with a date that does not exist, for the quarantine."""
    hostile_extract(folder)
    with (folder / "incidents.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows.append(incident(199, occurred_at=BAD_DATE))
    write_csv(folder / "incidents.csv", INCIDENT_HEADER, rows)
    return folder


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The demo force and the hostile people, loaded, resolved and scored (in
    this process: no second start of the CLI), served by ``adapt app``."""
    workdir = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{workdir / 'demo.sqlite'}"
    engine = connect(db_url)
    try:
        pipeline.load(engine, DEMO_EXTRACT)
        pipeline.load(engine, hostile_folder(workdir / "hostile"))
        pipeline.resolve(engine)
        pipeline.score(engine)
        accounts.ensure_demo_users(engine)
    finally:
        engine.dispose()
    log = workdir / "app.log"
    proc, base = start_app(db_url, log)
    try:
        yield App(base_url=base, db_url=db_url, workdir=workdir, log=log)
    finally:
        stop_app(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    if Axe is None:
        _unavailable("the axe-playwright-python package is not installed (the test extra)")
    exe = chromium_path()
    if exe is None:
        _unavailable("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Offline:
    """Every non-loopback request, aborted and recorded."""

    blocked: list[str] = field(default_factory=list)

    def route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        scheme = urlparse(url).scheme
        host = urlparse(url).hostname or ""
        if scheme in ("data", "blob", "about") or host in LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def check(self) -> None:
        assert self.blocked == [], f"requests left the machine: {sorted(set(self.blocked))}"


@dataclass
class Journey:
    """One browser tab on the app, with the helpers every journey uses."""

    page: object
    app: App
    offline: Offline
    name: str
    errors: list[str]
    step: int = 0

    # -- waiting ---------------------------------------------------------
    def settle(self, timeout: int = TIMEOUT_MS) -> None:
        """Wait until the script has finished and nothing is still loading."""
        page = self.page
        page.wait_for_timeout(300)  # let a rerun request reach the server
        page.wait_for_selector(READY, timeout=timeout)
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout
        )
        # a rerun can start right after the first one ends (st.rerun())
        page.wait_for_timeout(100)
        page.wait_for_selector(READY, timeout=timeout)

    # -- evidence ---------------------------------------------------------
    def shot(self, step: str) -> Path:
        self.step += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.step:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def main_text(self) -> str:
        return self.page.locator('[data-testid="stMain"]').inner_text()

    def nav_items(self) -> list[str]:
        nav = self.page.locator('[data-testid="stSidebarNav"]')
        if nav.count() == 0:
            return []
        texts = nav.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        # each link's text is the icon's ligature name, then the title
        return [t.strip().splitlines()[-1].strip() for t in texts if t.strip()]

    def accessibility(self) -> list[dict]:
        """axe-core's violations of :data:`AXE_TAGS` on the page as it is now
        (every impact; each a dict with ``id``, ``impact``, ``help``, ``nodes``)."""
        options = {"runOnly": {"type": "tag", "values": list(AXE_TAGS)},
                   "resultTypes": ["violations"]}  # fmt: skip
        return Axe().run(self.page, options=options).response["violations"]

    def assert_accessible(self, where: str) -> None:
        """No serious or critical axe-core violation on the page as it is now."""
        failing = [v for v in self.accessibility() if v["impact"] in FAILING_IMPACTS]
        assert failing == [], describe_violations(where, failing)

    def assert_no_app_error(self) -> None:
        exc = self.page.locator('[data-testid="stException"]')
        assert exc.count() == 0, f"the page shows an exception: {exc.first.inner_text()[:500]}"

    def finish(self) -> None:
        """What every journey asserts at the end."""
        self.offline.check()
        assert self.errors == [], f"JavaScript errors on the page: {self.errors}"

    # -- actions ------------------------------------------------------------
    def open(self, path: str = "") -> None:
        self.page.goto(f"{self.app.base_url}/{path}")
        self.settle()

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        """Post the sign-in form (a plain HTML form: the page reloads)."""
        page = self.page
        page.get_by_role("textbox", name="Username").fill(username)
        page.get_by_role("textbox", name="Password").fill(password)
        with page.expect_navigation(timeout=TIMEOUT_MS):
            page.get_by_role("button", name="Sign in", exact=True).click()
        # signed in (a menu) or refused (an error under the form)
        page.locator(
            '[data-testid="stSidebarNav"], [data-testid="stSidebar"] form button, '
            '[data-testid="stAlertContentError"] >> visible=true'
        ).first.wait_for(timeout=TIMEOUT_MS)
        self.settle()

    def go(self, title: str) -> None:
        """Open a page from the sidebar menu (keeps the session, unlike a URL)."""
        link = self.page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title)
        link.first.click()
        self.settle()
        self.heading(title)

    def heading(self, text: str) -> None:
        self.page.locator('[data-testid="stMain"] h1').filter(has_text=text).first.wait_for(
            timeout=TIMEOUT_MS
        )

    def button(self, name: str):  # type: ignore[no-untyped-def]
        return self.page.locator('[data-testid="stMain"]').get_by_role(
            "button", name=name, exact=True
        )

    def click(self, name: str) -> None:
        self.button(name).first.click()
        self.settle()

    def choose(self, label: str, option: str | None = None) -> str:
        """Pick ``option`` (or the first real option) in a selectbox; return its text."""
        page = self.page
        box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
        options = open_options(box, page)
        target = options.filter(has_text=option).first if option else options.first
        text = target.inner_text().strip()
        target.click()
        self.settle()
        return text


def describe_violations(where: str, violations: list[dict], nodes: int = 3) -> str:
    """axe-core's violations in a few readable lines: the rule, its impact, and
    the first ``nodes`` elements with what axe says about each."""
    lines = [f"{where}: {len(violations)} accessibility violation(s)"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} element(s))")
        for node in v["nodes"][:nodes]:
            said = [c["message"] for c in node.get("any", []) + node.get("all", [])
                    + node.get("none", [])]  # fmt: skip
            lines.append(f"    {node['target']} {node['html'][:160]!r}")
            lines.append(f"      {'; '.join(said)[:300]}")
    return "\n".join(lines)


def open_options(box, page):  # type: ignore[no-untyped-def]
    """Open a selectbox's list; a rerun landing just then can close it, so retry."""
    combo = box.locator('[role="combobox"], input').first
    options = page.locator('[role="option"]')
    for _ in range(5):
        combo.click()
        try:
            options.first.wait_for(timeout=3000)
            return options
        except Exception:
            page.keyboard.press("Escape")
            page.wait_for_selector(READY, timeout=TIMEOUT_MS)
    options.first.wait_for(timeout=TIMEOUT_MS)
    return options


@contextlib.contextmanager
def open_journey(browser, app: App, name: str) -> Iterator[Journey]:  # type: ignore[no-untyped-def]
    """A new browser context and tab on ``app``: offline, JavaScript errors
    recorded, old screenshots of ``name`` removed, a screenshot on failure."""
    offline = Offline()
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", offline.route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for old in SCREENSHOTS.glob(f"{name}-*.png"):
        old.unlink()
    j = Journey(page=page, app=app, offline=offline, name=name, errors=errors)
    try:
        yield j
    except BaseException:
        with contextlib.suppress(Exception):  # evidence only
            j.shot("failure")
        raise
    finally:
        context.close()


@pytest.fixture
def journey(request: pytest.FixtureRequest, app: App, browser) -> Iterator[Journey]:  # type: ignore[no-untyped-def]
    name = request.node.name.removeprefix("test_")
    with open_journey(browser, app, name) as j:
        yield j
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):  # evidence only
                j.shot("failure")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
