"""Backtests: how much of the next year's harm the top K of a ranking would have covered.

For an as-of date T, every method ranks people using only what was recorded up
to the end of T (the oracles excepted: they are the ceilings). The top K of a
ranking *captures* a future incident when at least one of its suspects is among
them; shares are taken over future incidents, so an incident with two suspects
in the top K counts once, and the denominator is every incident in the horizon,
including those whose suspect was never seen before T (or is not recorded).

Methods (:data:`METHODS`):

``score``
    the RFG ranking of :func:`adapt.scoring.score.rank` under the settings.
``learned``
    people ordered by a learned model's probability (only when one is given).
``attendances_window``
    attendances in the settings' window, 12 months by default (the ADAPT pilot's
    working rule).
``seven_in_12``
    the "7 incidents in 12 months" rule HMIC found too high: only people with
    at least seven attendances are eligible, ordered by attendances; the top K
    is then ``min(K, eligible)`` people.
``harm_window``
    crime harm (CHI days) in the settings' window (12 months by default), V100-style.
``oracle``
    people ordered by their true future harm: the ceiling for any list.
``visible_oracle``
    the same among people recorded as a suspect up to T: the ceiling for any
    score built on police history (next year's first-time suspects are beyond it).

Ties among the baselines are broken by the most recent last incident, then by
person id, so a baseline never borrows another baseline's signal.

Everything here is a pure function of a history, an as-of date and settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.evaluation.outcomes import future_incidents, future_suspect_incidents
from adapt.features import compute_features
from adapt.scoring.score import rank

DEFAULT_KS = (25, 50, 100, 200)
SEVEN_IN_12 = 7

METHODS: dict[str, str] = {
    "score": "the RFG score under the settings",
    "learned": "a learned model's probability of any incident in the next 12 months",
    "attendances_window": "attendances in the settings' window (12 months by default)",
    "seven_in_12": "the 7-incidents-in-12-months rule (only people with 7 or more eligible)",
    "harm_window": "crime harm (CHI days) in the settings' window (12 months by default)",
    "oracle": "true future harm (the ceiling for any list)",
    "visible_oracle": "true future harm among people seen before the date (ceiling for history)",
}
BASELINES = ("attendances_window", "seven_in_12", "harm_window")
ORACLES = ("oracle", "visible_oracle")


@dataclass(frozen=True)
class Future:
    """What happened in the horizon after the as-of date.

    ``incidents``: ``incident_id, occurred_at, harm``, every incident in the
    horizon; ``suspects``: one row per (incident, suspect person);
    ``outcomes``: per person, ``future_incidents`` and ``future_harm``.
    """

    incidents: pd.DataFrame
    suspects: pd.DataFrame
    outcomes: pd.DataFrame

    @classmethod
    def after(
        cls,
        history: History,
        as_of: object,
        horizon_days: int = 365,
        harm_table: str = "cambridge_chi_v1",
    ) -> Future:
        inc = future_incidents(history, as_of, horizon_days, harm_table)
        sus = future_suspect_incidents(history, as_of, horizon_days, harm_table)
        out = sus.groupby("person_id").agg(
            future_incidents=("incident_id", "nunique"), future_harm=("harm", "sum")
        )
        return cls(incidents=inc, suspects=sus, outcomes=out.sort_index())

    @property
    def total_harm(self) -> float:
        return float(self.incidents["harm"].sum())

    @property
    def total_incidents(self) -> int:
        return len(self.incidents)


# ---- rankings: each returns person ids, best first -------------------------


def _order(frame: pd.DataFrame, key: str, *, ascending: bool = False) -> pd.Index:
    """person ids ordered by ``key``, ties by the most recent last incident, then id."""
    f = frame[[key, "days_since_last"]].rename_axis(None).copy()
    f["person_id"] = frame.index.to_numpy()
    f = f.sort_values(
        [key, "days_since_last", "person_id"], ascending=[ascending, True, True], kind="mergesort"
    )
    return pd.Index(f["person_id"], name="person_id")


def _visible(features: pd.DataFrame) -> pd.DataFrame:
    # A secondary party whose every incident was excluded has no attributed incident.
    return features[features["days_since_last"] >= 0]


def score_ranking(ranked: pd.DataFrame) -> pd.Index:
    """The order of :func:`adapt.scoring.score.rank`'s table."""
    return pd.Index(ranked["person_id"], name="person_id")


def learned_ranking(features: pd.DataFrame, probability: pd.Series) -> pd.Index:
    """People ordered by a model's probability (``probability`` indexed by person id)."""
    f = _visible(features).assign(probability=probability.reindex(features.index).fillna(0.0))
    return _order(f, "probability")


def attendance_ranking(features: pd.DataFrame) -> pd.Index:
    """People ordered by attendances in the settings' window."""
    return _order(_visible(features), "attendances_window")


def seven_in_12_ranking(features: pd.DataFrame, min_attendances: int = SEVEN_IN_12) -> pd.Index:
    """Only people with at least ``min_attendances`` attendances, ordered by attendances."""
    f = features[features["attendances_window"] >= min_attendances]
    return _order(f, "attendances_window")


def harm_ranking(features: pd.DataFrame) -> pd.Index:
    """People ordered by crime harm (CHI days) in the settings' window (V100-style)."""
    return _order(_visible(features), "harm_window")


def oracle_ranking(outcomes: pd.DataFrame, among: pd.Index | None = None) -> pd.Index:
    """People ordered by true future harm, then future incidents (``among``: only these)."""
    o = outcomes if among is None else outcomes[outcomes.index.isin(among)]
    o = (
        o.rename_axis(None)
        .assign(person_id=o.index.to_numpy())
        .sort_values(
            ["future_harm", "future_incidents", "person_id"],
            ascending=[False, False, True],
            kind="mergesort",
        )
    )
    return pd.Index(o["person_id"], name="person_id")


def _excluded_by_status(features: pd.DataFrame, settings: Settings) -> pd.Series:
    status = ";" + features["managed_status"].astype("string").fillna("") + ";"
    hit = pd.Series(False, index=features.index)
    for st in settings.cohort.exclude_statuses:
        hit |= status.str.contains(f";{st};", regex=False).astype(bool)
    return hit


def method_rankings(
    ranked: pd.DataFrame,
    future: Future,
    settings: Settings,
    probability: pd.Series | None = None,
    exclude_managed: bool = False,
) -> dict[str, pd.Index]:
    """Every method's ranking (person ids, best first), keyed as in :data:`METHODS`.

    ``ranked`` is the table of :func:`adapt.scoring.score.rank` (its feature
    columns feed the baselines). ``probability`` (indexed by person id) adds
    the learned method. With ``exclude_managed`` no method may pick a person
    under a status the cohort rule excludes (IOM, MAPPA, custody, deceased);
    the oracle still ranks everyone.
    """
    features = ranked.set_index("person_id")
    if exclude_managed:
        keep = ~_excluded_by_status(features, settings)
        features = features[keep]
        ranked = ranked[keep.to_numpy()]
    out: dict[str, pd.Index] = {"score": score_ranking(ranked)}
    if probability is not None:
        out["learned"] = learned_ranking(features, probability)
    out["attendances_window"] = attendance_ranking(features)
    out["seven_in_12"] = seven_in_12_ranking(features)
    out["harm_window"] = harm_ranking(features)
    out["oracle"] = oracle_ranking(future.outcomes)
    out["visible_oracle"] = oracle_ranking(future.outcomes, among=features.index)
    return out


# ---- capture ---------------------------------------------------------------


def _first_position(ranking: pd.Index, future: Future) -> np.ndarray:
    """For each future incident (in ``future.incidents`` order), the best 1-based
    position in ``ranking`` of any of its suspects; 0 when none is ranked."""
    pos = pd.Series(np.arange(1, len(ranking) + 1), index=ranking)
    sus = future.suspects[["incident_id", "person_id"]]
    hit = sus.assign(pos=sus["person_id"].map(pos)).dropna(subset=["pos"])
    best = hit.groupby("incident_id")["pos"].min()
    return future.incidents["incident_id"].map(best).fillna(0).to_numpy(dtype=np.int64)


def capture_by_k(ranking: pd.Index, future: Future, max_k: int | None = None) -> pd.DataFrame:
    """The share of future harm and incidents the top K captures, for K = 1..max_k.

    Columns ``k, people, harm_share, incident_share``; ``people`` is
    ``min(K, len(ranking))`` (a rule with fewer eligible than K stops there).
    """
    n = len(ranking) if max_k is None else int(max_k)
    first = _first_position(ranking, future)
    harm = future.incidents["harm"].to_numpy(dtype=float)
    ranked_pos = np.where((first > 0) & (first <= n), first, 0)
    harm_at = np.bincount(ranked_pos, weights=harm, minlength=n + 1)[1:]
    count_at = np.bincount(ranked_pos, minlength=n + 1)[1:]
    total_harm = future.total_harm
    total_inc = future.total_incidents
    k = np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "k": k,
            "people": np.minimum(k, len(ranking)),
            "harm_share": np.cumsum(harm_at) / total_harm if total_harm > 0 else 0.0,
            "incident_share": np.cumsum(count_at) / total_inc if total_inc > 0 else 0.0,
        }
    )


def capture_at(ranking: pd.Index, future: Future, ks: Iterable[int]) -> pd.DataFrame:
    """:func:`capture_by_k` at the given K only."""
    ks = [int(k) for k in ks]
    curve = capture_by_k(ranking, future, max_k=max(ks))
    return curve[curve["k"].isin(ks)].reset_index(drop=True)


def evaluate(
    rankings: Mapping[str, pd.Index], future: Future, ks: Iterable[int] = DEFAULT_KS
) -> pd.DataFrame:
    """Capture at each K for every ranking: ``method, k, harm_share, incident_share, people``."""
    frames = [capture_at(r, future, ks).assign(method=m) for m, r in rankings.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[["method", "k", "harm_share", "incident_share", "people"]]


# ---- the whole backtest from a history -------------------------------------


def _prepare(
    history: History,
    as_of: object,
    settings: Settings,
    horizon_days: int,
    learned: object | None,
    exclude_managed: bool,
) -> tuple[pd.DataFrame, Future, dict[str, pd.Index]]:
    features = compute_features(history, as_of, settings)
    ranked = rank(features, settings)
    future = Future.after(history, as_of, horizon_days, settings.harm_table)
    probability = None
    if learned is not None:
        probability = learned_probability(learned, features)
    rankings = method_rankings(ranked, future, settings, probability, exclude_managed)
    return ranked, future, rankings


def learned_probability(model: object, features: pd.DataFrame) -> pd.Series:
    """A model's probability per person; accepts a 1-d or an (n, 2) ``predict_proba``."""
    p = np.asarray(model.predict_proba(features), dtype=float)  # type: ignore[attr-defined]
    if p.ndim == 2:
        p = p[:, -1]
    return pd.Series(p, index=features.index, name="probability")


def backtest(
    history: History,
    as_of: object,
    settings: Settings,
    ks: Iterable[int] = DEFAULT_KS,
    horizon_days: int = 365,
    learned: object | None = None,
    exclude_managed: bool = False,
) -> pd.DataFrame:
    """The share of the next ``horizon_days``' harm and incidents each method's top K caused.

    Returns ``method, k, harm_share, incident_share, people``, one row per
    method and K. ``learned`` is an optional fitted model with
    ``predict_proba(features)``. The cohort size under the settings' rule is
    in ``.attrs["cohort_size"]``, the number of people ranked in
    ``.attrs["people_ranked"]``.

    Examples
    --------
    P1 was a suspect three times in 2024 and P2 once; in 2025 P1 commits an
    ABH (365 CHI days) and P2 a common assault (10):

    >>> from adapt.core.settings import default_settings
    >>> incidents = pd.DataFrame(
    ...     {
    ...         "incident_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
    ...         "occurred_at": pd.to_datetime(
    ...             ["2024-02-01", "2024-06-01", "2024-09-01", "2024-11-01", "2025-03-01",
    ...              "2025-05-01"]
    ...         ),
    ...         "offence": ["abh", "common_assault", "abh", "common_assault", "abh",
    ...                     "common_assault"],
    ...         "is_crime": True,
    ...     }
    ... )
    >>> involvements = pd.DataFrame(
    ...     {
    ...         "incident_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
    ...         "role": "suspect",
    ...         "person_id": ["P1", "P1", "P1", "P2", "P1", "P2"],
    ...     }
    ... )
    >>> history = History.build(incidents, involvements)
    >>> bt = backtest(history, "2024-12-31", default_settings(), ks=[1])
    >>> print(bt.set_index("method")[["harm_share", "incident_share"]].round(3))
                        harm_share  incident_share
    method
    score                    0.973             0.5
    attendances_window       0.973             0.5
    seven_in_12              0.000             0.0
    harm_window              0.973             0.5
    oracle                   0.973             0.5
    visible_oracle           0.973             0.5
    >>> bt.attrs["future_incidents"], bt.attrs["people_ranked"]
    (2, 2)
    """
    ranked, future, rankings = _prepare(
        history, as_of, settings, horizon_days, learned, exclude_managed
    )
    out = evaluate(rankings, future, ks)
    out.attrs.update(cohort_summary(ranked, future))
    return out


def capture_curve(
    history: History,
    as_of: object,
    settings: Settings,
    horizon_days: int = 365,
    max_k: int | None = None,
    learned: object | None = None,
    exclude_managed: bool = False,
) -> pd.DataFrame:
    """Capture over K = 1..N for every method: ``method, k, harm_share, incident_share, people``.

    N is ``max_k`` or the number of people the score ranks. The cohort size
    under the settings' rule is in ``.attrs["cohort_size"]`` (mark it on the
    curve: it is the K the cohort rule would give).
    """
    ranked, future, rankings = _prepare(
        history, as_of, settings, horizon_days, learned, exclude_managed
    )
    n = len(rankings["score"]) if max_k is None else int(max_k)
    frames = [capture_by_k(r, future, n).assign(method=m) for m, r in rankings.items()]
    out = pd.concat(frames, ignore_index=True)[
        ["method", "k", "harm_share", "incident_share", "people"]
    ]
    out.attrs.update(cohort_summary(ranked, future))
    return out


def cohort_summary(ranked: pd.DataFrame, future: Future) -> dict[str, float | int]:
    """The cohort under the settings' rule and what it would have captured."""
    cohort = pd.Index(ranked.loc[ranked["in_cohort"], "person_id"])
    cap = capture_by_k(cohort, future).tail(1)
    return {
        "cohort_size": len(cohort),
        "cohort_harm_share": float(cap["harm_share"].iloc[0]) if len(cap) else 0.0,
        "cohort_incident_share": float(cap["incident_share"].iloc[0]) if len(cap) else 0.0,
        "people_ranked": len(ranked),
        "future_incidents": future.total_incidents,
        "future_harm": future.total_harm,
        "visible_harm_share": _visible_share(ranked, future),
    }


def _visible_share(ranked: pd.DataFrame, future: Future) -> float:
    """Share of future harm from incidents with a suspect seen before the date."""
    seen = pd.Index(ranked["person_id"])
    cap = capture_by_k(seen, future).tail(1)
    return float(cap["harm_share"].iloc[0]) if len(cap) else 0.0
