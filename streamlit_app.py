"""ADAPT's Streamlit app: sign-in, then the pages this user's role allows.

Run with ``adapt app`` (or ``streamlit run streamlit_app.py``). The menu is
built per role from ``adapt.core.access``; every page re-checks its permission.
"""

from __future__ import annotations

import streamlit as st

from adapt.core.access import PAGES, ROLES, pages_for
from adapt.services import session

# No page icons: a Material icon makes Streamlit point the favicon at
# fonts.gstatic.com (no request may leave the machine), and emoji need a font
# many police desktops lack. The favicon is Streamlit's own, served locally.
st.set_page_config(page_title="ADAPT", layout="wide")

PAGE_FILES = {
    "cohort": "app_pages/cohort.py",
    "person": "app_pages/person.py",
    "marac": "app_pages/marac.py",
    "tuning": "app_pages/tuning.py",
    "data": "app_pages/data.py",
    "audit": "app_pages/audit.py",
}


def _sign_in_page() -> None:
    st.title("ADAPT — sign in")
    st.caption("Adult Domestic Abuse Perpetrator Team. All data in this demo is synthetic.")
    if session.oidc_configured():
        if getattr(st.user, "is_logged_in", False):
            st.error("Your single sign-on account has no ADAPT account, or it is not active.")
        st.button("Sign in with single sign-on", on_click=st.login)
        st.caption("Or with a local account:")
    with st.form("sign_in"):
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if session.sign_in(username, password):
            st.rerun()
        st.error("Unknown user, wrong password, or the account is not active.")


user = session.current_user()
if user is None:
    st.navigation([st.Page(_sign_in_page, title="Sign in", url_path="sign-in")]).run()
else:
    allowed = pages_for(user["role"])
    pages = [st.Page(PAGE_FILES[p], title=PAGES[p], url_path=p) for p in allowed]
    with st.sidebar:
        st.markdown(f"**{user['display_name']}**  \n{ROLES[user['role']]}")
        if st.button("Sign out"):
            session.sign_out()
            st.rerun()
    if not pages:
        st.error("Your account has no pages. Ask an administrator.")
    else:
        st.navigation(pages).run()
