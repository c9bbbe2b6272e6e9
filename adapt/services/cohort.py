"""What the Cohort page calls: the ranked list as of a date with decisions,
the filters, an officer's adopt/decline decision (with its score snapshot)
and the export of the list shown."""

from __future__ import annotations

from datetime import date

import pandas as pd

from adapt.core.settings import Settings
from adapt.db import app_store, people
from adapt.scoring.score import PARTS
from adapt.services import data, session
from adapt.views.cohort import (
    ALERT_CHOICES,
    CHOICES,
    DISPLAY_COLUMNS,
    OPEN_OPTIONS,
    PART_LABELS,
    TOP_SHOWN,
    export_bytes,
    export_frame,
    filter_cohort,
    person_at,
    score_snapshot,
    with_decisions,
)
from adapt.views.text import md_escape

__all__ = [
    "ALERT_CHOICES",
    "CHOICES",
    "DISPLAY_COLUMNS",
    "OPEN_OPTIONS",
    "PARTS",
    "PART_LABELS",
    "TOP_SHOWN",
    "cohort_table",
    "export_file",
    "filter_cohort",
    "md_escape",
    "person_at",
    "record_decision",
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
