"""Judge a ranking against what followed: outcomes after an as-of date, backtests."""

from adapt.evaluation.outcomes import future_incidents, future_outcomes, future_suspect_incidents

__all__ = ["future_incidents", "future_outcomes", "future_suspect_incidents"]
