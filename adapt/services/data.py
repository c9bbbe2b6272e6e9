"""Cached data for the pages: the history and features, keyed by a data
version that changes with every import, identity run or identity decision,
so caches refresh after a change and are shared between sessions otherwise.

Cached objects are shared: treat them as read-only.

:func:`hide_table_downloads`: no table a page draws offers its own "Download
as CSV" (a file of personal data with no purpose and no audit).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from adapt.core.history import History
from adapt.core.settings import Settings, default_settings
from adapt.db import people, quarantine_frame, queries
from adapt.db.history import load_history
from adapt.db.search import person_name_rows
from adapt.features import compute_features
from adapt.graph import build_addresses, build_links
from adapt.scoring.score import rank
from adapt.services import session
from adapt.views import cohort as cohort_views
from adapt.views.marac import NameIndex, build_name_index
from adapt.views.person import HistoryIndex

# The toolbar button Streamlit 1.67 draws on a table, hidden for the one run in
# which the frontend has not yet been told ``client.disableDataExport``.
_HIDE_TABLE_DOWNLOAD = (
    '<style>[data-testid="stElementToolbar"] button[aria-label="Download as CSV"]'
    "{display:none !important}</style>"
)


def hide_table_downloads() -> None:
    """Take the "Download as CSV" button off every table and chart table:
    Streamlit's ``client.disableDataExport`` (a documented, scriptable client
    option; it also stops copying cells), set for the whole server and sent to
    the browser at the start of each run, and, for a run that started before
    it was set, a style rule hiding the button. Pages call it first."""
    if not st.get_option("client.disableDataExport"):
        st.set_option("client.disableDataExport", True)
    st.html(_HIDE_TABLE_DOWNLOAD)


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


def feature_key(settings: Settings) -> str:
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
    return _features(data_version(), as_of, feature_key(settings))


def default_as_of() -> date:
    last = history().last_date
    return last.date() if last is not None else date.today()


# ---- caches built from the whole history (shared, read-only) -----------------------------
@st.cache_resource(show_spinner=False, max_entries=2)
def _labels(version: tuple) -> pd.DataFrame:
    return people.person_labels(session.engine())


def labels() -> pd.DataFrame:
    """``person_id, label`` for every resolved person (:func:`adapt.db.people.person_labels`)."""
    return _labels(data_version())


@st.cache_resource(show_spinner=False, max_entries=2)
def _label_map(version: tuple) -> dict[str, str]:
    frame = _labels(version)
    return dict(zip(frame["person_id"], frame["label"], strict=True))


def label_map() -> dict[str, str]:
    return _label_map(data_version())


@st.cache_resource(show_spinner="Ranking…", max_entries=16)
def _ranked(version: tuple, as_of: date, settings_json: str) -> pd.DataFrame:
    settings = Settings.from_json(settings_json)
    return rank(_features(version, as_of, feature_key(settings)), settings)


def ranked(as_of: date, settings: Settings) -> pd.DataFrame:
    """:func:`adapt.scoring.score.rank` of the cached features, cached per settings."""
    return _ranked(data_version(), as_of, settings.to_json())


@st.cache_resource(show_spinner=False, max_entries=8)
def _cohort_base(version: tuple, as_of: date, settings_json: str) -> pd.DataFrame:
    return cohort_views.cohort_view(
        _ranked(version, as_of, settings_json), _labels(version), _history(version),
        cohort_views.NO_DECISIONS,
    )  # fmt: skip


def cohort_base(as_of: date, settings: Settings) -> pd.DataFrame:
    """The Cohort page's table before decisions (:func:`adapt.views.cohort.with_decisions`)."""
    return _cohort_base(data_version(), as_of, settings.to_json())


@st.cache_resource(show_spinner="Building the network…", max_entries=2)
def _graph(version: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    history = _history(version)
    return build_links(history), build_addresses(history)


def graph() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The victim–perpetrator–address links and the address table."""
    return _graph(data_version())


@st.cache_resource(show_spinner="Indexing the history…", max_entries=2)
def _history_index(version: tuple) -> HistoryIndex:
    return HistoryIndex.build(_history(version))


def history_index() -> HistoryIndex:
    """Row positions per person and per incident (:class:`adapt.views.person.HistoryIndex`)."""
    return _history_index(data_version())


@st.cache_resource(show_spinner="Indexing names…", max_entries=2)
def _name_index(version: tuple) -> NameIndex:
    return build_name_index(person_name_rows(session.engine()))


def name_index() -> NameIndex:
    return _name_index(data_version())


@st.cache_resource(show_spinner="Reading the quarantine…", max_entries=2)
def _quarantine(version: tuple) -> pd.DataFrame:
    return quarantine_frame(session.engine())


def quarantine() -> pd.DataFrame:
    """Every quarantined problem; read again only after an import (the data version)."""
    return _quarantine(data_version())
