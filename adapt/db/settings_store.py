"""Saved settings versions and their approval.

A saved version is a **draft** until a second person approves it (or rejects
it), with a reason; the **live** version is the latest approved, and the
packaged defaults are live while none is. The rule is kept here, below the
app and the CLI, so neither can skip it: the author may not decide on their
own version (the database refuses it too), only an analyst or an
administrator may decide in the app, the CLI decides as the operating-system
user, and each decision is audited (``settings_approved``,
``settings_rejected``). Names and versions are unique (a database
constraint), and no saved version may take the packaged defaults' name and
version.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapt.core.access import ROLES, can
from adapt.core.settings import Settings, SettingsError, default_settings
from adapt.db import app_store
from adapt.db.engine import utc_now, writer
from adapt.db.models import settings_versions

DRAFT, APPROVED, REJECTED = "draft", "approved", "rejected"
STATUSES = (DRAFT, APPROVED, REJECTED)
# Who may decide on a draft in the app; the CLI decides as OPERATOR (the
# operating-system user, who already holds the database).
# Who may approve or reject a draft (besides the CLI's operator): the roles the
# access table gives "approve_settings" on the Tuning page.
APPROVER_ROLES = frozenset(r for r in ROLES if can(r, "tuning", "approve_settings"))
OPERATOR = "cli"
MAX_REASON = 2000

VERSION_COLUMNS = [
    "id", "name", "version", "author", "reason", "saved_at", "status", "decided_by",
    "decided_at", "decision_reason", "live",
]  # fmt: skip


class SettingsVersionExists(ValueError):
    """A settings version with this name and version is already saved (or is
    the packaged defaults')."""


class SettingsVersionNotFound(LookupError):
    """No saved settings version has this name and version."""


class ApprovalRefused(PermissionError):
    """This person may not decide on this settings version (the message says why)."""


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def save_settings_version(engine: Engine, settings: Settings) -> int:
    """Store a named settings version as a draft; returns its id.

    A saved (name, version) is never overwritten, and the packaged defaults'
    name and version are never taken: both raise :class:`SettingsVersionExists`.
    """
    packaged = default_settings()
    if _same_person(settings.name, packaged.name) and _same_person(
        settings.version, packaged.version
    ):
        raise SettingsVersionExists(
            f"{settings.name!r} version {settings.version!r} is the packaged defaults' "
            "name and version: choose another version"
        )
    s = settings_versions.c
    try:
        with writer(engine) as conn:
            taken = conn.execute(
                select(s.id).where(s.name == settings.name, s.version == settings.version)
            ).first()
            if taken:
                raise SettingsVersionExists(
                    f"settings {settings.name!r} version {settings.version!r} is already saved"
                )
            result = conn.execute(
                insert(settings_versions).values(
                    name=settings.name,
                    version=settings.version,
                    author=settings.author,
                    reason=settings.reason,
                    settings_json=settings.to_json(),
                    saved_at=utc_now(),
                    status=DRAFT,
                )
            )
            return int(result.inserted_primary_key[0])
    except IntegrityError:  # saved by someone else between the check and the insert
        raise SettingsVersionExists(
            f"settings {settings.name!r} version {settings.version!r} is already saved"
        ) from None


def _live_id(conn) -> int | None:  # type: ignore[no-untyped-def]
    s = settings_versions.c
    return conn.execute(
        select(s.id).where(s.status == APPROVED).order_by(s.decided_at.desc(), s.id.desc()).limit(1)
    ).scalar()


def settings_versions_frame(engine: Engine) -> pd.DataFrame:
    """Every saved settings version, newest first, without the JSON: its status
    (draft, approved, rejected), who decided, when and why, and ``live`` (True
    for the one version in force)."""
    s = settings_versions.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                s.id, s.name, s.version, s.author, s.reason, s.saved_at, s.status,
                s.decided_by, s.decided_at, s.decision_reason,
            ).order_by(s.id.desc())
        ).all()  # fmt: skip
        live = _live_id(conn)
    frame = pd.DataFrame(rows, columns=VERSION_COLUMNS[:-1])
    frame["live"] = frame["id"] == live
    return frame


def settings_json(engine: Engine, name: str, version: str | None = None) -> str | None:
    """The JSON of a saved settings version (the latest saved of that name by default)."""
    s = settings_versions.c
    stmt = select(s.settings_json).where(s.name == name)
    if version is not None:
        stmt = stmt.where(s.version == version)
    with engine.connect() as conn:
        return conn.execute(stmt.order_by(s.id.desc()).limit(1)).scalar()


def live_version(engine: Engine) -> dict | None:
    """The live (latest approved) version's row, with its JSON, or None when
    none is approved (the packaged defaults are live)."""
    s = settings_versions.c
    with engine.connect() as conn:
        live = _live_id(conn)
        if live is None:
            return None
        row = conn.execute(select(settings_versions).where(s.id == live)).mappings().one()
    return dict(row)


def live_settings(engine: Engine) -> tuple[Settings, str]:
    """The settings in force and words saying which they are, for the Cohort
    page, the CLI and every other reader of the live settings.

    The latest approved version, or the packaged defaults while none is
    approved. A stored version that no longer validates is not used: the
    packaged defaults are, and the words say so."""
    row = live_version(engine)
    if row is None:
        packaged = default_settings()
        return packaged, (
            f"packaged defaults {packaged.name!r} v{packaged.version} "
            "(no saved version has been approved)"
        )
    label = f"{row['name']!r} v{row['version']}"
    try:
        settings = Settings.from_json(row["settings_json"], source=label)
    except SettingsError as err:
        return default_settings(), (
            f"packaged defaults: the approved version {label} cannot be read ({err})"
        )
    when = _day(row["decided_at"])
    return settings, f"approved version {label}, approved by {row['decided_by']} on {when}"


def _day(at: datetime | None) -> str:
    return f"{at:%d/%m/%Y}" if at else "an unknown date"


def decide_settings_version(
    engine: Engine,
    name: str,
    version: str,
    *,
    approve: bool,
    by: str,
    role: str | None,
    reason: str,
) -> dict:
    """Approve (``approve=True``) or reject a draft, audited; returns the decided row.

    ``by`` is the approving person: the app's signed-in user (``role`` their
    role, which must be one of :data:`APPROVER_ROLES`) or, for the CLI, the
    operating-system user (``role`` :data:`OPERATOR`). Raises
    :class:`SettingsVersionNotFound`, or :class:`ApprovalRefused` when ``by``
    is the author, the role may not decide, the reason is empty or the
    version is no longer a draft. An approved version becomes live at once.
    """
    if role not in APPROVER_ROLES and role != OPERATOR:
        raise ApprovalRefused("only an analyst or an administrator may approve or reject settings")
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalRefused("give a reason for the decision")
    if len(reason) > MAX_REASON:
        raise ApprovalRefused(f"the reason is too long (at most {MAX_REASON} characters)")
    by = (by or "").strip()
    if not by:
        raise ApprovalRefused("the person deciding is not known")
    s = settings_versions.c
    status = APPROVED if approve else REJECTED
    with writer(engine) as conn:
        row = (
            conn.execute(
                select(s.id, s.author, s.status).where(s.name == name, s.version == version)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise SettingsVersionNotFound(f"no saved settings {name!r} version {version!r}")
        if _same_person(row["author"], by):
            raise ApprovalRefused(
                f"{by} wrote {name!r} v{version}: a second person must approve or reject it"
            )
        if row["status"] != DRAFT:
            raise ApprovalRefused(f"{name!r} v{version} is already {row['status']}")
        done = conn.execute(
            update(settings_versions)
            .where(s.id == row["id"], s.status == DRAFT)
            .values(status=status, decided_by=by, decided_at=utc_now(), decision_reason=reason)
        )
        if done.rowcount != 1:  # pragma: no cover - decided by someone else at this instant
            raise ApprovalRefused(f"{name!r} v{version} was decided by someone else")
    # The decision is committed first and its row keeps who, when and why, so
    # an audit failure here cannot lose it.
    app_store.record(
        engine,
        username=by,
        role=role,
        action="settings_approved" if approve else "settings_rejected",
        detail=f"{name} v{version}: {reason}",
    )
    return {"name": name, "version": version, "status": status, "decided_by": by}
