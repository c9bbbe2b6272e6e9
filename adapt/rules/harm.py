"""How much harm one incident carries, in days of custody, from a harm table.

The rule: a crime carries its offence's days in the harm table; a non-crime
incident carries the table's ``non_crime_days`` (it still counts as an
attendance elsewhere); an offence the table does not know, or a missing
offence on a crime, carries 0 days rather than a missing value, so sums and
maxima over a person's incidents stay numbers. A missing ``is_crime`` is
treated as a crime (:meth:`adapt.core.harm.HarmTable.days`).

Features, the person pathway and the outcomes a backtest is judged against
all call :func:`incident_harm`.
"""

from __future__ import annotations

import pandas as pd

from adapt.core.harm import HarmTable, load_harm_table


def incident_harm(incidents: pd.DataFrame, harm_table: str | HarmTable) -> pd.Series:
    """Harm (days) of each incident of ``incidents`` (``offence``, ``is_crime``),
    on the same index, named ``harm``.

    >>> inc = pd.DataFrame({"offence": ["abh", "abh", "no_such_offence"],
    ...                     "is_crime": [True, False, True]})
    >>> incident_harm(inc, "cambridge_chi_v1").tolist()
    [365.0, 0.0, 0.0]
    """
    table = load_harm_table(harm_table) if isinstance(harm_table, str) else harm_table
    days = table.days(incidents["offence"], incidents["is_crime"])
    # An offence the table does not hold would otherwise be NaN and poison sums.
    return days.fillna(0.0).rename("harm")


def is_serious_harm(harm: pd.Series, threshold_days: float) -> pd.Series:
    """Whether each incident's harm (days, from :func:`incident_harm`) makes it a
    serious incident: at or above ``threshold_days`` (the setting
    ``serious_history.threshold_days``). Features and any page that names a
    serious incident call this one rule.

    >>> is_serious_harm(pd.Series([2555.0, 365.0, 364.0, 0.0]), 365).tolist()
    [True, True, False, False]
    """
    return (harm >= threshold_days).rename("serious")
