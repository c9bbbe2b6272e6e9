"""Trained model artifacts and their model cards, shipped as ``adapt.models``."""
