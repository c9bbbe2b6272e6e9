"""Sign-in, sessions and framing in Chromium, against ``adapt app`` (issue 12):
wrong passwords lock a name and the right one is then refused; a refresh keeps
the session (the HTTP-only cookie) and sign-out ends it; no foreign page can
frame the app; the administrators' Accounts page draws."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapt.db import accounts, connect
from adapt.db.app_store import audit_frame

if TYPE_CHECKING:
    from tests.browser.conftest import Journey

MAIN = '[data-testid="stMain"]'
LONG_PASSWORD = "correct horse battery"


def _errors(j: Journey) -> list[str]:
    return j.page.locator(f'{MAIN} [data-testid="stAlertContentError"]').all_inner_texts()


def _audit(j: Journey, username: str):  # type: ignore[no-untyped-def]
    engine = connect(j.app.db_url)
    try:
        return audit_frame(engine, username=username)
    finally:
        engine.dispose()


def test_wrong_passwords_lock_the_name_and_the_right_one_is_then_refused(
    journey: Journey,
) -> None:
    j = journey
    engine = connect(j.app.db_url)
    try:
        accounts.add_user(engine, "lock.test", "Lock Test", "analyst", LONG_PASSWORD)
        limit = accounts.Governance().lockout_after_failures  # the live settings: the defaults
    finally:
        engine.dispose()
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
