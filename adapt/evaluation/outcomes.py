"""What happened after an as-of date: the outcomes a ranking is judged against.

Harm is attributed to every suspect on an incident (an incident with two
suspects counts for each), but shares are taken over incidents, so no incident
is counted twice in a total.
"""

from __future__ import annotations

import pandas as pd

from adapt.core.dates import DAY, cutoff_of
from adapt.core.history import History
from adapt.rules.harm import incident_harm
from adapt.rules.pairs import SUSPECT, role_rows


def future_incidents(
    history: History, as_of: object, horizon_days: int = 365, harm_table: str = "cambridge_chi_v1"
) -> pd.DataFrame:
    """Incidents after the end of ``as_of`` and within ``horizon_days``, with
    their harm (``incident_id, occurred_at, harm``)."""
    start = cutoff_of(as_of)
    end = start + horizon_days * DAY
    inc = history.incidents
    inc = inc[(inc["occurred_at"] >= start) & (inc["occurred_at"] < end)]
    harm = incident_harm(inc, harm_table)
    return pd.DataFrame(
        {"incident_id": inc["incident_id"], "occurred_at": inc["occurred_at"], "harm": harm}
    ).reset_index(drop=True)


def future_suspect_incidents(
    history: History, as_of: object, horizon_days: int = 365, harm_table: str = "cambridge_chi_v1"
) -> pd.DataFrame:
    """One row per (future incident, suspect person): ``incident_id, person_id, harm``."""
    inc = future_incidents(history, as_of, horizon_days, harm_table)
    return role_rows(history.involvements, SUSPECT).merge(inc, on="incident_id")


def future_outcomes(
    history: History, as_of: object, horizon_days: int = 365, harm_table: str = "cambridge_chi_v1"
) -> pd.DataFrame:
    """Per person who is a suspect in the horizon: ``future_incidents`` and
    ``future_harm`` (CHI days), indexed by person_id."""
    si = future_suspect_incidents(history, as_of, horizon_days, harm_table)
    out = si.groupby("person_id").agg(
        future_incidents=("incident_id", "nunique"), future_harm=("harm", "sum")
    )
    return out.sort_index()
