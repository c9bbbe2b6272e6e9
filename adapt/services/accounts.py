"""Who is signed in, and the accounts an administrator manages.

The server asks :func:`startup_refusal` before it serves anything (demo
accounts beside PostgreSQL or single sign-on stop the app); at the top of every
run the app calls :func:`resolve_user`, which settles ``session.USER_KEY`` from, in order:

1. single sign-on (``st.user``): the e-mail must be verified and name an active
   account; its sign-in gets a session row too, for the timeouts;
2. the session cookie set by the sign-in form (:mod:`adapt.services.server`):
   signed, HTTP-only, ``SameSite=Strict``, naming a server-side session row;
3. a user name already in the server-side session state (set by this module,
   or by a test driving the script directly), timed out from the session state.

Idle and absolute timeouts come from the live settings' ``governance``;
an expiry is audited as ``session_expired`` and the user is told on the
sign-in page. The admin page's changes (:func:`add`, :func:`set_active`,
:func:`set_role`, :func:`reset_password`) are audited as ``account_change``
under the administrator's name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from adapt.core.settings import Governance, default_settings
from adapt.db import accounts as store
from adapt.db import app_store
from adapt.services import session
from adapt.services import settings as live_settings

SESSION_COOKIE = "adapt_session"
_VIA_KEY = "adapt_signed_in_via"
_STARTED_KEY = "adapt_session_started"
_SEEN_KEY = "adapt_session_seen"
_NOTICE_KEY = "adapt_sign_in_notice"
_REFUSAL_AUDITED = "adapt_refusal_audited"
_SSO_TOKEN_KEY = "adapt_sso_session"

AccountError = store.AccountError
MIN_PASSWORD_LENGTH = store.MIN_PASSWORD_LENGTH


# ------------------------------------------------------------ settings
def governance() -> Governance:
    """The governance settings in force (the packaged defaults if they cannot be read)."""
    try:
        return live_settings.settings_in_force().governance
    except Exception:  # a broken saved version must not lock everybody out
        return default_settings().governance


# ------------------------------------------------------------- cookie
def _cookie_key() -> bytes:
    secret = os.environ.get("ADAPT_SESSION_SECRET") or str(st.get_option("server.cookieSecret"))
    return hashlib.sha256(b"adapt-session|" + secret.encode()).digest()


def sign_cookie(token: str) -> str:
    """The cookie value for a session token: the token and its HMAC."""
    mac = hmac.new(_cookie_key(), token.encode(), hashlib.sha256).digest()
    return f"{token}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def verify_cookie(value: str | None) -> str | None:
    """The session token in a cookie value whose signature holds, else None."""
    if not value or value.count(".") != 1:
        return None
    token, _ = value.split(".")
    return token if hmac.compare_digest(sign_cookie(token), value) else None


# ------------------------------------------------------ start-up refusal
def demo_refusal(dialect: str, single_sign_on: bool, demo_accounts: list[str]) -> str | None:
    """Why the app must not run, or None: demo accounts (open with the demo
    password) on a PostgreSQL database or beside single sign-on.

    >>> demo_refusal("sqlite", False, ["admin"]) is None
    True
    >>> "PostgreSQL" in demo_refusal("postgresql", False, ["admin"])
    True
    >>> demo_refusal("postgresql", True, []) is None
    True
    """
    if not demo_accounts or (dialect != "postgresql" and not single_sign_on):
        return None
    where = "a PostgreSQL database" if dialect == "postgresql" else "single sign-on"
    names = ", ".join(demo_accounts)
    return (
        f"The demo accounts ({names}) with the demo password exist on a database used with "
        f"{where}. ADAPT will not run until an administrator disables them or resets their "
        "passwords (`adapt users disable NAME`, `adapt users reset-password NAME`)."
    )


def refusal_for(db: Engine, *, single_sign_on: bool) -> str | None:
    """:func:`demo_refusal` for this database (its demo accounts looked up only
    when it is PostgreSQL or single sign-on is on)."""
    if db.dialect.name != "postgresql" and not single_sign_on:
        return None
    present = store.demo_accounts_present(db)
    return demo_refusal(db.dialect.name, single_sign_on, present)


REFUSAL_RECHECK_SECONDS = 30.0
_refusal_lock = threading.Lock()
_refusal_checked: list[tuple[float, str | None]] = []  # (when, reason), the last look


def startup_refusal() -> str | None:
    """Why the served app must refuse to run, or None; looked up at most every
    30 seconds (a fix takes effect without a restart) and audited each time it
    starts to apply. The server asks this (:mod:`adapt.services.server`) before
    serving anything: a deployment is refused, not a test driving the script."""
    with _refusal_lock:
        now = time.monotonic()
        if _refusal_checked and now - _refusal_checked[0][0] < REFUSAL_RECHECK_SECONDS:
            return _refusal_checked[0][1]
        previous = _refusal_checked[0][1] if _refusal_checked else None
        db = session.engine()
        reason = refusal_for(db, single_sign_on=session.oidc_configured())
        if reason and reason != previous:
            app_store.record(db, username="adapt app", action="refused",
                             detail="start-up: demo accounts present")  # fmt: skip
        _refusal_checked[:] = [(now, reason)]
        return reason


# --------------------------------------------------------- who is signed in
def single_sign_on_refusal(email: str | None, verified: object, account: dict | None) -> str | None:
    """Why a single sign-on identity may not use ADAPT, or None.

    >>> single_sign_on_refusal("a@b", False, {"active": True})
    'not verified'
    >>> single_sign_on_refusal("a@b", True, None)
    'no account'
    >>> single_sign_on_refusal("a@b", "true", {"active": False})
    'inactive'
    """
    if not email:
        return "no e-mail"
    if not (verified is True or str(verified).lower() == "true"):
        return "not verified"
    if account is None:
        return "no account"
    if not account["active"]:
        return "inactive"
    return None


def take_notice() -> tuple[str, str] | None:
    """The message for the sign-in page, once: (``warning``, an expiry) or
    (``error``, a single sign-on refusal)."""
    return st.session_state.pop(_NOTICE_KEY, None)


def _sign_out_here(notice: str | None = None, level: str = "warning") -> None:
    for key in (session.USER_KEY, _VIA_KEY, _STARTED_KEY, _SEEN_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE_KEY] = (level, notice)


def _expired_notice(status: str, gov: Governance) -> str:
    if status == "absolute":
        return (f"Your session ended {gov.session_absolute_hours} hours after you signed in. "
                "Please sign in again.")  # fmt: skip
    return (f"Your session ended after {gov.session_idle_minutes} minutes without activity. "
            "Please sign in again.")  # fmt: skip


def _single_sign_on(db: Engine, gov: Governance) -> dict | None:
    email = st.user.get("email")
    email = str(email)[:100] if email else None
    account = store.get_user(db, email) if email else None
    refusal = single_sign_on_refusal(email, st.user.get("email_verified"), account)
    if refusal:
        if st.session_state.get(_REFUSAL_AUDITED) != refusal:
            st.session_state[_REFUSAL_AUDITED] = refusal
            who = email if account else store.audit_name(email or "", False)
            app_store.record(db, username=who, action="refused",
                             detail=f"single sign-on: {refusal}")  # fmt: skip
        _sign_out_here(
            "Your single sign-on e-mail address is not verified by your identity provider."
            if refusal == "not verified"
            else "Your single sign-on account has no ADAPT account, or it is not active.",
            level="error",
        )
        return None
    assert email is not None and account is not None
    # one session row per single sign-on (its identity and when it was issued):
    # the timeouts hold across refreshes as they do for a password sign-in
    issued = st.user.get("iat") or st.user.get("auth_time") or ""
    token = "sso:" + hashlib.sha256(f"{st.user.get('sub')}|{email}|{issued}".encode()).hexdigest()
    check = store.check_session(db, token, governance=gov)
    if check.status == "unknown":
        store.start_session(db, email, "single sign-on", token=token)
        app_store.record(db, username=email, role=account["role"], action="sign_in",
                         detail="single sign-on")  # fmt: skip
    elif check.status != "ok":
        _sign_out_here(_expired_notice(check.status, gov) if check.status != "ended" else None)
        st.logout()
        return None
    st.session_state[session.USER_KEY] = email
    st.session_state[_VIA_KEY] = "single sign-on"
    st.session_state[_SSO_TOKEN_KEY] = token
    return session.current_user()


def _from_session_state(db: Engine, gov: Governance) -> dict | None:
    user = session.current_user()
    if user is None:
        return None
    now = time.time()
    started = st.session_state.setdefault(_STARTED_KEY, now)
    seen = st.session_state.get(_SEEN_KEY, now)
    status = None
    if now - started >= gov.session_absolute_hours * 3600:
        status = "absolute"
    elif now - seen >= gov.session_idle_minutes * 60:
        status = "idle"
    if status:
        app_store.record(db, username=user["username"], role=user["role"],
                         action="session_expired", detail=status)  # fmt: skip
        _sign_out_here(_expired_notice(status, gov))
        return None
    st.session_state[_SEEN_KEY] = now
    return user


def resolve_user() -> dict | None:
    """Settle who is signed in for this run (see the module's docstring)."""
    db = session.engine()
    gov = governance()
    if session.oidc_configured() and getattr(st.user, "is_logged_in", False):
        return _single_sign_on(db, gov)
    token = verify_cookie(st.context.cookies.get(SESSION_COOKIE))
    if token:
        check = store.check_session(db, token, governance=gov)
        if check.status != "ok":
            _sign_out_here(_expired_notice(check.status, gov)
                           if check.status in ("idle", "absolute") else None)  # fmt: skip
            return None
        st.session_state[session.USER_KEY] = check.username
        st.session_state[_VIA_KEY] = "password"
        return session.current_user()
    if st.session_state.get(_VIA_KEY) in ("password", "single sign-on"):
        _sign_out_here()  # the cookie or the single sign-on has gone
        return None
    return _from_session_state(db, gov)


def sign_out_single_sign_on() -> None:
    """Sign out a single sign-on user: audited, the session row ended, then
    Streamlit's own sign-out (``st.logout``). A password session signs out
    through the ``/auth/sign-out`` form instead (its cookie is HTTP-only)."""
    user = session.current_user()
    token = st.session_state.get(_SSO_TOKEN_KEY)
    if token:
        store.end_session(session.engine(), token)
    if user:
        app_store.record(session.engine(), username=user["username"], role=user["role"],
                         action="sign_out", detail="single sign-on")  # fmt: skip
    _sign_out_here()
    st.session_state.pop(_SSO_TOKEN_KEY, None)
    st.logout()


def signed_in_via() -> str | None:
    """How this session signed in: ``password``, ``single sign-on`` or None."""
    return st.session_state.get(_VIA_KEY)


# ------------------------------------------------------------- admin page
def users() -> pd.DataFrame:
    """Every account (no password hashes), with how it signs in and any lockout."""
    return store.users_frame(session.engine())


def _actor() -> tuple[str, str | None]:
    user = session.guard("admin", "manage_accounts")
    return user["username"], user["role"]


def add(username: str, display_name: str, role: str, password: str | None) -> None:
    """Create an account (password None: single sign-on only); audited."""
    actor, actor_role = _actor()
    store.add_user(session.engine(), username.strip(), display_name, role, password,
                   actor=actor, actor_role=actor_role)  # fmt: skip


def set_active(username: str, active: bool) -> None:
    """Enable or disable an account (not one's own); audited."""
    actor, actor_role = _actor()
    if username == actor and not active:
        raise AccountError("you cannot disable your own account")
    store.set_active(session.engine(), username, active, actor=actor, actor_role=actor_role)


def set_role(username: str, role: str) -> None:
    """Change an account's role (not one's own); audited."""
    actor, actor_role = _actor()
    if username == actor:
        raise AccountError("you cannot change your own role")
    store.set_role(session.engine(), username, role, actor=actor, actor_role=actor_role)


def reset_password(username: str, password: str) -> None:
    """Set a new password (clears a lockout, ends the account's sessions); audited."""
    actor, actor_role = _actor()
    store.reset_password(session.engine(), username, password, actor=actor,
                         actor_role=actor_role)  # fmt: skip
