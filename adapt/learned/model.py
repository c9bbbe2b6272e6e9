"""The learned harm model, scikit-learn style, and its JSON file.

Owns :class:`HarmModel`: an L2-regularised logistic regression on scaled
model inputs (:mod:`adapt.learned.matrix`), Platt-calibrated on out-of-fold
scores, predicting whether a person's recorded harm as a suspect in the next
12 months reaches a threshold (CHI days). It is advice beside the RFG score,
never the sole basis for a decision.

What was learned is a handful of numbers, so the model is saved as readable
JSON (``models/harm-model.json``), not a pickle: a reviewer can read every
coefficient, a diff shows what retraining changed, and loading runs no code.
Predictions are computed from those numbers alone, so a loaded model gives
exactly the probabilities of the model that was saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from adapt.core.resources import model_file
from adapt.learned.matrix import MODEL_FEATURES, TRANSFORMS, is_protected, model_matrix

FORMAT = "adapt-harm-model/1"
#: What a model predicts: harm reaching ``threshold_days`` (the committed
#: synthetic-trained model) or any further incident as suspect (the model
#: ``adapt calibrate`` trains on the force's own past).
TARGETS = {
    "harm": "harm (CHI days) as a suspect in the horizon reaches the threshold",
    "any_incident": "any further incident as a suspect in the horizon",
}
DEFAULT_MODEL_PATH = Path(str(model_file("harm-model.json")))
_LEARNED = (
    "model_features_",
    "coef_",
    "intercept_",
    "scaler_mean_",
    "scaler_scale_",
    "calibration_",
)


def _plain(value: Any) -> Any:
    """JSON-ready copy of metadata: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


@dataclass(frozen=True)
class Explanation:
    """One person's probability as the sum of its parts, on the logit scale.

    ``baseline + parts["contribution"].sum() == logit`` and
    ``probability == 1 / (1 + exp(-logit))``. ``parts`` is indexed by model
    feature, with the person's ``value`` (as in the feature frame), the model
    ``input`` (after its transform) and the ``contribution`` (Platt slope ×
    coefficient × scaled input), largest effect first. ``baseline`` is the
    logit of a person at the training mean of every input.
    """

    baseline: float
    parts: pd.DataFrame
    logit: float
    probability: float


class HarmModel(ClassifierMixin, BaseEstimator):
    """P(harm as a suspect in the next 12 months ≥ ``threshold_days``).

    Parameters
    ----------
    features
        Model feature name → transform; ``None`` means
        :data:`~adapt.learned.matrix.MODEL_FEATURES`.
    C
        Inverse strength of the L2 penalty of the logistic regression.
    threshold_days
        The harm (CHI days) the target counts as "harm above the threshold".
        Recorded with the model; ``fit`` takes labels already made with it.
    horizon_days
        The horizon of the target, recorded with the model.
    calibration_folds
        Folds for the out-of-fold scores Platt scaling is fitted on (grouped
        by ``groups`` when ``fit`` is given them, so a person's rows at
        several as-of dates never sit on both sides).
    max_iter
        Solver iterations.
    target
        What the labels given to ``fit`` mean (a key of :data:`TARGETS`),
        recorded with the model: ``"harm"`` (the default) or ``"any_incident"``.

    ``fit`` and ``predict_proba`` take either a feature frame (a DataFrame as
    returned by :func:`adapt.features.compute_features`; the model picks and
    transforms its columns) or a numeric array that is already the model
    matrix, columns in :data:`~adapt.learned.matrix.MODEL_FEATURES` order.

    Examples
    --------
    Forty people's features, and whether their harm then reached the threshold:

    >>> features = pd.DataFrame(
    ...     {
    ...         "attendances_window": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 4,
    ...         "harm_window": [0, 0, 1, 1, 2, 3, 5, 8, 13, 21] * 4,
    ...     }
    ... )
    >>> labels = [0, 0, 0, 0, 0, 1, 0, 1, 1, 1] * 4
    >>> spec = {"attendances_window": "log1p", "harm_window": "log1p"}
    >>> model = HarmModel(features=spec).fit(features, labels)
    >>> risk = model.risk(features)
    >>> risk.head(10).is_monotonic_increasing  # more incidents and harm, more risk
    True

    What :meth:`save` writes and :meth:`load` reads predicts exactly the same:

    >>> HarmModel.from_dict(model.to_dict()).risk(features).equals(risk)
    True
    """

    def __init__(
        self,
        features: dict[str, str] | None = None,
        C: float = 0.1,
        threshold_days: float = 10.0,
        horizon_days: int = 365,
        calibration_folds: int = 5,
        max_iter: int = 200,
        target: str = "harm",
    ) -> None:
        self.features = features
        self.C = C
        self.threshold_days = threshold_days
        self.horizon_days = horizon_days
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.target = target

    # -- inputs ---------------------------------------------------------------

    def _matrix(self, X: Any, spec: dict[str, str] | None = None) -> np.ndarray:
        """The model matrix of ``X``; ``spec`` when fitting, the fitted one after."""
        spec = spec if spec is not None else self.model_features_
        if isinstance(X, pd.DataFrame):
            return model_matrix(X, spec).to_numpy(dtype="float64")
        arr = np.asarray(X, dtype="float64")
        if arr.ndim != 2:
            raise ValueError(f"expected a 2-D model matrix, got shape {arr.shape}")
        if arr.shape[1] != len(spec):
            raise ValueError(
                f"X has {arr.shape[1]} features, but HarmModel is expecting "
                f"{len(spec)} features as input"
            )
        if not np.isfinite(arr).all():
            raise ValueError("model matrix contains NaN or infinity")
        return arr

    # -- fitting ----------------------------------------------------------------

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            [
                ("scale", StandardScaler()),
                (
                    "logit",
                    # Exact Newton steps: few inputs, many rows; converges tightly, so
                    # retraining on the same data gives the same coefficients.
                    LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=self.max_iter),
                ),
            ]
        )

    def fit(self, X: Any, y: Any, groups: Any = None, calibrate_on: Any = None) -> HarmModel:
        """Fit scaler, penalised logistic regression and Platt calibration.

        ``y`` is 1 where the person's harm in the horizon reached the
        threshold. ``groups`` (for example ``"seed:person_id"``) keeps each
        group within one calibration fold. ``calibrate_on`` (boolean, one per
        row; default all rows) picks the rows whose out-of-fold scores the
        Platt scaling is fitted to: the rows most like the data the model will
        score (the trainer uses the latest as-of date).
        """
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}")
        spec = dict(MODEL_FEATURES if self.features is None else self.features)
        bad = [name for name in spec if is_protected(name)]
        if bad or any(t not in TRANSFORMS for t in spec.values()):
            raise ValueError(f"model features not allowed: {', '.join(bad) or spec}")
        M = self._matrix(X, spec)
        labels = np.asarray(y).astype(int).ravel()
        if len(labels) != len(M):
            raise ValueError(f"X has {len(M)} rows but y has {len(labels)}")
        classes = np.unique(labels)
        if not np.array_equal(classes, [0, 1]):
            raise ValueError(f"y must hold both classes 0 and 1, got {classes.tolist()}")

        if groups is not None and len(np.unique(np.asarray(groups))) >= self.calibration_folds:
            cv = GroupKFold(n_splits=self.calibration_folds)
            splits = list(cv.split(M, labels, groups=np.asarray(groups)))
        else:
            splits = list(StratifiedKFold(self.calibration_folds).split(M, labels))
        # Out-of-fold scores, so the calibration sees scores the way new data will.
        oof = cross_val_predict(self._pipeline(), M, labels, cv=splits, method="decision_function")
        chosen = np.ones(len(labels), bool) if calibrate_on is None else np.asarray(calibrate_on)
        if chosen.dtype != bool or len(chosen) != len(labels):
            raise ValueError("calibrate_on must be one boolean per row")
        platt = LogisticRegression(C=1e6, solver="newton-cholesky", max_iter=self.max_iter)
        platt.fit(oof[chosen].reshape(-1, 1), labels[chosen])

        pipe = self._pipeline().fit(M, labels)
        scaler, logit = pipe.named_steps["scale"], pipe.named_steps["logit"]
        self.model_features_ = spec
        self.feature_names_ = list(spec)
        self.n_features_in_ = M.shape[1]
        self.classes_ = np.array([0, 1])
        self.scaler_mean_ = scaler.mean_.astype("float64")
        self.scaler_scale_ = scaler.scale_.astype("float64")
        self.coef_ = logit.coef_.astype("float64").reshape(1, -1)
        self.intercept_ = logit.intercept_.astype("float64").reshape(1)
        self.calibration_ = {
            "method": "platt",
            "slope": float(platt.coef_[0, 0]),
            "intercept": float(platt.intercept_[0]),
        }
        self.n_train_ = len(labels)
        self.base_rate_ = float(labels.mean())
        self.metadata_: dict[str, Any] = {}  # training data and metrics, set by the trainer
        return self

    def _check_fitted(self) -> None:
        if not all(hasattr(self, a) for a in _LEARNED):
            raise NotFittedError("HarmModel is not fitted: call fit() or HarmModel.load()")

    # -- prediction -------------------------------------------------------------

    def _scaled(self, M: np.ndarray) -> np.ndarray:
        return (M - self.scaler_mean_) / self.scaler_scale_

    def raw_score(self, X: Any) -> np.ndarray:
        """Log-odds of the target for each row before the Platt calibration."""
        self._check_fitted()
        return self._scaled(self._matrix(X)) @ self.coef_[0] + self.intercept_[0]

    def recalibrate(self, X: Any, y: Any) -> HarmModel:
        """Refit only the Platt scaling (two numbers) on ``X``, ``y``: the
        ranking (coefficients, AUC) is unchanged, the probabilities' scale
        follows these rows (for example a later, held-out year)."""
        labels = np.asarray(y).astype(int).ravel()
        platt = LogisticRegression(C=1e6, solver="newton-cholesky", max_iter=self.max_iter)
        platt.fit(self.raw_score(X).reshape(-1, 1), labels)
        self.calibration_ = {
            "method": "platt",
            "slope": float(platt.coef_[0, 0]),
            "intercept": float(platt.intercept_[0]),
        }
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds of the target for each row."""
        self._check_fitted()
        raw = self._scaled(self._matrix(X)) @ self.coef_[0] + self.intercept_[0]
        cal = self.calibration_
        return cal["slope"] * raw + cal["intercept"]

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` array: P(below threshold), P(harm ≥ threshold)."""
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """1 where P(harm ≥ threshold) ≥ 0.5 (rare: rank by the probability)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def risk(self, features: pd.DataFrame) -> pd.Series:
        """P(harm ≥ threshold) per person, indexed like ``features``."""
        return pd.Series(
            self.predict_proba(features)[:, 1], index=features.index, name="harm_probability"
        )

    def explain(self, features_row: pd.Series | pd.DataFrame) -> Explanation:
        """The parts one person's probability is made of (see :class:`Explanation`)."""
        self._check_fitted()
        row = features_row.to_frame().T if isinstance(features_row, pd.Series) else features_row
        if len(row) != 1:
            raise ValueError(f"explain takes one person, got {len(row)} rows")
        M = self._matrix(row)
        slope = self.calibration_["slope"]
        contribution = slope * self.coef_[0] * self._scaled(M)[0]
        baseline = slope * self.intercept_[0] + self.calibration_["intercept"]
        parts = pd.DataFrame(
            {
                "value": [row.iloc[0][name] for name in self.feature_names_],
                "input": M[0],
                "contribution": contribution,
            },
            index=pd.Index(self.feature_names_, name="feature"),
        )
        parts = parts.iloc[np.argsort(-np.abs(contribution), kind="stable")]
        logit = float(baseline + contribution.sum())
        return Explanation(
            baseline=float(baseline),
            parts=parts,
            logit=logit,
            probability=float(_sigmoid(np.array(logit))),
        )

    def contributions(self, features: pd.DataFrame) -> tuple[float, pd.DataFrame]:
        """Every person's parts at once: the baseline logit and a frame (same
        index as ``features``, one column per model feature) of contributions
        on the logit scale, as :meth:`explain` gives them for one person
        (``baseline + row.sum()`` is the person's calibrated logit)."""
        self._check_fitted()
        slope = self.calibration_["slope"]
        parts = slope * self.coef_[0] * self._scaled(self._matrix(features))
        baseline = float(slope * self.intercept_[0] + self.calibration_["intercept"])
        return baseline, pd.DataFrame(parts, index=features.index, columns=self.feature_names_)

    def coefficients(self) -> pd.DataFrame:
        """Per feature: transform, coefficient on the scaled input, odds ratio
        per standard deviation (after calibration), training mean and scale."""
        self._check_fitted()
        slope = self.calibration_["slope"]
        return pd.DataFrame(
            {
                "transform": [self.model_features_[n] for n in self.feature_names_],
                "coefficient": self.coef_[0],
                "odds_ratio_per_sd": np.exp(slope * self.coef_[0]),
                "mean": self.scaler_mean_,
                "scale": self.scaler_scale_,
            },
            index=pd.Index(self.feature_names_, name="feature"),
        )

    # -- JSON -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to predict, as plain JSON-ready values."""
        self._check_fitted()
        return {
            "format": FORMAT,
            "estimator": "HarmModel: StandardScaler + L2 LogisticRegression + Platt",
            "target": {
                "description": TARGETS.get(self.target, TARGETS["harm"]),
                "kind": self.target,
                "threshold_days": float(self.threshold_days),
                "horizon_days": int(self.horizon_days),
            },
            "params": self.get_params(),
            "features": [
                {
                    "name": name,
                    "transform": self.model_features_[name],
                    "mean": float(self.scaler_mean_[i]),
                    "scale": float(self.scaler_scale_[i]),
                    "coefficient": float(self.coef_[0, i]),
                }
                for i, name in enumerate(self.feature_names_)
            ],
            "intercept": float(self.intercept_[0]),
            "calibration": dict(self.calibration_),
            "n_train": int(self.n_train_),
            "base_rate": float(self.base_rate_),
            "metadata": _plain(self.metadata_),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HarmModel:
        """A fitted model from :meth:`to_dict` output; checks what it reads."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a harm model file (format {data.get('format')!r})")
        params = {k: v for k, v in data["params"].items() if k in cls().get_params()}
        model = cls(**params)
        features = data["features"]
        spec = {str(f["name"]): str(f["transform"]) for f in features}
        model.features = None if spec == MODEL_FEATURES else spec
        bad = sorted(n for n in spec if is_protected(n))
        if bad:
            raise ValueError(f"model file uses protected column(s): {', '.join(bad)}")
        unknown = sorted({t for t in spec.values() if t not in TRANSFORMS})
        if unknown:
            raise ValueError(f"model file uses unknown transform(s): {', '.join(unknown)}")
        if len(spec) != len(features):
            raise ValueError("model file lists a feature twice")
        cal = data["calibration"]
        if cal.get("method") != "platt":
            raise ValueError(f"unknown calibration {cal.get('method')!r}")
        model.model_features_ = spec
        model.feature_names_ = list(spec)
        model.n_features_in_ = len(spec)
        model.classes_ = np.array([0, 1])
        model.scaler_mean_ = np.array([float(f["mean"]) for f in features])
        model.scaler_scale_ = np.array([float(f["scale"]) for f in features])
        if (model.scaler_scale_ <= 0).any():
            raise ValueError("model file has a non-positive scale")
        model.coef_ = np.array([[float(f["coefficient"]) for f in features]])
        model.intercept_ = np.array([float(data["intercept"])])
        model.calibration_ = {
            "method": "platt",
            "slope": float(cal["slope"]),
            "intercept": float(cal["intercept"]),
        }
        model.n_train_ = int(data.get("n_train", 0))
        model.base_rate_ = float(data.get("base_rate", float("nan")))
        model.metadata_ = dict(data.get("metadata", {}))
        return model

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON (UTF-8, sorted keys: diffable)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> HarmModel:
        """Read a model written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def load_model(path: str | Path | None = None) -> HarmModel:
    """The committed model (``models/harm-model.json``), or the one at ``path``."""
    return HarmModel.load(path or DEFAULT_MODEL_PATH)


def predict_proba(features: pd.DataFrame, model: HarmModel | None = None) -> np.ndarray:
    """P(harm ≥ threshold in the next 12 months) per row of a feature frame (1-D).

    Uses the committed model unless ``model`` is given. Advisory: show it beside
    the score's parts, never as the sole basis for a decision.
    """
    return (model or load_model()).predict_proba(features)[:, 1]


def explain(features_row: pd.Series | pd.DataFrame, model: HarmModel | None = None) -> Explanation:
    """Per-feature parts of one person's probability (committed model by default)."""
    return (model or load_model()).explain(features_row)
