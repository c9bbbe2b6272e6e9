"""The ``cohort`` export (shared/interface.md): the interface's columns first,
then extra columns that explain the score (added, never changed)."""

from __future__ import annotations

import pandas as pd

from adapt.scoring.score import COHORT_COLUMNS

# After the interface's columns: the figures behind each part, for a reader
# of the export who has not got the app.
EXPLAINING_COLUMNS = [
    "attendances_window", "crimes_window", "non_crimes_window", "harm_window", "days_since_last",
    "last_incident_at", "victims_window", "new_victims_window", "victims_serial_window", "serial",
    "frequency_rate_ratio", "frequency_escalating", "severity_ratio", "severity_escalating",
    "marac_referrals_window", "marac_repeats_window", "late_flag_repeats_total",
    "new_partner_alert", "counter_allegation", "counter_role", "serious_incidents_total",
    "max_harm_total", "days_since_last_serious", "incidents_total", "victims_total",
    "attendances_short", "attendances_long", "harm_long", "attendances_trend",
]  # fmt: skip


# Last: the learned model's advice beside the score (issue 13): the probability
# of any further incident as a suspect in the next 12 months (0-1) and the
# version of the model trained on this force's own past; empty when no such
# model is stored. Advice only: it changes no rank and no cohort membership.
MODEL_COLUMNS = ["model_probability", "model_version"]


def cohort_export_frame(table: pd.DataFrame, advice: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranked table as exported: interface columns, explaining columns,
    then :data:`MODEL_COLUMNS` from ``advice`` (indexed by person id; None or a
    person missing from it: empty cells)."""
    out = table[[*COHORT_COLUMNS, *EXPLAINING_COLUMNS]].copy()
    out["already_managed"] = out["already_managed"].fillna("")
    out["last_incident_at"] = out["last_incident_at"].dt.strftime("%Y-%m-%d")
    ids = out["person_id"]
    if advice is None:
        out["model_probability"] = pd.Series(float("nan"), index=out.index, dtype="float64")
        out["model_version"] = ""
    else:
        prob = advice["model_probability"].reindex(ids).to_numpy(dtype="float64")
        version = advice["model_version"].astype("string").reindex(ids).fillna("")
        out["model_probability"] = prob.round(4)
        out["model_version"] = version.to_numpy(dtype=object)
    return out
