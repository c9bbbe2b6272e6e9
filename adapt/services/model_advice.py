"""The learned model's advice for the pages: the probability of any further
incident in the next 12 months, the model's version and the inputs that moved
it most, from the model ``adapt calibrate`` trained on this force's own past.

Advice beside the RFG score, not a decision: it changes no score, no rank and
no cohort membership. When no model was trained on this force the columns are
empty (the synthetic-trained model is never shown in its place).

Cached per data version, as-of date, feature settings and model version (a
new ``adapt calibrate`` stores a new version; the latest version is looked up
at most once a minute).

What a page calls:

* :func:`advice_for` ``(table, as_of, settings)``: the cohort table (any frame
  with ``person_id``) with ``model_probability`` (0–1), ``model_version`` and
  ``model_reasons`` added;
* :func:`person_advice` ``(person_id, as_of, settings)``: one person's
  probability and per-input contributions, or None;
* :func:`model_card` ``()``: the latest model's card (markdown) or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from adapt.core.settings import Settings
from adapt.db.learned_models import latest_learned_model, learned_model
from adapt.learned import HarmModel
from adapt.learned.advice import ADVICE_COLUMNS, ADVICE_WORDS, empty_advice, model_advice
from adapt.learned.advice import person_parts as _person_parts
from adapt.services import data, session

__all__ = [
    "ADVICE_COLUMNS",
    "ADVICE_WORDS",
    "PersonAdvice",
    "advice_for",
    "latest_version",
    "model_card",
    "person_advice",
]


@st.cache_data(show_spinner=False, ttl=60, max_entries=4)
def _latest_version(url: str) -> str | None:
    stored = latest_learned_model(session.engine())
    return None if stored is None else stored.version


def latest_version() -> str | None:
    """The version of the latest model trained on this force (None: none yet)."""
    return _latest_version(session.database_url())


@st.cache_resource(show_spinner=False, max_entries=4)
def _model(url: str, version: str) -> tuple[HarmModel, str] | None:
    stored = learned_model(session.engine(), version)
    return None if stored is None else (HarmModel.from_dict(stored.model), stored.card)


@st.cache_resource(show_spinner="Reading the model's advice…", max_entries=8)
def _advice(version: tuple, model_version: str, as_of: date, settings_json: str) -> pd.DataFrame:
    loaded = _model(session.database_url(), model_version)
    features = data.features(as_of, Settings.from_json(settings_json))
    if loaded is None:
        return empty_advice(features.index)
    return model_advice(loaded[0], model_version, features)


def _all_advice(as_of: date, settings: Settings) -> pd.DataFrame | None:
    version = latest_version()
    if version is None:
        return None
    return _advice(data.data_version(), version, as_of, data.feature_key(settings))


def advice_for(table: pd.DataFrame, as_of: date, settings: Settings) -> pd.DataFrame:
    """``table`` (with a ``person_id`` column) plus ``model_probability``,
    ``model_version`` and ``model_reasons`` for each row; empty cells when no
    model was trained on this force or the person was not a suspect by ``as_of``."""
    advice = _all_advice(as_of, settings)
    ids = table["person_id"].astype("string")
    if advice is None:
        advice = empty_advice(pd.Index([], name="person_id"))
    out = table.copy()
    for col in ADVICE_COLUMNS:
        out[col] = advice[col].reindex(ids).to_numpy()
    out["model_probability"] = out["model_probability"].astype("float64")
    return out


@dataclass(frozen=True)
class PersonAdvice:
    """One person's advice: the probability, the model version and the parts
    (``input, value, contribution``; contributions on the log-odds scale)."""

    probability: float
    version: str
    parts: pd.DataFrame


def person_advice(person_id: str, as_of: date, settings: Settings) -> PersonAdvice | None:
    """The model's probability for one person and what it is made of; None
    when no model was trained on this force or the person was not a suspect by then."""
    version = latest_version()
    if version is None:
        return None
    loaded = _model(session.database_url(), version)
    features = data.features(as_of, settings)
    if loaded is None or person_id not in features.index:
        return None
    model = loaded[0]
    row = features.loc[person_id]
    return PersonAdvice(
        probability=float(model.predict_proba(row.to_frame().T)[0, 1]),
        version=version,
        parts=_person_parts(model, row),
    )


def model_card() -> str | None:
    """The latest model's card (markdown, written by ``adapt calibrate``), or None."""
    version = latest_version()
    loaded = None if version is None else _model(session.database_url(), version)
    return None if loaded is None else loaded[1]
