"""The optional learned harm model: P(harm ≥ a threshold in the next 12 months)
from a person's features. Advisory beside the RFG score, never the sole basis.

``matrix`` picks and transforms the inputs (no protected characteristic or
proxy), ``model`` holds the scikit-learn-style estimator and its JSON file,
``data`` labels people with what followed, ``audit`` measures it (overall and
by sex, for audit only), ``train`` fits it on generator data and ``card``
writes its model card.
"""

from adapt.learned.matrix import MODEL_FEATURES, model_matrix
from adapt.learned.model import (
    DEFAULT_MODEL_PATH,
    Explanation,
    HarmModel,
    explain,
    load_model,
    predict_proba,
)

__all__ = [
    "DEFAULT_MODEL_PATH",
    "MODEL_FEATURES",
    "Explanation",
    "HarmModel",
    "explain",
    "load_model",
    "model_matrix",
    "predict_proba",
]
