"""Labelled rows for training and testing the harm model, from a history.

Owns :func:`labelled_people`: the features of everyone who was a suspect up
to an as-of date, joined to what followed in the next ``horizon_days`` (from
:func:`adapt.evaluation.future_outcomes`). Features see only records up to
the as-of date; labels only records after it.
"""

from __future__ import annotations

import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.evaluation import future_outcomes
from adapt.features import compute_features


def labelled_people(
    history: History,
    as_of: object,
    settings: Settings,
    threshold_days: float,
    horizon_days: int = 365,
) -> pd.DataFrame:
    """Features as of ``as_of`` plus outcome columns, one row per person.

    Added columns: ``future_incidents`` and ``future_harm`` (0 when the person
    was not a suspect again), ``harm_target`` (future harm ≥
    ``threshold_days``, 0/1) and ``any_incident`` (a further incident as
    suspect, 0/1). Indexed by ``person_id``.
    """
    features = compute_features(history, as_of, settings)
    outcomes = future_outcomes(history, as_of, horizon_days, settings.harm_table)
    out = features.join(outcomes[["future_incidents", "future_harm"]], how="left")
    out["future_incidents"] = out["future_incidents"].fillna(0).astype("int64")
    out["future_harm"] = out["future_harm"].fillna(0.0).astype("float64")
    out["harm_target"] = (out["future_harm"] >= threshold_days).astype("int64")
    out["any_incident"] = (out["future_incidents"] > 0).astype("int64")
    out.attrs = dict(features.attrs)
    return out
