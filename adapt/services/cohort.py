"""What the Cohort page calls: the ranked list as of a date with decisions,
the filters, an officer's adopt/decline decision (with its score snapshot),
the export of the list shown, and "since the last review" (what changed
since the latest stored review dated before the as-of date; a new review).

Since the last review: the live cohort as of the date under the settings in
force (the cached ranking, with the decisions stored now) against the latest
stored review dated before that date (its people cached by review id and data
version): a couple of indexed queries and a diff on cached frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from adapt.core.settings import Settings
from adapt.db import app_store, people, reviews
from adapt.db.reviews import StoredReview
from adapt.scoring import cycle
from adapt.scoring.score import PARTS
from adapt.services import data, model_advice, session
from adapt.views.cohort import (
    ALERT_CHOICES,
    CHOICES,
    DISPLAY_COLUMNS,
    GROUP_TITLES,
    OPEN_OPTIONS,
    PART_LABELS,
    TOP_SHOWN,
    adopted_with_alerts,
    display_frame,
    export_bytes,
    export_frame,
    filter_cohort,
    hidden_alerts,
    person_at,
    rank_words,
    review_groups,
    review_summary,
    score_snapshot,
    score_spread,
    with_decisions,
)
from adapt.views.text import md_escape
from adapt.views.tuning import score_histogram

__all__ = [
    "ADVICE_WORDS",
    "ALERT_CHOICES",
    "CHOICES",
    "DISPLAY_COLUMNS",
    "GROUP_TITLES",
    "OPEN_OPTIONS",
    "PARTS",
    "PART_LABELS",
    "TOP_SHOWN",
    "SinceReview",
    "adopted_with_alerts",
    "cohort_table",
    "create_review",
    "display_frame",
    "export_file",
    "filter_cohort",
    "hidden_alerts",
    "md_escape",
    "person_at",
    "rank_words",
    "record_decision",
    "review_summary",
    "score_histogram",
    "score_spread",
    "since_last_review",
    "with_advice",
]


def cohort_table(as_of: date, settings: Settings) -> pd.DataFrame:
    """Everyone ranked as of the date under the settings, with each person's
    decision status (the cached table plus the decisions stored now)."""
    engine = session.engine()
    return with_decisions(
        data.cohort_base(as_of, settings),
        app_store.decisions_frame(engine),
        people.first_in_cohort(engine),
        as_of,
    )


def export_file(shown: pd.DataFrame, ranked: pd.DataFrame, suffix: str) -> bytes:
    """The list shown (one row per person, with every feature and score part
    from the ranking) as a formula-safe ``.csv`` or ``.xlsx`` file."""
    return export_bytes(export_frame(shown, ranked), suffix)


def record_decision(
    user: dict,
    table: pd.DataFrame,
    person_id: str,
    decision: str,
    reason: str,
    as_of: date,
    settings: Settings,
) -> None:
    """Store an officer's decision with the score they saw (audited by the store)."""
    app_store.record_decision(
        session.engine(),
        person_id=person_id,
        decision=decision,
        author=user["username"],
        reason=reason,
        as_of=as_of,
        settings_name=settings.name,
        settings_version=settings.version,
        snapshot=score_snapshot(table, person_id),
    )


# ---- since the last review ---------------------------------------------------------------
@dataclass(frozen=True)
class SinceReview:
    """What changed since the last review, as the Cohort page shows it."""

    as_of: date
    baseline: StoredReview | None  # the latest review dated before as_of
    on_date: StoredReview | None  # a review stored as of as_of itself, if any
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # change -> rows drawn
    counts: dict[str, int] = field(default_factory=dict)
    settings_note: str = ""  # the settings changed since the baseline (words), or empty
    step: float = 5.0
    interval_days: int = 28

    @property
    def last(self) -> StoredReview | None:
        """The latest review dated on or before as_of."""
        return self.on_date or self.baseline

    @property
    def next_due(self) -> date | None:
        """When the next review is due after the latest one up to as_of."""
        last = self.last
        return None if last is None else last.as_of + timedelta(days=self.interval_days)

    def summary(self) -> str:
        return review_summary(self.counts, self.step)


@st.cache_resource(show_spinner=False, max_entries=4)
def _review_people(version: tuple, review_id: int) -> pd.DataFrame:
    return reviews.review_people_frame(session.engine(), review_id, may_change_only=True)


@st.cache_resource(show_spinner=False, max_entries=8)
def _now_people(version: tuple, as_of: date, settings_json: str) -> pd.DataFrame:
    """The people as a review would store them now, before the decisions (cached)."""
    ranked = data.ranked(as_of, Settings.from_json(settings_json))
    return cycle.review_people(ranked, pd.DataFrame())


def since_last_review(as_of: date, settings: Settings) -> SinceReview:
    """The live cohort as of ``as_of`` under ``settings`` against the latest
    review dated before it: the groups of change (entered, left, new alerts,
    adopted with new incidents, management ended, score changes), with names."""
    engine = session.engine()
    base_id = reviews.latest_review_before(engine, as_of)
    on_id = reviews.latest_review_before(engine, as_of, inclusive=True)
    baseline = reviews.review_header(engine, base_id) if base_id is not None else None
    on_date = reviews.review_header(engine, on_id) if on_id not in (None, base_id) else None
    common = {"step": float(settings.cycle.score_change_step),
              "interval_days": int(settings.cycle.review_interval_days)}  # fmt: skip
    if baseline is None:
        return SinceReview(as_of, None, on_date, **common)
    base = _now_people(data.data_version(), as_of, settings.to_json())
    now = cycle.with_decisions(base, app_store.decisions_frame(engine))
    before = _review_people(data.data_version(), baseline.review_id)
    missing = cycle.missing_before(before, now)  # e.g. people who entered: their rows then
    if missing:
        extra = reviews.review_people_frame(engine, baseline.review_id, person_ids=missing)
        before = pd.concat([before, extra], ignore_index=True)
    note = cycle.settings_note(
        baseline.settings_json, f"{baseline.settings_name} v{baseline.settings_version}",
        settings.to_json(), f"{settings.name} v{settings.version}",
    )  # fmt: skip
    changes = cycle.review_changes(before, now, settings, before_as_of=baseline.as_of,
                                   settings_changed=note)  # fmt: skip
    return SinceReview(
        as_of, baseline, on_date, review_groups(changes, data.labels()),
        cycle.change_counts(changes), note, **common,
    )  # fmt: skip


def create_review(user: dict, as_of: date, settings: Settings) -> cycle.ReviewResult:
    """Store a review of the cohort as of ``as_of`` under the settings in
    force (the cached ranking), audited ``review_created`` with the user."""
    return cycle.store_review(session.engine(), data.ranked(as_of, settings), as_of=as_of,
                              settings=settings, username=user["username"])  # fmt: skip


def with_advice(drawn: pd.DataFrame, as_of: date, settings: Settings) -> pd.DataFrame:
    """The rows drawn with the learned model's probability (:mod:`adapt.services.model_advice`:
    empty when no model was trained on this force)."""
    return model_advice.advice_for(drawn, as_of, settings)


ADVICE_WORDS = model_advice.ADVICE_WORDS
