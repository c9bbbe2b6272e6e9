"""What the Tuning page calls: the editors' settings (with each setting's
help text), what an edit does to the cohort, and the backtest capture curve,
which runs as a background job (a second date ranked and the year after it
read) whose result is kept per data version, date and settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.evaluation.backtest import Future
from adapt.features import compute_features
from adapt.scoring.score import rank
from adapt.services import data, jobs, session
from adapt.views.tuning import (
    BANDED,
    apply_edits,
    bands_json,
    capture_curve_from,
    cohort_changes,
    is_integer_setting,
    next_version,
    scalar_settings,
    score_histogram,
    setting_label,
    settings_diff,
)
from adapt.views.tuning import backtest_as_of as _backtest_as_of

BACKTEST = "backtest"  # the kind of job a backtest is
HORIZON_DAYS = 365

__all__ = [
    "BACKTEST",
    "BANDED",
    "Backtest",
    "apply_edits",
    "backtest_as_of",
    "backtest_job",
    "bands_json",
    "cohort_changes",
    "is_integer_setting",
    "next_version",
    "scalar_settings",
    "score_histogram",
    "setting_label",
    "settings_diff",
    "submit_backtest",
]


@dataclass(frozen=True)
class Backtest:
    """A backtest's capture curve (``method, k, harm_share, incident_share``) and
    the cohort size the settings gave on its date."""

    as_of: date
    curve: pd.DataFrame
    cohort: int


def backtest_as_of() -> date | None:
    """One year before the latest incident, or None when the data spans less than two years."""
    return _backtest_as_of(data.history())


# Called from the job's thread only: no spinner (there is no page to draw it on).
# The history is passed, not hashed (the leading underscore); the data version keys it.
@st.cache_resource(show_spinner=False, max_entries=4)
def _features_at(version: tuple, when: date, feature_json: str, _history: History) -> pd.DataFrame:
    return compute_features(_history, when, Settings.from_json(feature_json))


@st.cache_resource(show_spinner=False, max_entries=4)
def _future_at(version: tuple, when: date, harm_table: str, _history: History) -> Future:
    return Future.after(_history, when, HORIZON_DAYS, harm_table)


def _backtest(
    history: History, version: tuple, when: date, settings: Settings, progress: jobs.Progress
) -> Backtest:
    progress("features as of the backtest date", 0, 3)
    features = _features_at(version, when, data.feature_key(settings), history)
    progress("ranking", 1, 3)
    ranked = rank(features, settings)
    progress("reading the year after", 2, 3)
    future = _future_at(version, when, settings.harm_table, history)
    curve = capture_curve_from(ranked, future, settings)
    progress("done", 3, 3)
    return Backtest(when, curve, int(ranked["in_cohort"].sum()))


def submit_backtest(user: dict, when: date, settings: Settings) -> str:
    """Backtest ``settings`` as of ``when`` in the background; returns the job id.
    The same data, date and settings give the same job (its result is kept); a
    newer edit replaces this user's backtests still waiting to start."""
    version = data.data_version()
    history = data.history()
    return jobs.runner().submit(
        BACKTEST,
        lambda progress: _backtest(history, version, when, settings, progress),
        database=session.database_url(),
        label="Backtest",
        owner=user["username"],
        key=(version, when, settings.to_json()),
        lane="read",
        supersede=True,
    )


def backtest_job(job_id: str) -> jobs.Job | None:
    return jobs.runner().get(job_id)
