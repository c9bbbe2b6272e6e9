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


def cohort_export_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The ranked table as exported: interface columns, then explaining columns."""
    out = table[[*COHORT_COLUMNS, *EXPLAINING_COLUMNS]].copy()
    out["already_managed"] = out["already_managed"].fillna("")
    out["last_incident_at"] = out["last_incident_at"].dt.strftime("%Y-%m-%d")
    return out
