"""The four-weekly cycle: reviews of the cohort and what changed between them.

A review is a dated, stored run of the cohort with the approved settings
(:func:`create_review`); :func:`review_export_frame` lists, against the
previous review, who entered and left (with the reason in words), score
changes of at least ``settings.cycle.score_change_step``, new alerts, adopted
people with new incidents, and people whose management ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from adapt.core.settings import Settings


@dataclass(frozen=True)
class ReviewResult:
    """A stored review: its id, date, settings and how many people it holds."""

    review_id: int
    as_of: date
    settings_name: str
    settings_version: str
    people: int
    in_cohort: int


def create_review(
    engine: Engine, *, as_of: object | None, settings: Settings, username: str
) -> ReviewResult:
    """Store a review of the cohort as of ``as_of`` under ``settings`` (audited
    ``review_created`` with ``username``)."""
    raise NotImplementedError("issue 14: reviews")


def review_export_frame(engine: Engine, *, as_of: object | None = None) -> tuple[pd.DataFrame, str]:
    """The review as of ``as_of`` (the latest when None) against the review
    before it: one row per person who changed, at least ``person_id, name,
    change, reason``; and a few words on what it holds (for the audit entry)."""
    raise NotImplementedError("issue 14: reviews")
