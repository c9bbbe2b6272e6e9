"""Judge a ranking against what followed: outcomes after an as-of date, backtests."""

from adapt.evaluation.backtest import (
    BASELINES,
    DEFAULT_KS,
    METHODS,
    ORACLES,
    Future,
    attendance_ranking,
    backtest,
    capture_at,
    capture_by_k,
    capture_curve,
    cohort_summary,
    evaluate,
    harm_ranking,
    learned_probability,
    learned_ranking,
    method_rankings,
    oracle_ranking,
    score_ranking,
    seven_in_12_ranking,
)
from adapt.evaluation.calibration import calibration_table, roc_auc
from adapt.evaluation.data import synthetic_history
from adapt.evaluation.outcomes import future_incidents, future_outcomes, future_suspect_incidents

__all__ = [
    "BASELINES",
    "DEFAULT_KS",
    "METHODS",
    "ORACLES",
    "Future",
    "attendance_ranking",
    "backtest",
    "calibration_table",
    "capture_at",
    "capture_by_k",
    "capture_curve",
    "cohort_summary",
    "evaluate",
    "future_incidents",
    "future_outcomes",
    "future_suspect_incidents",
    "harm_ranking",
    "learned_probability",
    "learned_ranking",
    "method_rankings",
    "oracle_ranking",
    "roc_auc",
    "score_ranking",
    "seven_in_12_ranking",
    "synthetic_history",
]
