"""How well the harm model ranks and how well its probabilities hold, overall
and by sex.

Owns the measurements the model card reports: discrimination (ROC AUC),
Brier score, the calibration table by decile, and the fairness audit.
:func:`person_sex` is the only place sex is read, and only to audit outcomes
after scoring: it is never a model input (see :mod:`adapt.learned.matrix`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from adapt.core.history import History

UNKNOWN_SEX = "unknown"


def person_sex(history: History) -> pd.Series:
    """Each person's recorded sex, for auditing only: the most common
    ``gender`` over their involvement rows (F, M, X); ``unknown`` when none is
    recorded or two are equally common. Indexed by ``person_id``."""
    inv = history.involvements
    rows = inv.loc[inv["person_id"].notna() & inv["gender"].notna(), ["person_id", "gender"]]
    counts = rows.groupby(["person_id", "gender"]).size().unstack(fill_value=0)
    most = counts.max(axis=1)
    tie = counts.eq(most, axis=0).sum(axis=1) > 1
    sex = counts.idxmax(axis=1).astype("string").where(~tie, UNKNOWN_SEX)
    people = pd.Index(inv["person_id"].dropna().unique(), name="person_id")
    return sex.reindex(people).fillna(UNKNOWN_SEX).rename("sex").sort_index()


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def discrimination(frame: pd.DataFrame, score: str, targets: dict[str, str]) -> dict[str, float]:
    """ROC AUC of the column ``score`` against each 0/1 target column."""
    s = frame[score].to_numpy(dtype=float)
    return {name: _auc(frame[col].to_numpy(dtype=int), s) for name, col in targets.items()}


def probability_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Brier score, log loss, and the mean prediction against the observed rate."""
    return {
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": float(brier_score_loss(y, np.full(len(y), y.mean()))),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "mean_predicted": float(p.mean()),
        "observed_rate": float(y.mean()),
    }


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Per decile of predicted probability (1 = lowest): people, mean predicted,
    observed rate, and the probability range of the decile."""
    order = np.argsort(p, kind="stable")
    decile = np.empty(len(p), dtype=int)
    decile[order] = np.arange(len(p)) * bins // max(len(p), 1) + 1
    frame = pd.DataFrame({"decile": decile, "p": p, "y": y})
    return frame.groupby("decile").agg(
        people=("y", "size"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
        min_predicted=("p", "min"),
        max_predicted=("p", "max"),
    )


def fairness_by_sex(
    frame: pd.DataFrame, top_n: int = 100, by: str = "sex", dataset: str = "dataset"
) -> pd.DataFrame:
    """The audit by sex, from a frame of ``probability``, ``harm_target``,
    ``any_incident``, ``sex`` (and ``dataset`` when several test sets are
    pooled: the top ``top_n`` is taken within each).

    Per sex: people, their share, observed and mean predicted rate of the
    harm target and their ratio (calibration-in-the-large; 1 is perfect), AUC
    for the harm target and for any incident, share of the top ``top_n``
    (selection rate), and share of the people whose harm did reach the
    threshold (what a fair top list would roughly mirror).
    """
    f = frame if dataset in frame else frame.assign(**{dataset: "all"})
    rank = f.groupby(dataset)["probability"].rank(method="first", ascending=False)
    f = f.assign(top=rank <= top_n)
    rows = {}
    for sex, g in f.groupby(by):
        y = g["harm_target"].to_numpy(dtype=int)
        p = g["probability"].to_numpy(dtype=float)
        rows[sex] = {
            "people": len(g),
            "share_of_people": len(g) / len(f),
            "observed_rate": float(y.mean()),
            "mean_predicted": float(p.mean()),
            "predicted_over_observed": float(p.mean() / y.mean()) if y.mean() else float("nan"),
            "auc_harm": _auc(y, p),
            "auc_any_incident": _auc(g["any_incident"].to_numpy(dtype=int), p),
            "top_selected": int(g["top"].sum()),
            "share_of_top": float(g["top"].sum() / f["top"].sum()),
            "selection_rate_top": float(g["top"].mean()),
            "share_of_harm_positives": float(y.sum() / f["harm_target"].sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by)
