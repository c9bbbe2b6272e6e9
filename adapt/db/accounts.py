"""The app's accounts (``app_users``): create, re-password, disable, change a
role, sign in. Every sign-in, refused or not, is audited through
:func:`adapt.db.app_store.record`."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd
from sqlalchemy import Engine, insert, select, update

from adapt.core.access import ROLES
from adapt.db.app_store import record
from adapt.db.engine import utc_now, writer
from adapt.db.models import app_users


def _hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, _digest = stored.split("$")
    return hmac.compare_digest(_hash_password(password, bytes.fromhex(salt)), stored)


def add_user(
    engine: Engine, username: str, display_name: str, role: str, password: str | None
) -> None:
    """Create or replace a local user (password None: an OIDC-only account)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    with writer(engine) as conn:
        conn.execute(app_users.delete().where(app_users.c.username == username))
        conn.execute(
            insert(app_users).values(
                username=username,
                display_name=display_name,
                role=role,
                password_hash=_hash_password(password) if password else None,
                active=True,
                created_at=utc_now(),
            )
        )


def set_active(engine: Engine, username: str, active: bool) -> None:
    with writer(engine) as conn:
        conn.execute(
            update(app_users).where(app_users.c.username == username).values(active=active)
        )


def get_user(engine: Engine, username: str) -> dict | None:
    """The user's row (without the password hash), or None."""
    u = app_users.c
    with engine.connect() as conn:
        row = conn.execute(
            select(u.username, u.display_name, u.role, u.active).where(u.username == username)
        ).mappings().first()  # fmt: skip
    return dict(row) if row else None


def authenticate(engine: Engine, username: str, password: str) -> dict | None:
    """The active user whose password matches, or None. Both outcomes are audited."""
    u = app_users.c
    with engine.connect() as conn:
        row = conn.execute(select(app_users).where(u.username == username)).mappings().first()
    ok = bool(row) and row["active"] and _check_password(password, row["password_hash"])
    record(
        engine,
        username=username[:100],
        role=row["role"] if ok else None,
        action="sign_in" if ok else "sign_in_failed",
    )
    if not ok:
        return None
    return {"username": row["username"], "display_name": row["display_name"], "role": row["role"]}


def users_frame(engine: Engine) -> pd.DataFrame:
    u = app_users.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.username, u.display_name, u.role, u.active, u.created_at).order_by(u.username)
        ).all()
    return pd.DataFrame(rows, columns=["username", "display_name", "role", "active", "created_at"])


DEMO_USERS = (
    ("officer", "Demo IOM officer", "iom_officer"),
    ("chair", "Demo MARAC chair", "marac_chair"),
    ("analyst", "Demo analyst", "analyst"),
    ("admin", "Demo administrator", "admin"),
)


def ensure_demo_users(engine: Engine, password: str = "demo") -> None:
    """The demo's local accounts (one per role), created only where missing."""
    for username, name, role in DEMO_USERS:
        if get_user(engine, username) is None:
            add_user(engine, username, name, role, password)
