"""ADAPT's Streamlit app: sign-in, then the pages this user's role allows.

Run with ``adapt app`` (``streamlit run streamlit_server.py``, which serves this
script with the sign-in routes and security headers). The menu is built per
role from ``adapt.core.access``; every page re-checks its permission.

The sign-in form is a plain HTML form posting to ``/auth/sign-in`` (the
password never crosses the app's websocket); the server answers with a session
cookie, and :func:`adapt.services.accounts.resolve_user` reads it on every run.
"""

from __future__ import annotations

import streamlit as st

from adapt.core.access import PAGES, ROLES, pages_for
from adapt.services import accounts, session

# No page icons: a Material icon makes Streamlit point the favicon at
# fonts.gstatic.com (no request may leave the machine), and emoji need a font
# many police desktops lack. The favicon is Streamlit's own, served locally.
st.set_page_config(page_title="ADAPT", layout="wide")
session.page_style()

PAGE_FILES = {
    "cohort": "app_pages/cohort.py",
    "caseload": "app_pages/caseload.py",
    "person": "app_pages/person.py",
    "victim": "app_pages/victim.py",
    "marac": "app_pages/marac.py",
    "tuning": "app_pages/tuning.py",
    "data": "app_pages/data.py",
    "audit": "app_pages/audit.py",
    "admin": "app_pages/admin.py",
}

SIGN_IN_MESSAGES = {
    "failed": "Unknown user, wrong password, or the account is not active.",
    "locked": "Too many wrong passwords: this user name is locked for a while. "
    "Try again later, or ask an administrator to reset the password.",
}

# WCAG 2.2 AA: field and button edges at 3:1 or more against the page (1.4.11),
# labels above their fields, the focus outline in session.PAGE_STYLE.
_FIELD = (
    "display:block;width:100%;max-width:22rem;padding:0.45rem 0.6rem;margin:0.2rem 0 0.9rem;"
    "border:2px solid #0b0c0c;border-radius:0.4rem;font:inherit;color:#0b0c0c;background:#fff"
)
_LABEL = "display:block;font-weight:600"
_BUTTON = (
    "padding:0.45rem 1.2rem;border:2px solid #0b0c0c;border-radius:0.4rem;"
    "background:#fff;color:#0b0c0c;font:inherit;cursor:pointer;min-height:2.5rem"
)
SIGN_IN_FORM = f"""
<form class="adapt-form" method="post" action="/auth/sign-in" autocomplete="on">
  <label for="adapt-username" style="{_LABEL}">Username</label>
  <input id="adapt-username" name="username" type="text" autocomplete="username"
         autocapitalize="none" spellcheck="false"
         required maxlength="100" style="{_FIELD}">
  <label for="adapt-password" style="{_LABEL}">Password</label>
  <input id="adapt-password" name="password" type="password" autocomplete="current-password"
         required maxlength="1024" style="{_FIELD}">
  <button type="submit" style="{_BUTTON}">Sign in</button>
</form>
"""
SIGN_OUT_FORM = f"""
<form class="adapt-form" method="post" action="/auth/sign-out">
  <button type="submit" style="{_BUTTON}">Sign out</button>
</form>
"""


def _sign_in_page() -> None:
    st.title("ADAPT — sign in")
    st.caption("Adult Domestic Abuse Perpetrator Team.")
    outcome = st.query_params.get("sign_in")
    if outcome:
        st.query_params.clear()
    notice = accounts.take_notice()
    if notice:
        level, text = notice
        (st.error if level == "error" else st.warning)(text)
    if outcome in SIGN_IN_MESSAGES:
        st.error(SIGN_IN_MESSAGES[outcome])
    if session.oidc_configured():
        if getattr(st.user, "is_logged_in", False):  # signed on, but refused above
            st.button("Sign out of single sign-on", on_click=st.logout)
        else:
            st.button("Sign in with single sign-on", on_click=st.login)
        st.caption("Or with a local account:")
    st.html(SIGN_IN_FORM)


user = accounts.resolve_user()
if user is None:
    st.navigation([st.Page(_sign_in_page, title="Sign in", url_path="sign-in")]).run()
else:
    allowed = pages_for(user["role"])
    pages = [st.Page(PAGE_FILES[p], title=PAGES[p], url_path=p) for p in allowed]
    with st.sidebar:
        st.text(f"{user['display_name']}\n{ROLES[user['role']]}")
        if accounts.signed_in_via() == "single sign-on":
            st.button("Sign out", on_click=accounts.sign_out_single_sign_on)
        else:
            st.html(SIGN_OUT_FORM)
        if via := accounts.signed_in_via():
            st.caption(f"Signed in with {via}.")
    if not pages:
        st.error("Your account has no pages. Ask an administrator.")
    else:
        st.navigation(pages).run()
