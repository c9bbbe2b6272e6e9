"""Single sign-on through st.login (OIDC) when configured: the identity
provider must have verified the e-mail, which must name an active account in
app_users (its role comes from there, checked on every rerun); every refusal is
audited. Findings of issue 12 covered here: email_verified was not checked;
refusals were not audited; clicking the button crashed without Authlib."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from adapt.db import connect
from adapt.db.accounts import add_user, set_active
from adapt.db.app_store import audit_frame

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "adapt", "client_secret": "s",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}  # fmt: skip
EMAIL = "j.doe@force.example"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    db = f"sqlite:///{tmp_path / 'sso.sqlite'}"
    monkeypatch.setenv("ADAPT_DATABASE_URL", db)
    engine = connect(db)
    add_user(engine, EMAIL, "J Doe", "marac_chair", None)
    engine.dispose()
    return db


def _app(email: str | None, verified: object = True) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    if email:
        at.user = {"is_logged_in": True, "email": email, "email_verified": verified,  # type: ignore[assignment]
                   "sub": "idp-123", "iat": 1_800_000_000}  # fmt: skip
    return at.run()


def _audit(url: str):  # type: ignore[no-untyped-def]
    engine = connect(url)
    try:
        return audit_frame(engine)
    finally:
        engine.dispose()


def test_authlib_is_installed_for_st_login() -> None:
    assert importlib.util.find_spec("authlib") is not None


def test_sign_on_button_shown_when_configured(url: str) -> None:
    at = _app(None)
    assert next(b.label for b in at.button) == "Sign in with single sign-on"


def test_single_sign_on_maps_to_the_account_and_its_role(url: str) -> None:
    at = _app(EMAIL)
    assert not at.exception
    assert "MARAC chair" in " ".join(t.value for t in at.text)
    at.run()  # a rerun (or a refresh: the same identity) is the same session
    log = _audit(url)
    assert list(log["action"]) == ["sign_in"] and log.loc[0, "detail"] == "single sign-on"
    engine = connect(url)
    try:
        set_active(engine, EMAIL, False)
    finally:
        engine.dispose()
    at.run()  # deactivation takes effect on the next rerun
    assert "ADAPT — sign in" in [t.value for t in at.title]
    refused = _audit(url).iloc[0]
    assert (refused["action"], refused["detail"]) == ("refused", "single sign-on: inactive")


def test_single_sign_on_without_an_account_is_refused_and_audited(url: str) -> None:
    at = _app("stranger@elsewhere.example")
    assert "ADAPT — sign in" in [t.value for t in at.title]
    assert any("no ADAPT account" in e.value for e in at.error)
    at.run()
    log = _audit(url)
    assert list(zip(log["action"], log["detail"], strict=True)) == [
        ("refused", "single sign-on: no account")
    ]  # once per session, not once per rerun


@pytest.mark.parametrize("verified", [False, None, "false"])
def test_an_unverified_email_is_refused_and_audited(url: str, verified: object) -> None:
    at = _app(EMAIL, verified)
    assert "ADAPT — sign in" in [t.value for t in at.title]
    assert any("not verified" in e.value for e in at.error)
    assert [b.label for b in at.button] == ["Sign out of single sign-on"]
    log = _audit(url)
    assert list(zip(log["action"], log["detail"], strict=True)) == [
        ("refused", "single sign-on: not verified")
    ]


def test_single_sign_on_sign_out_is_audited_and_ends_the_session(url: str) -> None:
    at = _app(EMAIL)
    assert "MARAC chair" in " ".join(t.value for t in at.text)
    next(b for b in at.button if b.label == "Sign out").click()
    at.run()
    assert not at.exception
    assert "ADAPT — sign in" in [t.value for t in at.title]
    log = _audit(url)
    assert list(zip(log["action"], log["detail"], strict=True)) == [
        ("sign_out", "single sign-on"),
        ("sign_in", "single sign-on"),
    ]
