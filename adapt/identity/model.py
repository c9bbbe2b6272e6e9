"""The trained identity model, scikit-learn style.

Owns :class:`IdentityModel`: the parameters of a resolution run (seed, EM
sample sizes, the acceptance threshold, the context-stage weights) and, once
fitted, the splink settings learned by EM (``settings_json_``). It saves to
and loads from one JSON file (``models/identity-splink.json``).

It follows scikit-learn's estimator contract (it is a
:class:`~sklearn.base.BaseEstimator`): the parameters are exactly the keyword
arguments of ``__init__``, which stores them and does nothing else, so
``get_params``, ``set_params`` and :func:`sklearn.base.clone` need no list of
their own; what ``fit`` or ``load`` learns ends in ``_``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from adapt.identity import splink_adapter

LOG = logging.getLogger(__name__)

# An EM pass on a block with fewer pairs than this is skipped (the levels it
# would estimate keep their starting m): a few hundred pairs leave the rare
# levels (day/month swap, nickname) with a handful of pairs each.
MIN_BLOCK_PAIRS = 1000


class IdentityModel(BaseEstimator):
    """Pairwise person-match model: splink EM parameters plus decision settings.

    Parameters
    ----------
    seed
        Seed of u sampling (EM itself is deterministic given its pairs).
    max_pairs, u_max_pairs
        Comparisons sampled for each EM pass and for u estimation.
    deterministic_recall
        Assumed recall of the exact rules used to estimate the prior.
    threshold_weight
        A pair joins automatically when its final weight (splink match weight
        plus context adjustment) reaches this, guards permitting.
    keep_probability
        Links below this match probability are not kept (unless decided).
    victim_context_weight
        Added when two suspect rows were each suspects against the same
        victim (victim rows sharing a ref, or forename+surname+DOB).
    place_context_weight
        Added when two rows of the same role sit on incidents at the same
        address in the same month.
    predict_chunks
        splink predict chunks per side (memory against speed on big runs).
    threads
        DuckDB threads.

    Examples
    --------
    Parameters are the keyword arguments of ``__init__``, nothing more:

    >>> model = IdentityModel(seed=7)
    >>> model
    IdentityModel(seed=7)
    >>> sorted(model.get_params())[:3]
    ['deterministic_recall', 'keep_probability', 'max_pairs']
    >>> model.set_params(threshold_weight=6.0).threshold_weight
    6.0

    The model committed with ADAPT, and its JSON form:

    >>> from adapt.core.resources import model_file
    >>> shipped = IdentityModel.load(str(model_file("identity-splink.json")))
    >>> sorted(shipped.to_json())
    ['adapt_identity_model', 'n_rows_trained', 'params', 'splink_settings', 'trained_on']
    >>> IdentityModel.from_json(shipped.to_json()).get_params() == shipped.get_params()
    True

    Training runs EM over sampled pairs, which needs a force-sized extract
    (the committed model learned from 53,784 rows; see
    ``benchmarks/identity_accuracy.py``):

    >>> model.fit(prepare_rows(person_rows))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        seed: int = 20261101,
        max_pairs: float = 2e6,
        u_max_pairs: float = 5e6,
        deterministic_recall: float = 0.7,
        threshold_weight: float = 7.0,
        keep_probability: float = 0.05,
        victim_context_weight: float = 4.0,
        place_context_weight: float = 2.0,
        predict_chunks: int = 1,
        threads: int = 2,
    ) -> None:
        self.seed = seed
        self.max_pairs = max_pairs
        self.u_max_pairs = u_max_pairs
        self.deterministic_recall = deterministic_recall
        self.threshold_weight = threshold_weight
        self.keep_probability = keep_probability
        self.victim_context_weight = victim_context_weight
        self.place_context_weight = place_context_weight
        self.predict_chunks = predict_chunks
        self.threads = threads

    def fit(self, rows: pd.DataFrame, *, trained_on: str = "") -> IdentityModel:
        """Estimate splink parameters by EM on prepared rows (seeded)."""
        LOG.info("training identity model on %d rows", len(rows))
        self.settings_json_, _ = splink_adapter.train(
            rows,
            seed=self.seed,
            max_pairs=self.max_pairs,
            u_max_pairs=self.u_max_pairs,
            deterministic_recall=self.deterministic_recall,
            threads=self.threads,
        )
        self.n_rows_trained_ = len(rows)
        self.trained_on_ = trained_on
        return self

    def refit(
        self, rows: pd.DataFrame, *, trained_on: str = "", min_block_pairs: int = MIN_BLOCK_PAIRS
    ) -> IdentityModel:
        """A new model trained on ``rows``, starting from this fitted model.

        Only splink's parameters are learned from ``rows``: the prior (the
        deterministic rules' pairs over their recall, the recall read from the
        m just learned rather than assumed), u by random sampling (seeded with
        ``seed``), m by EM on each training block that makes at least
        ``min_block_pairs`` pairs, starting from this model's m (so EM starts
        well, and a comparison no pass estimates keeps this model's m). The
        decision parameters (threshold, context weights, ...) are this
        model's. Same rows and seed: the same model.
        """
        self.check_is_fitted()
        LOG.info("training identity model on %d rows of the data being resolved", len(rows))
        settings, figures = splink_adapter.train(
            rows,
            seed=self.seed,
            max_pairs=self.max_pairs,
            u_max_pairs=self.u_max_pairs,
            deterministic_recall=self.deterministic_recall,
            start=self.settings_json_,
            min_block_pairs=min_block_pairs,
            implied=True,
        )
        model = type(self)(**self.get_params())
        model.settings_json_ = settings
        model.n_rows_trained_ = int(figures.get("rows", len(rows)))
        model.trained_on_ = trained_on
        model.training_figures_ = figures
        return model

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "settings_json_")

    def check_is_fitted(self) -> None:
        """Raise :class:`~sklearn.exceptions.NotFittedError` before fit/load."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError("IdentityModel is not fitted: call fit() or load()")

    def to_json(self) -> dict[str, Any]:
        self.check_is_fitted()
        return {
            "adapt_identity_model": 1,
            "params": self.get_params(),
            "n_rows_trained": self.n_rows_trained_,
            "trained_on": self.trained_on_,
            "splink_settings": self.settings_json_,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IdentityModel:
        model = cls(**data["params"])
        model.settings_json_ = data["splink_settings"]
        model.n_rows_trained_ = int(data.get("n_rows_trained", 0))
        model.trained_on_ = str(data.get("trained_on", ""))
        return model

    def save(self, path: str | Path) -> None:
        p = Path(path)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n")
        tmp.replace(p)

    @classmethod
    def load(cls, path: str | Path) -> IdentityModel:
        return cls.from_json(json.loads(Path(path).read_text()))
