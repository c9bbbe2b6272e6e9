"""The learned model trained on the force's own past (``adapt calibrate``).

Rolling origin, as the settings search does it (:mod:`adapt.evaluation.calibrate`):
for the as-of date T the history is first cut at the end of T
(:func:`~adapt.evaluation.calibrate.history_until`), the origins are T-3y,
T-2y and T-1y (each with about a year of history before it), the model is
fitted on everyone who was a suspect at the *fit* origins, labelled with the
year after each (those years end by T-1y), and judged out of time on the
*held-out* origin T-1y, whose outcome year (T-1y to T) it never saw. The
stored model is the model judged (its coefficients are not refitted); only
its probability scale (Platt's two numbers) is then refitted on the held-out
year, the year closest to its use, which moves no ranking, AUC or capture.
Nothing after T is read.

Target: any further incident as a suspect in the next 12 months (the target
of the published work; ``model_probability`` in the cohort export). Inputs:
the synthetic-trained model's behaviour features plus the whole-history
features the score's "history of serious harm" part reads (:data:`FORCE_FEATURES`).
No protected characteristic is an input; sex is read only by the audit, and
only when the caller passes it (``sex``), after scoring.

The model is advice beside the RFG score: it never decides who is in the
cohort, and it is never the sole basis of a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, cross_val_predict

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.evaluation.backtest import (
    BASELINES,
    DEFAULT_KS,
    Future,
    evaluate,
    learned_probability,
    method_rankings,
)
from adapt.evaluation.calibrate import (
    FIT,
    HELD_OUT,
    CalibrationError,
    OriginDate,
    history_until,
    rolling_origins,
)
from adapt.learned.audit import (
    calibration_table,
    discrimination,
    fairness_by_sex,
    probability_scores,
)
from adapt.learned.data import labelled_people
from adapt.learned.matrix import MODEL_FEATURES, model_matrix
from adapt.learned.model import HarmModel, _plain
from adapt.scoring.score import rank

TARGET = "any_incident"
HARM_THRESHOLD_DAYS = 10.0  # the second target the model is judged on (as the card's)
C_GRID = (0.001, 0.01, 0.1, 1.0)
#: The synthetic-trained model's inputs plus the whole-history features.
FORCE_FEATURES: dict[str, str] = {
    **MODEL_FEATURES,
    "attendances_short": "log1p",
    "harm_short": "log1p",
    "attendances_long": "log1p",
    "harm_long": "log1p",
    "max_harm_total": "log1p",
    "serious_incidents_total": "log1p",
    "days_since_last_serious": "recency",
    "attendances_trend": "log_ratio",
    "harm_trend": "log_ratio",
}
UNKNOWN_SEX = "unknown"
#: Fewer people with a further incident at the fit as-of dates than this: too
#: few to learn from (the model would fit their noise).
MIN_POSITIVES = 20
#: A model that ranks the held-out year no better than this AUC is not kept:
#: advice that is no better than chance (or worse) must not sit beside the score.
MIN_AUC = 0.55


class ModelNotTrained(ValueError):
    """The history cannot train a model (too short, or one class only)."""


@dataclass(frozen=True)
class ForceModel:
    """A model trained on the force's own past, and what it was judged on."""

    model: HarmModel
    as_of: pd.Timestamp
    fit_origins: list[pd.Timestamp]
    held_out: OriginDate
    evidence: dict[str, Any] = field(repr=False)

    @property
    def auc_any_incident(self) -> float | None:
        return self.evidence["held_out"]["auc"]["any_incident"]

    def capture(self, k: int = 100) -> float | None:
        """Held-out share of next-year harm the model's top ``k`` captured."""
        for row in self.evidence["capture"]:
            if row["method"] == "learned" and int(row["k"]) == int(k):
                return float(row["harm_share"])
        return None


def _rows(history: History, origin: OriginDate, settings: Settings) -> pd.DataFrame:
    rows = labelled_people(
        history, origin.as_of, settings, HARM_THRESHOLD_DAYS, origin.horizon_days
    )
    return rows.assign(origin=origin.as_of)


def train_force_model(
    history: History,
    as_of: object,
    settings: Settings,
    *,
    sex: pd.Series | None = None,
    ks: tuple[int, ...] = DEFAULT_KS,
    c: float | None = None,
    min_auc: float = MIN_AUC,
) -> ForceModel:
    """Fit on the fit origins before ``as_of``, judge on the held-out year; see the module.

    ``sex`` (person id → recorded sex, from :func:`adapt.learned.audit.person_sex`)
    is joined to the held-out rows after scoring, for the fairness audit only.
    Raises :class:`~adapt.evaluation.calibrate.CalibrationError` when the history
    is too short and :class:`ModelNotTrained` when too few people offended
    again at the fit as-of dates, or when the model ranks the held-out year no
    better than ``min_auc`` (AUC; or its calibration turned the ranking round).
    ``c``: the penalty (default: chosen by :func:`choose_c`).
    """
    end = pd.Timestamp(as_of).normalize()
    past = history_until(history, end)
    dates = rolling_origins(past, end)
    fit_dates = [d for d in dates if d.role == FIT]
    held = next(d for d in dates if d.role == HELD_OUT)
    train = pd.concat([_rows(past, d, settings) for d in fit_dates])
    y = train[TARGET].to_numpy(dtype=int)
    if y.sum() < MIN_POSITIVES or y.min() == y.max():
        raise ModelNotTrained(
            f"too few people or outcomes at the fit as-of dates to train the learned model "
            f"({len(train)} rows, {int(y.sum())} with a further incident)"
        )
    latest = (train["origin"] == train["origin"].max()).to_numpy()
    losses: dict[str, float] = {}
    if c is None:
        c, losses = choose_c(train, y)
    model = HarmModel(features=dict(FORCE_FEATURES), C=c, target=TARGET)
    model.fit(train, y, groups=train.index.to_numpy(), calibrate_on=latest)

    test = _rows(past, held, settings)
    test["probability"] = model.predict_proba(test)[:, 1]
    evidence = _evidence(model, past, held, test, settings, sex, ks)
    auc = evidence["held_out"]["auc"]["any_incident"]
    if min_auc > 0 and not (auc >= min_auc and model.calibration_["slope"] > 0):
        raise ModelNotTrained(
            f"the model fitted on the earlier years ranked the held-out year no better than "
            f"chance (AUC {auc:.2f}, below {min_auc}): not kept; the score stands on its own"
        )
    # The probabilities' scale (Platt: two numbers) is refitted on the held-out
    # year: the latest year, closest to the date the model is used at (the
    # share of people who come back falls as the extract lengthens). Ranking,
    # AUC and capture do not move; the Brier score and calibration table
    # below are then measured on the year the scale was fitted on.
    y_held = test[TARGET].to_numpy(dtype=int)
    if model.calibration_["slope"] > 0 and 0 < y_held.sum() < len(y_held):
        model.recalibrate(test, y_held)
        test["probability"] = model.predict_proba(test)[:, 1]
        evidence = _evidence(model, past, held, test, settings, sex, ks)
        evidence["scale_fitted_on"] = f"{held.as_of:%Y-%m-%d} (held-out year)"
    else:
        evidence["scale_fitted_on"] = f"{fit_dates[-1].as_of:%Y-%m-%d} (last fit as-of date)"
    evidence["c_grid_log_loss"] = losses
    evidence["train"] = {
        "rows": len(train),
        "people": int(train.index.nunique()),
        "positive_rate": float(y.mean()),
        "origins": [f"{d.as_of:%Y-%m-%d}" for d in fit_dates],
    }
    model.metadata_ = _plain({
        "trained_on": "this force's stored history (adapt calibrate)",
        "as_of": f"{end:%Y-%m-%d}",
        "fit_origins": [f"{d.as_of:%Y-%m-%d}" for d in fit_dates],
        "held_out_origin": f"{held.as_of:%Y-%m-%d}",
        "sklearn_version": sklearn.__version__,
        "harm_table": settings.harm_table,
        "feature_settings": f"{settings.name} {settings.version}",
    })  # fmt: skip
    return ForceModel(
        model=model,
        as_of=end,
        fit_origins=[d.as_of for d in fit_dates],
        held_out=held,
        evidence=_plain(evidence),
    )


def choose_c(train: pd.DataFrame, y: np.ndarray) -> tuple[float, dict[str, float]]:
    """The penalty (from :data:`C_GRID`) with the lowest out-of-fold log loss
    on the fit rows (5 folds, a person's rows kept in one fold): a small force
    gets a stronger penalty, so the model does not fit its noise."""
    M = model_matrix(train, FORCE_FEATURES).to_numpy(dtype="float64")
    splits = list(GroupKFold(n_splits=5).split(M, y, groups=train.index.to_numpy()))
    losses = {}
    for c in C_GRID:
        pipe = HarmModel(features=dict(FORCE_FEATURES), C=c)._pipeline()
        p = cross_val_predict(pipe, M, y, cv=splits, method="predict_proba")[:, 1]
        losses[str(c)] = float(log_loss(y, p, labels=[0, 1]))
    best = min(C_GRID, key=lambda c: losses[str(c)])
    return best, losses


def _evidence(
    model: HarmModel,
    past: History,
    held: OriginDate,
    test: pd.DataFrame,
    settings: Settings,
    sex: pd.Series | None,
    ks: tuple[int, ...],
) -> dict[str, Any]:
    """Out-of-time figures on the held-out origin: AUC, Brier, calibration,
    capture by K beside the score and the baselines, and the audit by sex."""
    y = test[TARGET].to_numpy(dtype=int)
    p = test["probability"].to_numpy(dtype=float)
    targets = {"any_incident": "any_incident", "harm_target": "harm_target"}
    out: dict[str, Any] = {
        "held_out": {
            "as_of": f"{held.as_of:%Y-%m-%d}",
            "people": len(test),
            "any_incident_rate": float(y.mean()),
            "auc": discrimination(test, "probability", targets),
            **(probability_scores(y, p) if 0 < y.sum() < len(y) else {}),
        },
        "calibration": calibration_table(y, p).reset_index().to_dict(orient="records"),
    }
    labels = ["future_incidents", "future_harm", "harm_target", "any_incident", "origin"]
    ranked = rank(test.drop(columns=[*labels, "probability"]), settings)
    future = Future.after(past, held.as_of, held.horizon_days, settings.harm_table)
    probability = learned_probability(model, test)
    rankings = method_rankings(ranked, future, settings, probability)
    keep = ["learned", "score", *BASELINES, "visible_oracle"]
    table = evaluate({m: rankings[m] for m in keep}, future, ks)
    out["capture"] = table.to_dict(orient="records")
    if sex is not None:
        audit = test.assign(
            sex=sex.reindex(test.index).astype("string").fillna(UNKNOWN_SEX).to_numpy(),
            harm_target=test[TARGET],  # fairness_by_sex's outcome column: the model's own target
        )
        fair = fairness_by_sex(audit, top_n=100).reset_index()
        fair = fair.drop(columns=["auc_any_incident"]).rename(
            columns={"auc_harm": "auc", "share_of_harm_positives": "share_of_positives"}
        )
        out["fairness_by_sex"] = fair.to_dict(orient="records")
    return out


def probabilities(model: HarmModel, features: pd.DataFrame) -> pd.Series:
    """P(any incident in the next 12 months) per person (indexed like ``features``)."""
    if len(features) == 0:
        return pd.Series(np.zeros(0), index=features.index, name="model_probability")
    return pd.Series(
        model.predict_proba(features)[:, 1], index=features.index, name="model_probability"
    )


__all__ = [
    "FORCE_FEATURES",
    "TARGET",
    "CalibrationError",
    "ForceModel",
    "ModelNotTrained",
    "probabilities",
    "train_force_model",
]
