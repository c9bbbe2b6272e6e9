"""Per-person features as of a date, from a resolved history (pure functions)."""

from adapt.features.compute import FEATURES, compute_features

__all__ = ["FEATURES", "compute_features"]
