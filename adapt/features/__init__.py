"""Per-person features as of a date, from a resolved history (pure functions)."""

from adapt.features.compute import FEATURES, compute_features, cutoff_of
from adapt.features.history import PROTECTED_COLUMNS, History

__all__ = ["FEATURES", "PROTECTED_COLUMNS", "History", "compute_features", "cutoff_of"]
