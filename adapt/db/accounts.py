"""The app's accounts (``app_users``), sign-in attempts and browser sessions.

* Passwords are hashed with argon2 (:class:`argon2.PasswordHasher`, its
  parameters kept in each hash). Hashes made before argon2 (``scrypt$...``)
  still verify and are rehashed at the account's next sign-in.
* :func:`sign_in` does the same work whatever the name typed: an unknown name,
  an account without a password (single sign-on only) or a locked one is
  checked against a dummy argon2 hash, and its failures are counted and locked
  out the same way, so neither the time taken nor the answer tells whether an
  account exists. Failures in a row are counted before the password is checked
  (a burst of parallel guesses cannot slip past the lockout); after
  ``lockout_after_failures`` the name is locked for ``lockout_minutes``.
* The audit never holds what was typed as a user name unless it is an account's
  name: a password typed into the name field is recorded as ``unknown user``
  with a short hash of the text.
* A browser session is a random token held in a cookie; only its SHA-256 is
  stored (``app_sessions``), with the times the idle and absolute timeouts are
  judged from. Expiry is audited as ``session_expired``.

Every change to an account made through :func:`add_user`, :func:`set_role`,
:func:`set_active` or :func:`reset_password` with an ``actor`` is audited as
``account_change`` (the account's name in the detail, never the password).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, insert, or_, select, update

from adapt.core.access import ROLES
from adapt.core.settings import Governance
from adapt.db.app_store import record
from adapt.db.engine import utc_now, writer
from adapt.db.models import app_sessions, app_users, sign_in_attempts

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_LENGTH = 100
UNKNOWN_USER = "unknown user"
_USERNAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,100}$")

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): a guess costs an
# attacker as much, and a sign-in stays well under a tenth of a second. Hashes
# made with other parameters still verify and are rehashed at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when there is no real hash to check (an unknown name, a
# single-sign-on account, a locked name): the same argon2 work either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account change that cannot be made (unknown account, bad role or
    name, a password too short). The message never holds a password."""


# ------------------------------------------------------------- passwords
def hash_password(password: str) -> str:
    """An argon2 hash of ``password`` (salt and parameters inside)."""
    return _hasher.hash(password)


def _scrypt(password: str, salt: bytes) -> str:
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _verify(password: str, stored: str | None) -> tuple[bool, bool]:
    """(matches, needs a new hash). An unusable ``stored`` is checked against
    the dummy hash so the work done is the same."""
    if stored and stored.startswith("scrypt$"):
        try:
            _, salt, _digest = stored.split("$")
            ok = hmac.compare_digest(_scrypt(password, bytes.fromhex(salt)), stored)
        except ValueError:
            ok = False
        return ok, ok
    target = stored if stored and stored.startswith("$argon2") else _DUMMY_HASH
    try:
        _hasher.verify(target, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if target is _DUMMY_HASH:
        return False, False
    return True, _hasher.check_needs_rehash(target)


def check_new_password(password: str) -> None:
    """Refuse a password too short or too long to be set (the message never holds it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")


def _check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise AccountError(
            "a user name is 1 to 100 characters without spaces or control characters"
        )
    return username


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    return role


# ------------------------------------------------------------- accounts
def _audit_change(engine: Engine, actor: str | None, actor_role: str | None, detail: str) -> None:
    if actor is not None:
        record(engine, username=actor[:100], role=actor_role, action="account_change",
               detail=detail)  # fmt: skip


def add_user(
    engine: Engine,
    username: str,
    display_name: str,
    role: str,
    password: str | None,
    *,
    actor: str | None = None,
    actor_role: str | None = None,
) -> None:
    """Create a local account (password None: a single-sign-on account, which no
    password opens). Refused if the name is taken. Audited when ``actor`` is given."""
    _check_username(username)
    _check_role(role)
    if password is not None:
        check_new_password(password)
    _insert(engine, username, display_name, role, password)
    kind = "single sign-on" if password is None else "password"
    _audit_change(engine, actor, actor_role, f"added {username} as {role} ({kind})")


def _insert(
    engine: Engine, username: str, display_name: str, role: str, password: str | None
) -> None:
    display = (display_name or username).strip()[:200] or username
    with writer(engine) as conn:
        if _account_row(conn, username) is not None:
            raise AccountError(f"an account named {username!r} already exists")
        conn.execute(
            insert(app_users).values(
                username=username,
                display_name=display,
                role=role,
                password_hash=hash_password(password) if password else None,
                active=True,
                created_at=utc_now(),
            )
        )


def _account_row(conn: Connection, username: str) -> dict | None:
    row = conn.execute(select(app_users).where(app_users.c.username == username)).mappings()
    found = row.first()
    return dict(found) if found else None


def _change(engine: Engine, username: str, **values: object) -> None:
    with writer(engine) as conn:
        done = conn.execute(
            update(app_users).where(app_users.c.username == username).values(**values)
        )
        if done.rowcount == 0:
            raise AccountError(f"no account named {username!r}")


def set_active(
    engine: Engine,
    username: str,
    active: bool,
    *,
    actor: str | None = None,
    actor_role: str | None = None,
) -> None:
    """Enable or disable an account; disabling also ends its open sessions."""
    _change(engine, username, active=active)
    if not active:
        end_user_sessions(engine, username, "disabled")
    verb = "enabled" if active else "disabled"
    _audit_change(engine, actor, actor_role, f"{verb} {username}")


def set_role(
    engine: Engine,
    username: str,
    role: str,
    *,
    actor: str | None = None,
    actor_role: str | None = None,
) -> None:
    """Give an account another role (takes effect on the user's next rerun)."""
    _check_role(role)
    before = get_user(engine, username)
    _change(engine, username, role=role)
    old = before["role"] if before else "?"
    _audit_change(engine, actor, actor_role, f"role of {username}: {old} -> {role}")


def reset_password(
    engine: Engine,
    username: str,
    password: str,
    *,
    actor: str | None = None,
    actor_role: str | None = None,
) -> None:
    """Set a new password, clear the account's lockout and end its sessions."""
    check_new_password(password)
    _change(engine, username, password_hash=hash_password(password))
    with writer(engine) as conn:
        conn.execute(
            sign_in_attempts.delete().where(sign_in_attempts.c.attempt_key == attempt_key(username))
        )
    end_user_sessions(engine, username, "password reset")
    _audit_change(engine, actor, actor_role, f"password reset for {username}")


def get_user(engine: Engine, username: str) -> dict | None:
    """The user's row (without the password hash), or None."""
    u = app_users.c
    with engine.connect() as conn:
        row = conn.execute(
            select(u.username, u.display_name, u.role, u.active).where(u.username == username)
        ).mappings().first()  # fmt: skip
    return dict(row) if row else None


def users_frame(engine: Engine) -> pd.DataFrame:
    """Every account: name, display name, role, active, created, how it signs in,
    and until when it is locked (empty when it is not)."""
    u, a = app_users.c, sign_in_attempts.c
    now = utc_now()
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.username, u.display_name, u.role, u.active, u.created_at,
                   u.password_hash.is_not(None)).order_by(u.username)
        ).all()  # fmt: skip
        locks = dict(conn.execute(select(a.attempt_key, a.locked_until)).all())
    out = []
    for name, display, role, active, created, has_password in rows:
        until = locks.get(attempt_key(name))
        out.append((name, display, role, active, created,
                    "password" if has_password else "single sign-on",
                    until if until is not None and until > now else None))  # fmt: skip
    cols = ["username", "display_name", "role", "active", "created_at", "sign_in", "locked_until"]
    return pd.DataFrame(out, columns=cols)


# --------------------------------------------------------------- sign-in
def attempt_key(typed_name: str) -> str:
    """The key failures are counted under: a hash of the typed name, the same
    for an account and for a name that is none."""
    return hashlib.sha256(typed_name.strip().encode("utf-8", "replace")).hexdigest()


def audit_name(typed_name: str, is_account: bool) -> str:
    """What the audit records for a typed user name: the name when it is an
    account's, else ``unknown user #`` and a short hash (a password typed into
    the name field never lands in the log)."""
    if is_account:
        return typed_name
    return f"{UNKNOWN_USER} #{attempt_key(typed_name)[:8]}"


def backoff_seconds(failures: int) -> float:
    """How long a refusal waits before it answers, after ``failures`` in a row
    (0.25 s, doubling, at most 8 s).

    >>> [backoff_seconds(n) for n in (0, 1, 2, 3, 10)]
    [0.0, 0.25, 0.5, 1.0, 8.0]
    """
    return 0.0 if failures <= 0 else min(0.25 * 2 ** (failures - 1), 8.0)


@dataclass(frozen=True)
class SignIn:
    """What one sign-in attempt came to.

    ``status`` is ``ok``, ``failed`` or ``locked``; ``user`` is set only when
    ``ok``; ``delay`` is the back-off the answer should wait; ``locked_until``
    is set while the name is locked."""

    status: str
    user: dict | None = None
    delay: float = 0.0
    locked_until: datetime | None = None


def sign_in(
    engine: Engine,
    username: str,
    password: str,
    *,
    governance: Governance | None = None,
    now: datetime | None = None,
) -> SignIn:
    """Check a typed name and password, with back-off and lockout; audited."""
    gov = governance or Governance()
    now = now or utc_now()
    typed = username.strip()[:MAX_USERNAME_LENGTH]
    password = password[:MAX_PASSWORD_LENGTH]
    key = attempt_key(typed)
    a = sign_in_attempts.c
    with writer(engine) as conn:
        account = _account_row(conn, typed) if typed else None
        row = conn.execute(select(sign_in_attempts).where(a.attempt_key == key)).mappings().first()
        locked_until = row["locked_until"] if row else None
        locked = locked_until is not None and locked_until > now
        stale = row is not None and (
            row["last_failure_at"] is None
            or row["last_failure_at"] < now - timedelta(minutes=gov.lockout_minutes)
        )
        failures = 0 if (row is None or stale or (locked_until and not locked)) else row["failures"]
        if not locked:  # counted before the check: parallel guesses cannot pass the limit
            failures += 1
            values = {"failures": failures, "last_failure_at": now, "locked_until": None}
            if row is None:
                conn.execute(insert(sign_in_attempts).values(attempt_key=key, **values))
            else:
                conn.execute(update(sign_in_attempts).where(a.attempt_key == key).values(**values))
        # forget names whose failures have lapsed: guessed names cannot pile up
        conn.execute(
            sign_in_attempts.delete().where(
                a.attempt_key != key,
                a.last_failure_at < now - timedelta(minutes=gov.lockout_minutes),
                or_(a.locked_until.is_(None), a.locked_until < now),
            )
        )
    stored = account["password_hash"] if account and not locked else None
    ok, rehash = _verify(password, stored)
    ok = ok and bool(account) and bool(account["active"])
    who = audit_name(typed, account is not None)
    role = account["role"] if account else None
    if locked:
        record(engine, username=who, role=role, action="sign_in_failed", detail="locked")
        return SignIn("locked", delay=backoff_seconds(gov.lockout_after_failures),
                      locked_until=locked_until)  # fmt: skip
    if ok:
        assert account is not None
        with writer(engine) as conn:
            conn.execute(sign_in_attempts.delete().where(a.attempt_key == key))
            if rehash:
                conn.execute(
                    update(app_users).where(app_users.c.username == account["username"])
                    .values(password_hash=hash_password(password))
                )  # fmt: skip
        record(engine, username=account["username"], role=role, action="sign_in")
        user = {k: account[k] for k in ("username", "display_name", "role")}
        return SignIn("ok", user=user)
    record(engine, username=who, role=None, action="sign_in_failed")
    if failures >= gov.lockout_after_failures:
        until = now + timedelta(minutes=gov.lockout_minutes)
        with writer(engine) as conn:
            conn.execute(
                update(sign_in_attempts).where(a.attempt_key == key)
                .values(failures=0, locked_until=until)
            )  # fmt: skip
        record(engine, username=who, role=None, action="sign_in_locked",
               detail=f"{failures} wrong passwords in a row; locked for "
                      f"{gov.lockout_minutes} minutes")  # fmt: skip
        return SignIn("locked", delay=backoff_seconds(failures), locked_until=until)
    return SignIn("failed", delay=backoff_seconds(failures))


def authenticate(
    engine: Engine, username: str, password: str, *, governance: Governance | None = None
) -> dict | None:
    """The active user whose password matches, or None (:func:`sign_in`)."""
    return sign_in(engine, username, password, governance=governance).user


# -------------------------------------------------------------- sessions
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    engine: Engine,
    username: str,
    method: str = "password",
    *,
    token: str | None = None,
    now: datetime | None = None,
) -> str:
    """A new session for ``username``: the token for the cookie, random unless
    given (only its hash is stored)."""
    token = token or secrets.token_urlsafe(32)
    now = now or utc_now()
    with writer(engine) as conn:
        conn.execute(
            insert(app_sessions).values(
                token_hash=_token_hash(token), username=username, method=method,
                created_at=now, last_seen_at=now,
            )
        )  # fmt: skip
    return token


@dataclass(frozen=True)
class SessionCheck:
    """A session looked up: ``status`` is ``ok``, ``idle``, ``absolute`` (just
    expired), ``ended`` (signed out or expired before) or ``unknown``."""

    status: str
    username: str | None = None


TOUCH_EVERY = timedelta(seconds=30)


def check_session(
    engine: Engine,
    token: str,
    *,
    governance: Governance | None = None,
    now: datetime | None = None,
) -> SessionCheck:
    """Look a session token up and apply the idle and absolute timeouts; an
    expiry ends the session and is audited as ``session_expired``."""
    gov = governance or Governance()
    now = now or utc_now()
    s = app_sessions.c
    key = _token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(select(app_sessions).where(s.token_hash == key)).mappings().first()
    if row is None:
        return SessionCheck("unknown")
    if row["ended_at"] is not None:
        return SessionCheck("ended", row["username"])
    expired = None
    if now - row["created_at"] >= timedelta(hours=gov.session_absolute_hours):
        expired = "absolute"
    elif now - row["last_seen_at"] >= timedelta(minutes=gov.session_idle_minutes):
        expired = "idle"
    if expired:
        with writer(engine) as conn:
            conn.execute(update(app_sessions).where(s.token_hash == key)
                         .values(ended_at=now, end_reason=expired))  # fmt: skip
        limit = (f"{gov.session_absolute_hours} hours after sign-in" if expired == "absolute"
                 else f"{gov.session_idle_minutes} minutes idle")  # fmt: skip
        user = get_user(engine, row["username"])
        record(engine, username=row["username"], role=user["role"] if user else None,
               action="session_expired", detail=limit)  # fmt: skip
        return SessionCheck(expired, row["username"])
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        with writer(engine) as conn:
            conn.execute(update(app_sessions).where(s.token_hash == key).values(last_seen_at=now))
    return SessionCheck("ok", row["username"])


def end_session(engine: Engine, token: str, reason: str = "signed out") -> str | None:
    """End a session (sign-out); the user name it belonged to, or None."""
    s = app_sessions.c
    key = _token_hash(token)
    with writer(engine) as conn:
        row = conn.execute(select(s.username, s.ended_at).where(s.token_hash == key)).first()
        if row is None:
            return None
        if row.ended_at is None:
            conn.execute(update(app_sessions).where(s.token_hash == key)
                         .values(ended_at=utc_now(), end_reason=reason[:20]))  # fmt: skip
    return row.username


def end_user_sessions(engine: Engine, username: str, reason: str) -> None:
    """End every open session of one account (disabled, password reset)."""
    s = app_sessions.c
    with writer(engine) as conn:
        conn.execute(
            update(app_sessions)
            .where(s.username == username, s.ended_at.is_(None))
            .values(ended_at=utc_now(), end_reason=reason[:20])
        )


# ----------------------------------------------------------------- demo
DEMO_USERS = (
    ("officer", "Demo IOM officer", "iom_officer"),
    ("chair", "Demo MARAC chair", "marac_chair"),
    ("analyst", "Demo analyst", "analyst"),
    ("admin", "Demo administrator", "admin"),
)
DEMO_PASSWORD = "demo"


def ensure_demo_users(engine: Engine, password: str = DEMO_PASSWORD) -> None:
    """The demo's local accounts (one per role), created only where missing.
    Only ``adapt demo`` (and tests) call this: the app never does."""
    for username, name, role in DEMO_USERS:
        if get_user(engine, username) is None:
            _insert(engine, username, name, role, password)


def demo_accounts_present(engine: Engine) -> list[str]:
    """The demo accounts that exist, are active and still open with the demo password."""
    names = [name for name, _, _ in DEMO_USERS]
    u = app_users.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.username, u.password_hash).where(u.username.in_(names), u.active.is_(True))
        ).all()
    return sorted(name for name, stored in rows if _verify(DEMO_PASSWORD, stored)[0])
