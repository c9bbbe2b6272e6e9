"""Session helpers for the Streamlit pages.

* ``engine()``: one SQLAlchemy engine per database URL (``ADAPT_DATABASE_URL``
  or the default SQLite file), shared by sessions. The app never creates an
  account (the demo's are made by ``adapt demo``).
* ``current_user()``: the signed-in user, re-read from ``app_users`` on every
  rerun so a role change or a deactivation takes effect at once. Who is signed
  in (``USER_KEY`` in the server-side session state) is settled at the top of
  every run by :func:`adapt.services.accounts.resolve_user`, from the session
  cookie or single sign-on, with the timeouts.
* ``guard(page, action)``: re-checks the role × page × action table on the
  page itself; a refusal is shown, audited, and stops the script.
* ``audit(...)``: one append-only audit entry for the signed-in user;
  ``audit_as(engine, user, ...)`` the same for work that runs outside the page (a job).
"""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy import Engine

from adapt.core.access import PAGES, ROLES, can
from adapt.db import accounts, app_store, connect, default_url

USER_KEY = "adapt_username"

# One style sheet for every page, the sign-in page included (WCAG 2.2 AA, as
# axe-core checks it in the browser tests; colours are in the theme,
# .streamlit/config.toml). 2.5.8 target size: a date field's day and month are
# 18 px wide, under the 24 px minimum. 2.4.7 focus visible: a thick outline in
# GOV.UK's focus yellow with a dark edge on the sign-in form's fields and buttons.
PAGE_STYLE = """<style>
[data-testid="stDateInputField"] [role="spinbutton"] {
  display: inline-flex; align-items: center; justify-content: center;
  min-width: 24px; min-height: 24px;
}
.adapt-form input:focus, .adapt-form button:focus {
  outline: 3px solid #ffdd00; outline-offset: 0; box-shadow: inset 0 0 0 2px #0b0c0c;
}
</style>"""


def page_style() -> None:
    """Draw the app's style sheet (no space on the page: only a style element)."""
    st.html(PAGE_STYLE)


def database_url() -> str:
    return os.environ.get("ADAPT_DATABASE_URL") or default_url()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return connect(url)


def engine() -> Engine:
    return _engine(database_url())


def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` configures ``st.login`` (an [auth] section)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def current_user() -> dict | None:
    """The signed-in, still active user (username, display_name, role), or None."""
    username = st.session_state.get(USER_KEY)
    if not username:
        return None
    user = accounts.get_user(engine(), username)
    if user is None or not user["active"]:
        st.session_state.pop(USER_KEY, None)
        return None
    return user


def role() -> str | None:
    user = current_user()
    return user["role"] if user else None


def guard(page: str, action: str = "view") -> dict:
    """Stop the page unless the signed-in user's role allows ``action`` on it."""
    user = current_user()
    if user is None:
        st.error("Please sign in.")
        st.stop()
    if not can(user["role"], page, action):
        audit("refused", detail=f"{page}/{action}")
        st.error(
            f"Your role ({ROLES.get(user['role'], user['role'])}) does not give access to "
            f"{action.replace('_', ' ')} on {PAGES[page]}."
        )
        st.stop()
    return user


def allowed(page: str, action: str) -> bool:
    return can(role(), page, action)


def audit(
    action: str,
    *,
    person_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> None:
    audit_as(engine(), current_user(), action, person_id=person_id, purpose=purpose, detail=detail)


def audit_as(
    db: Engine,
    user: dict | None,
    action: str,
    *,
    person_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> None:
    """An audit entry for ``user`` (read when the work was asked for): jobs run
    on another thread, where there is no session to ask who is signed in."""
    app_store.record(
        db,
        username=user["username"] if user else "anonymous",
        role=user["role"] if user else None,
        action=action,
        person_id=person_id,
        purpose=purpose,
        detail=detail,
    )
