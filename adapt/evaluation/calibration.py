"""How good a probability is: ROC AUC and a calibration table (pure functions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score


def roc_auc(labels: object, scores: object) -> float:
    """ROC AUC of ``scores`` for 0/1 ``labels``; NaN when only one class is present."""
    y = np.asarray(labels, dtype=int)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


def calibration_table(labels: object, probability: object, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed, by bins of equal size over the sorted probability.

    Columns ``bin, people, mean_predicted, observed_rate``; ``.attrs`` carries
    the Brier score and the expected calibration error (the people-weighted
    mean gap between predicted and observed).
    """
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probability, dtype=float)
    order = np.argsort(p, kind="mergesort")
    which = np.empty(len(p), dtype=np.int64)
    which[order] = np.arange(len(p)) * bins // max(len(p), 1)
    frame = pd.DataFrame({"bin": which + 1, "p": p, "y": y})
    table = frame.groupby("bin").agg(
        people=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    table = table.reset_index()
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    table.attrs["brier"] = float(brier_score_loss(y, p)) if len(p) else float("nan")
    table.attrs["ece"] = float((gap * table["people"]).sum() / max(len(p), 1))
    return table
