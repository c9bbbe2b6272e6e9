"""The ``cohort`` export (shared/interface.md): the interface's columns first,
then extra columns that explain the score (added, never changed)."""

from __future__ import annotations

import pandas as pd

from adapt.scoring.score import COHORT_COLUMNS

# After the interface's columns: the figures behind each part, for a reader
# of the export who has not got the app.
EXPLAINING_COLUMNS = [
    "attendances_12m", "crimes_12m", "non_crimes_12m", "harm_12m", "days_since_last",
    "last_incident_at", "victims_12m", "new_victims_12m", "victims_serial_window", "serial",
    "frequency_rate_ratio", "frequency_escalating", "severity_ratio", "severity_escalating",
    "marac_referrals_12m", "marac_repeats_12m", "late_flag_repeats_total", "new_partner_alert",
    "counter_allegation", "counter_role",
]  # fmt: skip


def cohort_export_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The ranked table as exported: interface columns, then explaining columns."""
    out = table[[*COHORT_COLUMNS, *EXPLAINING_COLUMNS]].copy()
    out["already_managed"] = out["already_managed"].fillna("")
    out["last_incident_at"] = out["last_incident_at"].dt.strftime("%Y-%m-%d")
    return out
