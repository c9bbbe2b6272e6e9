"""Cached data for the pages: the history and features, keyed by a data
version that changes with every import, identity run or identity decision,
so caches refresh after a change and are shared between sessions otherwise.

Cached objects are shared: treat them as read-only.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from adapt.db import queries
from adapt.db.history import load_history
from adapt.features import History, compute_features
from adapt.scoring.settings import Settings, default_settings
from adapt.ui import session


def data_version() -> tuple:
    """Changes whenever stored data or identities change."""
    return (session.database_url(), *queries.data_version(session.engine()))


@st.cache_resource(show_spinner="Reading the history…", max_entries=2)
def _history(version: tuple) -> History:
    return load_history(session.engine())


def history() -> History:
    return _history(data_version())


@st.cache_resource(show_spinner="Computing features…", max_entries=8)
def _features(version: tuple, as_of: date, feature_settings_json: str) -> pd.DataFrame:
    settings = Settings.from_json(feature_settings_json)
    return compute_features(_history(version), as_of, settings)


def _feature_key(settings: Settings) -> str:
    """Only the settings features depend on (windows, escalation, harm table)
    key the feature cache; weights and bands only change the ranking."""
    base = default_settings()
    return base.model_copy(
        update={
            "windows": settings.windows,
            "escalation": settings.escalation,
            "harm_table": settings.harm_table,
        }
    ).to_json()


def features(as_of: date, settings: Settings) -> pd.DataFrame:
    return _features(data_version(), as_of, _feature_key(settings))


def default_as_of() -> date:
    last = history().last_date
    return last.date() if last is not None else date.today()


def settings_version_count() -> int:
    return queries.settings_version_count(session.engine())
