"""What the Tuning page calls: the editors' settings (with each setting's
help text), what an edit does to the cohort, what a draft would change
against the live version (for its approver), and the backtest capture curve,
which runs as a background job (a second date ranked and the year after it
read) whose result is kept per data version, date and settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from adapt.core.history import History
from adapt.core.settings import Settings, parse_json
from adapt.evaluation.backtest import Future
from adapt.features import compute_features
from adapt.scoring.score import rank
from adapt.services import data, jobs, session
from adapt.views.text import md_escape
from adapt.views.tuning import (
    BANDED,
    bands_json,
    capture_curve_from,
    capture_frame,
    capture_sentence,
    capture_table,
    cohort_changes,
    histogram_frame,
    histogram_sentence,
    histogram_table,
    is_integer_setting,
    next_version,
    scalar_settings,
    score_histogram,
    setting_label,
    settings_diff,
)
from adapt.views.tuning import apply_edits as _apply_edits
from adapt.views.tuning import backtest_as_of as _backtest_as_of

BACKTEST = "backtest"  # the kind of job a backtest is
HORIZON_DAYS = 365

__all__ = [
    "BACKTEST",
    "BANDED",
    "DIFFERENCE_ROWS",
    "Backtest",
    "CohortDifference",
    "apply_edits",
    "backtest_as_of",
    "backtest_job",
    "bands_json",
    "capture_frame",
    "capture_sentence",
    "capture_table",
    "cohort_changes",
    "cohort_difference",
    "histogram_frame",
    "histogram_sentence",
    "histogram_table",
    "is_integer_setting",
    "md_escape",
    "next_version",
    "scalar_settings",
    "score_histogram",
    "setting_label",
    "settings_diff",
    "submit_backtest",
]


def apply_edits(
    base: Settings,
    scalars: dict[tuple[str, ...], float | int | None],
    bands: dict[str, str],
    exclude_statuses: list[str] | None = None,
    **meta: str,
) -> Settings:
    """The validated settings the editors give (:func:`adapt.views.tuning.apply_edits`).

    Each bands box is parsed as settings JSON first
    (:func:`adapt.core.settings.parse_json`), so deep nesting, a number of
    thousands of digits, ``Infinity`` or ``NaN`` give a
    :class:`~adapt.core.settings.SettingsError` naming the box, not a crash."""
    for part, text in bands.items():
        parse_json(text, f"{part}.bands")
    return _apply_edits(base, scalars, bands, exclude_statuses, **meta)


DIFFERENCE_ROWS = 500  # people listed each way; the counts are always whole


@dataclass(frozen=True)
class CohortDifference:
    """Who a draft brings into the cohort and who it takes out, against the
    live settings, as of one date (the tables at most :data:`DIFFERENCE_ROWS`
    rows each; ``entering_count``/``leaving_count`` are whole)."""

    as_of: date
    cohort_live: int
    cohort_draft: int
    entering: pd.DataFrame
    leaving: pd.DataFrame
    entering_count: int
    leaving_count: int


_DIFFERENCE_COLUMNS = {
    "rank_saved": "rank_live", "score_saved": "score_live",
    "rank_new": "rank_draft", "score_new": "score_draft",
}  # fmt: skip


@st.cache_resource(show_spinner="Comparing the cohorts…", max_entries=8)
def _difference(version: tuple, as_of: date, draft_json: str, live_json: str) -> CohortDifference:
    live, draft = Settings.from_json(live_json), Settings.from_json(draft_json)
    ranked_live, ranked_draft = data.ranked(as_of, live), data.ranked(as_of, draft)
    moved = {
        way: frame.rename(columns=_DIFFERENCE_COLUMNS)
        for way, frame in cohort_changes(ranked_live, ranked_draft).items()
    }
    return CohortDifference(
        as_of=as_of,
        cohort_live=int(ranked_live["in_cohort"].sum()),
        cohort_draft=int(ranked_draft["in_cohort"].sum()),
        entering=moved["entering"].head(DIFFERENCE_ROWS),
        leaving=moved["leaving"].head(DIFFERENCE_ROWS),
        entering_count=len(moved["entering"]),
        leaving_count=len(moved["leaving"]),
    )


def cohort_difference(
    draft: Settings, live: Settings, as_of: date | None = None
) -> CohortDifference:
    """The draft's cohort against the live settings' as of ``as_of`` (the
    latest data by default), through the cached rankings; kept per data
    version, date and both settings."""
    when = as_of or data.default_as_of()
    return _difference(data.data_version(), when, draft.to_json(), live.to_json())


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
