"""The learned model's advice on a table of people: its probability, its
version and the inputs that moved it most, in words.

Advice beside the RFG score, not a decision: nothing here changes a score, a
rank or who is in the cohort. When no model trained on the force's own past
is given, every column is empty (never the synthetic-trained model in its place).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapt.learned.model import HarmModel

ADVICE_COLUMNS = ("model_probability", "model_version", "model_reasons")
ADVICE_WORDS = "advice beside the RFG score, not a decision"
TOP_REASONS = 3

#: Each model input in plain words (what the person's record shows).
FEATURE_WORDS: dict[str, str] = {
    "attendances_window": "attendances in the last 12 months",
    "crimes_window": "crimes in the last 12 months",
    "non_crimes_window": "non-crime incidents in the last 12 months",
    "harm_window": "harm in the last 12 months",
    "max_harm_window": "most harmful incident in the last 12 months",
    "days_since_last": "time since the last incident",
    "recent_half": "incidents in the last 6 months",
    "prior_half": "incidents in the 6 months before",
    "frequency_rate_ratio": "change in how often",
    "frequency_escalating": "incidents becoming more frequent",
    "frequency_deescalating": "incidents becoming less frequent",
    "severity_escalating": "incidents becoming more serious",
    "incidents_serial_window": "incidents in the last 3 years",
    "victims_serial_window": "victims in the last 3 years",
    "serial": "serial perpetrator (two or more victims)",
    "victims_window": "victims in the last 12 months",
    "new_victims_window": "new victims in the last 12 months",
    "max_incidents_one_victim_window": "most incidents against one victim",
    "repeat_victims_window": "victims harmed more than once",
    "strangulation_window": "strangulation recorded",
    "weapon_window": "weapon recorded",
    "threats_to_kill_window": "threats to kill recorded",
    "breach_window": "breaches of bail or an order",
    "children_present_window": "children present",
    "dash_high_window": "DASH graded high",
    "marac_referrals_total": "MARAC referrals ever",
    "marac_referrals_window": "MARAC referrals in the last 12 months",
    "marac_repeats_total": "MARAC repeats ever",
    "marac_repeats_window": "MARAC repeats in the last 12 months",
    "counter_allegation": "counter-allegation",
    "counter_excluded_incidents": "incidents left out as the secondary party",
    "new_partner_alert": "new partner after earlier victims",
    "attendances_short": "attendances in the last 90 days",
    "harm_short": "harm in the last 90 days",
    "attendances_long": "attendances in the last 3 years",
    "harm_long": "harm in the last 3 years",
    "max_harm_total": "most harmful incident on record",
    "serious_incidents_total": "serious incidents on record",
    "days_since_last_serious": "time since the last serious incident",
    "attendances_trend": "attendances against the years before",
    "harm_trend": "harm against the years before",
}


def feature_words(name: str) -> str:
    """A model input in words (its name with spaces when it has no words yet).

    >>> feature_words("harm_window"), feature_words("some_new_input")
    ('harm in the last 12 months', 'some new input')
    """
    return FEATURE_WORDS.get(name, name.replace("_", " "))


def empty_advice(index: pd.Index) -> pd.DataFrame:
    """The advice columns, empty: no model was trained on this force."""
    return pd.DataFrame(
        {
            "model_probability": pd.Series(np.nan, index=index, dtype="float64"),
            "model_version": pd.Series(pd.NA, index=index, dtype="string"),
            "model_reasons": pd.Series(pd.NA, index=index, dtype="string"),
        }
    )


def model_advice(
    model: HarmModel | None, version: str | None, features: pd.DataFrame, top: int = TOP_REASONS
) -> pd.DataFrame:
    """Per person (``features``' index): ``model_probability`` (0–1, any further
    incident as a suspect in the next 12 months), ``model_version`` and
    ``model_reasons`` (the ``top`` inputs that raised or lowered the
    probability most against a person at the training average, in words with
    their sign, e.g. ``"attendances in the last 12 months (+), …"``).
    All empty when ``model`` is None."""
    if model is None or len(features) == 0:
        return empty_advice(features.index)
    baseline, parts = model.contributions(features)
    logit = baseline + parts.to_numpy().sum(axis=1)
    prob = 0.5 * (1.0 + np.tanh(0.5 * logit))
    values = parts.to_numpy()
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top]
    names = np.array([feature_words(n) for n in parts.columns], dtype=object)
    picked = np.take_along_axis(values, order, axis=1)
    words = np.where(picked >= 0, " (+)", " (−)")
    text = pd.Series(names[order[:, 0]] + words[:, 0], index=features.index, dtype=object)
    for j in range(1, order.shape[1]):
        text = text + ", " + names[order[:, j]] + words[:, j]
    return pd.DataFrame(
        {
            "model_probability": prob.astype("float64"),
            "model_version": pd.Series(version or "", index=features.index, dtype="string"),
            "model_reasons": text.astype("string"),
        },
        index=features.index,
    )


def person_parts(model: HarmModel, features_row: pd.Series) -> pd.DataFrame:
    """One person's contributions, largest first, in words: ``input, value,
    contribution`` (log-odds; positive raises the probability)."""
    exp = model.explain(features_row)
    parts = exp.parts.reset_index()
    return pd.DataFrame(
        {
            "input": [feature_words(n) for n in parts["feature"]],
            "value": parts["value"].to_numpy(),
            "contribution": parts["contribution"].to_numpy(dtype=float),
        }
    )
