"""Resolution runs: whole population and incremental.

Owns :func:`resolve` and :func:`resolve_incremental`, which wire the stages
together (splink scoring → incident context → decisions → guarded clusters)
and the :class:`Resolution` they return.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from adapt.identity import splink_adapter
from adapt.identity.cluster import _override_frame, build_clusters, decide
from adapt.identity.context import add_context
from adapt.identity.model import IdentityModel
from adapt.identity.normalise import prepare_rows

LOG = logging.getLogger(__name__)
LINK_BASE = (
    "row_key_l",
    "row_key_r",
    "match_weight",
    "match_probability",
    "context_weight",
    "final_weight",
    "accepted",
    "decision",
    "context",
)


@dataclass
class Resolution:
    """Who is who: clusters, the links behind them, and the model used.

    ``clusters`` has every input row once (``row_key``, ``cluster`` int64).
    ``links`` holds kept pairs (probability ≥ ``keep_probability``, accepted,
    or decided by an analyst) with per-comparison ``mw_*`` and ``lbl_*``.
    """

    clusters: pd.DataFrame
    links: pd.DataFrame
    model_json: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def _ensure_prepared(rows: pd.DataFrame) -> pd.DataFrame:
    return rows if "fn_canon" in rows.columns else prepare_rows(rows)


def _keep_weight(model: IdentityModel) -> float:
    p = model.keep_probability
    floor = float(np.log2(p / (1 - p)))
    reach = model.threshold_weight - model.victim_context_weight - model.place_context_weight
    return min(floor, reach)


def _dob_rule_key(rows: pd.DataFrame) -> pd.Series:
    """Date of birth as the cluster rule sees it (swap variants equal; 1 January ignored)."""
    return rows["dob_key"].mask(rows["dob_jan1"].to_numpy(dtype=bool))


def _finish_links(decided: pd.DataFrame, model: IdentityModel) -> pd.DataFrame:
    keep = (
        (decided["match_probability"].fillna(0) >= model.keep_probability)
        | decided["accepted"]
        | decided["decision"].str.startswith("analyst").fillna(False)
    )
    out = decided.loc[keep.to_numpy(dtype=bool)]
    extra = [c for c in out.columns if c.startswith(("mw_", "lbl_"))]
    return out.loc[:, list(LINK_BASE) + extra].reset_index(drop=True)


def _score_and_decide(
    pairs: pd.DataFrame,
    context_rows: pd.DataFrame,
    model: IdentityModel,
    must: pd.DataFrame,
    cannot: pd.DataFrame,
) -> pd.DataFrame:
    pairs = add_context(
        pairs,
        context_rows,
        victim_weight=model.victim_context_weight,
        place_weight=model.place_context_weight,
    )
    return decide(
        pairs, threshold_weight=model.threshold_weight, must_link=must, cannot_link=cannot
    )


def resolve(
    rows: pd.DataFrame,
    model: IdentityModel,
    *,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
) -> Resolution:
    """Resolve every row of ``rows`` (output of :func:`prepare_rows`) into people.

    Examples
    --------
    >>> res = resolve(prepare_rows(person_rows), IdentityModel.load(path))  # doctest: +SKIP
    >>> res.clusters.groupby("cluster").size().max()  # doctest: +SKIP
    """
    model.check_is_fitted()
    rows = _ensure_prepared(rows)
    must, cannot = _override_frame(must_link), _override_frame(cannot_link)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    pairs = splink_adapter.score(
        rows,
        model.settings_json_,
        threshold_weight=_keep_weight(model),
        chunks=model.predict_chunks,
        threads=model.threads,
    )
    t["score"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    decided = _score_and_decide(pairs, rows, model, must, cannot)
    t["context_decide"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = build_clusters(
        rows["row_key"],
        _dob_rule_key(rows),
        rows["occasion"],
        decided.loc[decided["accepted"].to_numpy(dtype=bool)],
        must,
        cannot,
    )
    t["cluster"] = time.perf_counter() - t0
    clusters = pd.DataFrame(
        {"row_key": rows["row_key"].astype("string").to_numpy(), "cluster": labels.astype(np.int64)}
    )
    LOG.info("resolved %d rows into %d clusters", len(rows), int(clusters["cluster"].nunique()))
    return Resolution(clusters, _finish_links(decided, model), model.to_json(), t)


def resolve_incremental(
    existing_rows: pd.DataFrame,
    existing_clusters: pd.DataFrame,
    new_rows: pd.DataFrame,
    model: IdentityModel,
    *,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
) -> Resolution:
    """Add ``new_rows`` to an existing resolution, comparing only new rows.

    New rows are scored against existing rows (through the blocking rules)
    and against each other. Existing clusters are kept whole; a new row that
    links two of them merges them (the merged cluster takes the smaller id).
    ``clusters`` covers the new rows and every existing row of a cluster a
    new row joined; new-only clusters get ids above the existing maximum.
    Both row frames are :func:`prepare_rows` output.
    """
    model.check_is_fitted()
    existing_rows = _ensure_prepared(existing_rows)
    new_rows = _ensure_prepared(new_rows)
    must, cannot = _override_frame(must_link), _override_frame(cannot_link)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    pairs = splink_adapter.score_new(
        existing_rows,
        new_rows,
        model.settings_json_,
        threshold_weight=_keep_weight(model),
        threads=model.threads,
    )
    t["score"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    touched = pd.Index(
        pd.concat(
            [
                pairs["row_key_l"],
                pairs["row_key_r"],
                must["row_key_l"],
                must["row_key_r"],
                cannot["row_key_l"],
                cannot["row_key_r"],
            ]
        ).unique()
    )
    old_keys = existing_rows["row_key"].astype("string")
    ctx_occ = existing_rows.loc[old_keys.isin(touched).to_numpy(), "occasion"].dropna().unique()
    ctx = existing_rows.loc[
        (old_keys.isin(touched) | existing_rows["occasion"].isin(ctx_occ)).to_numpy()
    ]
    context_rows = pd.concat([ctx, new_rows], ignore_index=True)
    decided = _score_and_decide(pairs, context_rows, model, must, cannot)
    t["context_decide"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ec = existing_clusters.loc[:, ["row_key", "cluster"]].copy()
    ec["row_key"] = ec["row_key"].astype("string")
    ec = ec.set_index("row_key")["cluster"]
    accepted = decided.loc[decided["accepted"].to_numpy(dtype=bool)]
    hit_keys = pd.Index(
        pd.concat(
            [accepted["row_key_l"], accepted["row_key_r"], must["row_key_l"], must["row_key_r"]]
        ).unique()
    )
    hit_clusters = ec.reindex(hit_keys).dropna().astype(np.int64).unique()
    member_keys = ec.index[ec.isin(hit_clusters).to_numpy()]
    members = existing_rows.loc[old_keys.isin(member_keys).to_numpy()]
    sub = pd.concat([members, new_rows], ignore_index=True)
    # Existing clusters stay whole: their rows are must-linked in a star.
    mc = ec.reindex(member_keys)
    key_s = pd.Series(member_keys.to_numpy(dtype=object), index=member_keys)
    first = key_s.groupby(mc.to_numpy()).transform("first")
    star = pd.DataFrame(
        {
            "row_key_l": pd.array(first.to_numpy(dtype=object), "string"),
            "row_key_r": pd.array(member_keys.to_numpy(dtype=object), "string"),
        }
    )
    star = star[star["row_key_l"] != star["row_key_r"]]
    labels = build_clusters(
        sub["row_key"],
        _dob_rule_key(sub),
        sub["occasion"],
        accepted,
        pd.concat([must, star], ignore_index=True),
        cannot,
    )
    keys = sub["row_key"].astype("string").to_numpy()
    old = ec.reindex(keys).to_numpy(dtype="float64")
    lab = pd.DataFrame({"label": labels, "old": old})
    old_min = lab.groupby("label")["old"].min()
    start = int(existing_clusters["cluster"].max()) + 1 if len(existing_clusters) else 0
    fresh = old_min[old_min.isna()].index
    ids = old_min.copy()
    ids.loc[fresh] = start + np.arange(len(fresh))
    clusters = pd.DataFrame(
        {"row_key": keys, "cluster": ids.reindex(labels).to_numpy().astype(np.int64)}
    )
    t["cluster"] = time.perf_counter() - t0
    return Resolution(clusters, _finish_links(decided, model), model.to_json(), t)
