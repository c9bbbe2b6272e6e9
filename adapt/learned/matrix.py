"""The model's inputs: which person features the learned model reads, and how.

Owns :data:`MODEL_FEATURES` (feature name → transform) and
:func:`model_matrix`, which turns the frame of
:func:`adapt.features.compute_features` into the numeric matrix the model is
fitted on. Only behaviour recorded by the police is read. Nothing that says
who a person is (sex, age or date of birth, ethnicity) or where they live
(postcode, area, address: proxies for ethnicity and deprivation) is an input,
and none of them is in :data:`adapt.features.FEATURES` to begin with.

Transforms
----------
``log1p``
    Counts and CHI harm days: ``log(1 + x)``, so the tenth incident adds less
    than the second and one homicide does not swamp the scale.
``flag``
    Booleans as 0/1.
``log_ratio``
    ``log`` of a positive ratio; missing (no incidents in either half) is 0.
``recency``
    ``log(1 + days since the last incident)``, capped at the serial window
    (1,095 days) so that how far back the extract reaches does not move it; a
    person with no attributed incident gets the cap.

Left out, and why: ``incidents_total`` and ``victims_total`` (they grow with
the length of the extract; the serial-window counts carry the same
information over a fixed three years), ``frequency_p_value`` (a function of
the two half-window counts already in), ``severity_recent``,
``severity_prior`` and ``severity_ratio`` (missing for most people; the
severity flag is in), ``late_flag_repeats_total`` (measures the MARAC's
flagging delay, not the person), dates (``days_since_last`` stands for
them) and text columns (``counter_role``, ``counter_parties``,
``managed_status``: shown beside the score, not scored).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RECENCY_CAP_DAYS = 1095

# name -> transform; the order is the order of the model's columns.
MODEL_FEATURES: dict[str, str] = {
    "attendances_window": "log1p",
    "crimes_window": "log1p",
    "non_crimes_window": "log1p",
    "harm_window": "log1p",
    "max_harm_window": "log1p",
    "days_since_last": "recency",
    "recent_half": "log1p",
    "prior_half": "log1p",
    "frequency_rate_ratio": "log_ratio",
    "frequency_escalating": "flag",
    "frequency_deescalating": "flag",
    "severity_escalating": "flag",
    "incidents_serial_window": "log1p",
    "victims_serial_window": "log1p",
    "serial": "flag",
    "victims_window": "log1p",
    "new_victims_window": "log1p",
    "max_incidents_one_victim_window": "log1p",
    "repeat_victims_window": "log1p",
    "strangulation_window": "log1p",
    "weapon_window": "log1p",
    "threats_to_kill_window": "log1p",
    "breach_window": "log1p",
    "children_present_window": "log1p",
    "dash_high_window": "log1p",
    "marac_referrals_total": "log1p",
    "marac_referrals_window": "log1p",
    "marac_repeats_total": "log1p",
    "marac_repeats_window": "log1p",
    "counter_allegation": "flag",
    "counter_excluded_incidents": "log1p",
    "new_partner_alert": "flag",
}

TRANSFORMS = ("log1p", "flag", "log_ratio", "recency")

# Words that mark a column as a protected characteristic or a proxy for one
# (where someone lives stands for ethnicity and deprivation). No model input
# may carry one; checked when a model is built or loaded.
PROTECTED_WORDS = frozenset({
    "gender", "sex", "age", "dob", "birth", "ethnicity", "ethnic", "race", "religion",
    "disability", "nationality", "postcode", "area", "address", "home",
})  # fmt: skip


def is_protected(name: str) -> bool:
    """True when a column name names a protected characteristic or a proxy.

    >>> is_protected("home_postcode"), is_protected("date_of_birth"), is_protected("harm_window")
    (True, True, False)
    """
    return any(word in PROTECTED_WORDS for word in name.lower().split("_"))


def transform_column(values: pd.Series, transform: str) -> np.ndarray:
    """One feature column as model input (float64), by its transform."""
    if transform == "log1p":
        x = pd.to_numeric(values, errors="coerce").astype("float64").fillna(0.0).to_numpy()
        return np.log1p(np.clip(x, 0.0, None))
    if transform == "flag":
        return values.astype("boolean").fillna(False).to_numpy(dtype="float64")
    if transform == "log_ratio":
        x = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(x)
        return np.where(np.isfinite(out), out, 0.0)
    if transform == "recency":
        x = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        x = np.where(np.isnan(x) | (x < 0), RECENCY_CAP_DAYS, np.minimum(x, RECENCY_CAP_DAYS))
        return np.log1p(x)
    raise ValueError(f"unknown transform {transform!r}")


def model_matrix(
    features: pd.DataFrame, model_features: dict[str, str] | None = None
) -> pd.DataFrame:
    """The numeric model inputs of each person, from a feature frame.

    Parameters
    ----------
    features
        The frame of :func:`adapt.features.compute_features` (or any frame
        holding the columns of ``model_features``); other columns are ignored.
    model_features
        Feature name → transform; :data:`MODEL_FEATURES` by default.

    Returns
    -------
    pandas.DataFrame
        Same index as ``features``, one float64 column per model feature.

    Examples
    --------
    >>> frame = pd.DataFrame({"attendances_window": [0, 3]})
    >>> model_matrix(frame, {"attendances_window": "log1p"}).round(3)["attendances_window"].tolist()
    [0.0, 1.386]
    """
    spec = MODEL_FEATURES if model_features is None else model_features
    missing = [c for c in spec if c not in features.columns]
    if missing:
        raise ValueError(f"features lack model column(s): {', '.join(missing)}")
    return pd.DataFrame(
        {name: transform_column(features[name], how) for name, how in spec.items()},
        index=features.index,
    )
