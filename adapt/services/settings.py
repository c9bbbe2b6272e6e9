"""The settings in force and the saved settings versions, for every page.

The settings in force are the newest saved version, or the packaged defaults
when none is saved: the Cohort, Person and MARAC pages all read them here, so
a saved change reaches every page at once.
"""

from __future__ import annotations

import pandas as pd

from adapt.core.settings import Settings, default_settings, setting_descriptions
from adapt.db.scores import (
    SettingsVersionExists,
    save_settings_version,
    settings_json,
    settings_versions_frame,
)
from adapt.services import session
from adapt.views.cohort import settings_label as label

PACKAGED = "default (packaged)"

__all__ = [
    "PACKAGED",
    "SettingsVersionExists",
    "choices",
    "descriptions",
    "label",
    "load_choice",
    "save",
    "settings_in_force",
    "versions",
]


def versions() -> pd.DataFrame:
    """The saved versions, newest first (:func:`adapt.db.scores.settings_versions_frame`)."""
    return settings_versions_frame(session.engine())


def settings_in_force() -> Settings:
    """The newest saved settings version, or the defaults when none is saved."""
    saved = versions()
    if saved.empty:
        return default_settings()
    newest = saved.iloc[0]
    text = settings_json(session.engine(), str(newest["name"]), str(newest["version"]))
    return Settings.from_json(text) if text else default_settings()


def choices(saved: pd.DataFrame) -> list[str]:
    """The packaged defaults, then every saved version as ``name vVERSION``."""
    return [PACKAGED, *[f"{r.name} v{r.version}" for r in saved.itertuples()]]


def load_choice(choice: str) -> Settings:
    """The settings of one of :func:`choices`."""
    if choice == PACKAGED:
        return default_settings()
    name, _, version = choice.partition(" v")
    text = settings_json(session.engine(), name, version)
    return Settings.from_json(text) if text else default_settings()


def save(settings: Settings, *, name: str, version: str, author: str, reason: str) -> Settings:
    """Validate and store a named version, audited. Raises :class:`SettingsError`
    or :class:`SettingsVersionExists` with a message for the user."""
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
    session.audit("settings_saved", detail=f"{final.name} v{final.version}")
    return final


def descriptions() -> dict[str, str]:
    """Each setting's help text by dotted path (``windows.window_days``)."""
    return setting_descriptions()
