"""Sign-in, sessions and framing in Chromium, against ``adapt app`` (issue 12):
wrong passwords lock a name and the right one is then refused; a refresh keeps
the session (the HTTP-only cookie) and sign-out ends it; no foreign page can
frame the app; the administrators' Accounts page draws.

Single sign-on and the lockout run on a second, small app of this module (a
database with only accounts, and approved settings that lock a name after
:data:`LOCKOUT_AFTER` wrong passwords: the same rule as the default five, with
less of the back-off to wait through)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy import update

from adapt.core.access import PAGES, pages_for
from adapt.core.settings import Settings, default_settings
from adapt.db import accounts, connect, settings_store
from adapt.db.app_store import audit_frame
from adapt.db.engine import utc_now
from adapt.db.models import app_sessions
from tests.browser.conftest import App, Journey, free_port, open_journey, start_app, stop_app

MAIN = '[data-testid="stMain"]'
LONG_PASSWORD = "correct horse battery"
LOCKOUT_AFTER = 2  # the small app's live settings (the packaged default is 5)


def _errors(j: Journey) -> list[str]:
    return j.page.locator(f'{MAIN} [data-testid="stAlertContentError"]').all_inner_texts()


def _audit(j: Journey, username: str):  # type: ignore[no-untyped-def]
    engine = connect(j.app.db_url)
    try:
        return audit_frame(engine, username=username)
    finally:
        engine.dispose()


def test_refresh_keeps_the_session_and_sign_out_ends_it(journey: Journey) -> None:
    j = journey
    answer = j.page.goto(j.app.base_url)
    assert answer is not None
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
    j.settle()
    j.shot("sign-in-page")
    j.sign_in("analyst")
    j.heading("Cohort")
    (cookie,) = [c for c in j.page.context.cookies() if c["name"] == "adapt_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1

    j.page.reload()
    j.settle()
    j.heading("Cohort")
    assert "Data" in j.nav_items()
    j.assert_no_app_error()
    j.shot("after-refresh")

    sidebar = j.page.locator('[data-testid="stSidebar"]')
    with j.page.expect_navigation():
        sidebar.get_by_role("button", name="Sign out").click()
    j.settle()
    j.heading("ADAPT — sign in")
    j.page.reload()
    j.settle()
    j.heading("ADAPT — sign in")
    assert j.nav_items() == []
    assert list(_audit(j, "analyst")["action"])[:2] == ["sign_out", "sign_in"]

    # idle: 31 minutes without a click (the default allows 30), then a click
    j.sign_in("analyst")
    j.heading("Cohort")
    engine = connect(j.app.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(app_sessions)
                .where(app_sessions.c.username == "analyst", app_sessions.c.ended_at.is_(None))
                .values(last_seen_at=utc_now() - timedelta(minutes=31))
            )
    finally:
        engine.dispose()
    j.page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").first.click()
    j.settle()
    j.heading("ADAPT — sign in")
    warnings = j.page.locator(f'{MAIN} [data-testid="stAlertContentWarning"]').all_inner_texts()
    assert any("without activity" in w for w in warnings), warnings
    j.shot("idle-expired")
    assert _audit(j, "analyst")["action"].iloc[0] == "session_expired"
    j.finish()


def test_a_foreign_page_cannot_frame_the_app(journey: Journey) -> None:
    j = journey
    j.page.set_content(f'<iframe id="f" src="{j.app.base_url}/" width="800" height="600"></iframe>')
    j.page.wait_for_timeout(3000)
    framed = [f for f in j.page.frames if f != j.page.main_frame]
    assert framed, "the iframe was not created"
    for frame in framed:
        assert frame.locator('[data-testid="stApp"]').count() == 0, "the app drew in a frame"
    j.offline.check()


def test_the_accounts_page_for_administrators(journey: Journey) -> None:
    j = journey
    j.open()
    j.sign_in("admin")
    j.go("Accounts")
    text = j.main_text()
    assert "Add an account" in text and "Change an account" in text
    j.assert_no_app_error()
    j.shot("accounts-page")
    j.finish()


# ------------------------------------ the small app: single sign-on and the lockout
SSO_EMAIL = "j.doe@force.example"


def _lower_lockout(engine) -> None:  # type: ignore[no-untyped-def]
    """Approve settings that lock a name after :data:`LOCKOUT_AFTER` wrong passwords."""
    base = default_settings()
    governance = base.governance.model_copy(update={"lockout_after_failures": LOCKOUT_AFTER})
    lowered = base.model_copy(
        update={"name": "browser tests", "version": "1", "author": "tests",
                "reason": "a shorter lockout for the browser tests", "governance": governance}
    )  # fmt: skip
    settings_store.save_settings_version(engine, Settings.from_json(lowered.to_json()))
    settings_store.decide_settings_version(
        engine, "browser tests", "1", approve=True, by="second person", role="admin",
        reason="browser tests",
    )  # fmt: skip


@pytest.fixture(scope="module")
def small_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """``adapt app`` on a database with accounts only, with single sign-on
    against a local OpenID provider (oidc-provider-mock on loopback): one
    verified user with an account, one whose e-mail is not verified; a local
    account for the lockout, locked after :data:`LOCKOUT_AFTER` wrong passwords."""
    users = [
        User(sub="jdoe", claims={"email": SSO_EMAIL, "email_verified": True}),
        User(sub="unverified", claims={"email": "u@force.example", "email_verified": False}),
    ]
    workdir = tmp_path_factory.mktemp("sso")
    db_url = f"sqlite:///{workdir / 'sso.sqlite'}"
    engine = connect(db_url)
    try:
        accounts.add_user(engine, SSO_EMAIL, "J Doe", "marac_chair", None)
        accounts.add_user(engine, "u@force.example", "U", "marac_chair", None)
        accounts.add_user(engine, "lock.test", "Lock Test", "analyst", LONG_PASSWORD)
        _lower_lockout(engine)
    finally:
        engine.dispose()
    port = free_port()
    with run_server_in_thread(user_claims=users) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        (workdir / ".streamlit").mkdir()
        (workdir / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{"s" * 32}"\n'
            'client_id = "adapt"\nclient_secret = "adapt-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        log = workdir / "app.log"
        proc, base = start_app(db_url, log, port=port, cwd=workdir)
        try:
            yield App(base_url=base, db_url=db_url, workdir=workdir, log=log)
        finally:
            stop_app(proc)


def _sign_on(j: Journey, sub: str) -> None:
    page = j.page
    j.button("Sign in with single sign-on").click()
    page.get_by_role("button", name=sub, exact=True).click()  # the provider's page
    page.wait_for_url(f"{j.app.base_url}/**", timeout=60_000)
    j.settle()


def test_wrong_passwords_lock_the_name_and_the_right_one_is_then_refused(
    small_app: App, browser
) -> None:  # type: ignore[no-untyped-def]
    engine = connect(small_app.db_url)
    try:
        limit = settings_store.live_settings(engine)[0].governance.lockout_after_failures
    finally:
        engine.dispose()
    assert limit == LOCKOUT_AFTER  # the live settings' limit, not the packaged default
    with open_journey(browser, small_app, "lockout") as j:
        j.open()
        for _ in range(limit - 1):
            j.sign_in("lock.test", "a wrong guess")
            assert any("wrong password" in t for t in _errors(j)), j.main_text()
        j.sign_in("lock.test", "a wrong guess")
        assert any("locked" in t for t in _errors(j)), j.main_text()
        j.sign_in("lock.test", LONG_PASSWORD)  # the right password, while locked
        assert any("locked" in t for t in _errors(j)), j.main_text()
        assert j.nav_items() == []
        j.shot("locked")
        log = _audit(j, "lock.test")
        assert list(log["action"]).count("sign_in_locked") == 1
        assert "sign_in" not in set(log["action"])
        j.finish()


def test_single_sign_on_in_the_browser(small_app: App, browser) -> None:  # type: ignore[no-untyped-def]
    landing = PAGES[pages_for("marac_chair")[0]]  # a chair lands on the MARAC check
    with open_journey(browser, small_app, "single_sign_on") as j:
        page = j.page
        j.open()
        _sign_on(j, "unverified")
        assert any("not verified" in t for t in _errors(j)), j.main_text()
        j.shot("unverified-refused")
        j.button("Sign out of single sign-on").click()
        page.get_by_role("button", name="End session").click()  # the provider's page
        j.button("Sign in with single sign-on").wait_for()
        j.settle()

        _sign_on(j, "jdoe")
        j.heading(landing)
        assert "MARAC chair" in page.locator('[data-testid="stSidebar"]').inner_text()
        page.reload()
        j.settle()
        j.heading(landing)  # Streamlit's own cookie keeps single sign-on
        j.shot("signed-on")
        # the mock provider's own pages fetch a stylesheet from a CDN (aborted);
        # nothing the app serves may leave the machine
        j.offline.blocked = [u for u in j.offline.blocked if "/@picocss/pico" not in u]
        j.finish()
    refused = _audit(j, "u@force.example")
    assert ("refused", "single sign-on: not verified") in set(
        zip(refused["action"], refused["detail"], strict=True)
    )
    signed = _audit(j, SSO_EMAIL)
    assert list(signed["action"]) == ["sign_in"]  # the refresh is the same session
