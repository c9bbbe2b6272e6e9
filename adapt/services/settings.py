"""The settings in force and the saved settings versions, for every page.

A saved version is a draft until a second person approves it
(:mod:`adapt.db.settings_store` keeps the rule). The settings in force are the
live version (the latest approved), or the packaged defaults while none is
approved: the Cohort, Person and MARAC pages all read them here, and
:func:`live` gives the words that say which they are.
"""

from __future__ import annotations

import pandas as pd

from adapt.core.settings import Settings, default_settings, setting_descriptions
from adapt.db.settings_store import (
    APPROVED,
    APPROVER_ROLES,
    DRAFT,
    REJECTED,
    ApprovalRefused,
    SettingsVersionExists,
    SettingsVersionNotFound,
    decide_settings_version,
    live_settings,
    save_settings_version,
    settings_json,
    settings_versions_frame,
)
from adapt.services import session
from adapt.views.cohort import settings_label as label

PACKAGED = "default (packaged)"

__all__ = [
    "APPROVED",
    "DRAFT",
    "PACKAGED",
    "REJECTED",
    "ApprovalRefused",
    "SettingsVersionExists",
    "SettingsVersionNotFound",
    "approve",
    "choice_caption",
    "choice_of",
    "choices",
    "decide",
    "descriptions",
    "drafts",
    "label",
    "live",
    "live_choice",
    "live_settings",
    "load_choice",
    "may_decide",
    "reject",
    "save",
    "settings_in_force",
    "versions",
]


def versions() -> pd.DataFrame:
    """The saved versions, newest first, with their status and which is live
    (:func:`adapt.db.settings_store.settings_versions_frame`)."""
    return settings_versions_frame(session.engine())


def live() -> tuple[Settings, str]:
    """The settings in force and words saying which (:func:`live_settings`)."""
    return live_settings(session.engine())


def settings_in_force() -> Settings:
    """The live (latest approved) version, or the defaults when none is approved."""
    return live()[0]


def choice_of(name: str, version: str) -> str:
    """The :func:`choices` entry of a saved version."""
    return f"{name} v{version}"


def choices(saved: pd.DataFrame) -> list[str]:
    """The packaged defaults, then every saved version as ``name vVERSION``."""
    return [PACKAGED, *[choice_of(r.name, r.version) for r in saved.itertuples()]]


def live_choice(saved: pd.DataFrame) -> str:
    """The :func:`choices` entry of the live version (the packaged defaults when
    none is approved)."""
    live_rows = saved[saved["live"]] if "live" in saved else saved.iloc[0:0]
    if live_rows.empty:
        return PACKAGED
    row = live_rows.iloc[0]
    return choice_of(str(row["name"]), str(row["version"]))


def choice_caption(choice: str, saved: pd.DataFrame) -> str:
    """``choice`` with its status, for a list of versions (``name v2 · draft``)."""
    if choice == PACKAGED:
        return f"{PACKAGED} · live" if live_choice(saved) == PACKAGED else PACKAGED
    name, version = _split(choice)
    row = saved[(saved["name"] == name) & (saved["version"] == version)]
    if row.empty:
        return choice
    status = "live" if bool(row["live"].iloc[0]) else str(row["status"].iloc[0])
    return f"{choice} · {status}"


def drafts(saved: pd.DataFrame) -> pd.DataFrame:
    """The saved versions still awaiting a decision, newest first."""
    return saved[saved["status"] == DRAFT].reset_index(drop=True)


def _split(choice: str) -> tuple[str, str]:
    name, _, version = choice.rpartition(" v")
    return name, version


def load_choice(choice: str) -> Settings:
    """The settings of one of :func:`choices`."""
    if choice == PACKAGED:
        return default_settings()
    name, version = _split(choice)
    text = settings_json(session.engine(), name, version)
    return Settings.from_json(text, source=choice) if text else default_settings()


def save(settings: Settings, *, name: str, version: str, author: str, reason: str) -> Settings:
    """Validate and store a named version as a draft, audited. It is not used
    until a second person approves it. Raises :class:`SettingsError` or
    :class:`SettingsVersionExists` with a message for the user."""
    final = settings.model_copy(
        update={
            "name": name.strip(),
            "version": version.strip(),
            "author": author,
            "reason": reason.strip(),
        }
    )
    final = Settings.from_json(final.to_json())  # validated again, as a file would be
    save_settings_version(session.engine(), final)
    session.audit("settings_saved", detail=f"{final.name} v{final.version} (draft)")
    return final


def may_decide(user: dict | None, author: str | None = None) -> bool:
    """True when ``user`` may approve or reject (a draft by ``author``): an
    analyst or an administrator who is not its author."""
    if user is None or user.get("role") not in APPROVER_ROLES:
        return False
    return author is None or author.strip().casefold() != user["username"].strip().casefold()


def decide(user: dict, choice: str, *, approve: bool, reason: str) -> dict:
    """Approve or reject the draft ``choice`` as ``user``, audited. Raises
    :class:`ApprovalRefused` (or :class:`SettingsVersionNotFound`) with a
    message for the user."""
    name, version = _split(choice)
    return decide_settings_version(
        session.engine(),
        name,
        version,
        approve=approve,
        by=user["username"],
        role=user.get("role"),
        reason=reason,
    )


def approve(user: dict, choice: str, reason: str) -> dict:
    return decide(user, choice, approve=True, reason=reason)


def reject(user: dict, choice: str, reason: str) -> dict:
    return decide(user, choice, approve=False, reason=reason)


def descriptions() -> dict[str, str]:
    """Each setting's help text by dotted path (``windows.window_days``)."""
    return setting_descriptions()
