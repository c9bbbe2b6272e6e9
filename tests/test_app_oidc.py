"""Single sign-on through st.login (OIDC) when configured: the account and its
role still come from app_users, checked on every rerun."""

from __future__ import annotations

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


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    db = f"sqlite:///{tmp_path / 'sso.sqlite'}"
    monkeypatch.setenv("ADAPT_DATABASE_URL", db)
    monkeypatch.setenv("ADAPT_DEMO_USERS", "0")
    engine = connect(db)
    add_user(engine, "j.doe@force.example", "J Doe", "marac_chair", None)
    engine.dispose()
    return db


def _app(email: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    if email:
        at.user = {"is_logged_in": True, "email": email}  # type: ignore[assignment]
    return at.run()


def test_sign_on_button_shown_when_configured(url: str) -> None:
    at = _app(None)
    assert next(b.label for b in at.button) == "Sign in with single sign-on"


def test_single_sign_on_maps_to_the_account_and_its_role(url: str) -> None:
    at = _app("j.doe@force.example")
    assert not at.exception
    assert "MARAC chair" in " ".join(m.value for m in at.markdown)
    engine = connect(url)
    try:
        log = audit_frame(engine)
        assert list(log["action"]) == ["sign_in"] and log.loc[0, "detail"] == "single sign-on"
        set_active(engine, "j.doe@force.example", False)
    finally:
        engine.dispose()
    at.run()  # deactivation takes effect on the next rerun
    assert "ADAPT — sign in" in [t.value for t in at.title]


def test_single_sign_on_without_an_account_is_refused(url: str) -> None:
    at = _app("stranger@elsewhere.example")
    assert "ADAPT — sign in" in [t.value for t in at.title]
    assert any("no ADAPT account" in e.value for e in at.error)
