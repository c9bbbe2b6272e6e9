"""The people's partitions: scoring bucket by bucket gives the table the whole
history gives. Both engines deal the work this way: the default engine reads
the database one bucket at a time (:func:`adapt.scoring.runner.score_database`),
the Spark engine sends each bucket to a task
(:mod:`adapt.scoring.spark_engine`).

Partitions must be whole for the results to be the same: a person's features
read their own incidents, and also, through the counter-allegation rule
(:func:`adapt.rules.counter.decide_roles`), the incidents of each of their
victims as suspect and the other abusers of each victim; MARAC repeats read
the pair's referrals; an officer's counter-allegation label names two people.
So a partition is a set of whole *connected components* of the graph whose
nodes are people and incidents, with an edge from each incident to each
person involved in it (any role), from a MARAC referral's perpetrator to its
victim, and between the two people of a counter-allegation label. Every
incident of a person, every incident of anyone they are linked to, and every
referral and management record of theirs is in their partition (a component
is never split).

Components are dealt into buckets in runs of about equal numbers of
involvement rows (:func:`deal`); a bucket holds at most its share plus one
component. Each bucket's table is :func:`partition_table` (the pure
:func:`adapt.features.compute_features` and :func:`adapt.scoring.score.rank`);
only the final order, and so the ``rank`` column, is computed over everyone
(:func:`ranked`).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.features import compute_features
from adapt.scoring.score import ASCENDING, ORDER, rank

TABLES = ("incidents", "involvements", "marac", "management", "counter_overrides")


class Linked(Protocol):
    """What :func:`components` reads: a :class:`History`, or the narrow
    :class:`adapt.db.history.HistoryKeys` (same tables, only their id columns)."""

    incidents: pd.DataFrame  # incident_id
    involvements: pd.DataFrame  # incident_id, person_id
    marac: pd.DataFrame  # perpetrator_person_id, victim_person_id
    management: pd.DataFrame  # person_id
    counter_overrides: pd.DataFrame  # person_a, person_b


def _factorized(parts: list[pd.Series]) -> tuple[list[np.ndarray], pd.Index]:
    """Codes of each part's values in one shared vocabulary (-1: missing)."""
    values = pd.concat([p.astype("string") for p in parts], ignore_index=True)
    codes, names = pd.factorize(values, use_na_sentinel=True)
    bounds = np.cumsum([0, *(len(p) for p in parts)])
    return [codes[a:b] for a, b in pairwise(bounds)], pd.Index(names)


def _labelled(history: Linked) -> tuple[dict[str, np.ndarray], pd.Index, pd.Index]:
    """The component of each row's key columns (-1 where the id is missing),
    keyed "table.column", with the incident and person vocabularies
    ("incidents.incident_id" first, then every other incident id)."""
    inv = history.involvements
    marac = history.marac
    ov = history.counter_overrides
    inc_cols = [("incidents", history.incidents), ("involvements", inv)]
    per_cols = [
        ("involvements", inv, "person_id"),
        ("marac", marac, "perpetrator_person_id"),
        ("marac", marac, "victim_person_id"),
        ("management", history.management, "person_id"),
        ("counter_overrides", ov, "person_a"),
        ("counter_overrides", ov, "person_b"),
    ]
    inc_codes, inc_names = _factorized([frame["incident_id"] for _, frame in inc_cols])
    per_codes, per_names = _factorized([frame[col] for _, frame, col in per_cols])
    n_inc = len(inc_names)
    n = n_inc + len(per_names)

    def node(codes: np.ndarray, offset: int) -> np.ndarray:
        return np.where(codes >= 0, codes + offset, -1)

    inv_inc, (inv_per, perp, vict, _, ov_a, ov_b) = inc_codes[1], per_codes
    a = np.concatenate([node(inv_inc, 0), node(perp, n_inc), node(ov_a, n_inc)])
    b = np.concatenate([node(inv_per, n_inc), node(vict, n_inc), node(ov_b, n_inc)])
    ok = (a >= 0) & (b >= 0)
    graph = coo_matrix((np.ones(int(ok.sum()), dtype=np.int8), (a[ok], b[ok])), shape=(n, n))
    del a, b, ok
    _, labels = connected_components(graph, directed=False)
    del graph
    labels = labels.astype(np.int64)

    def label(codes: np.ndarray, offset: int) -> np.ndarray:
        return np.where(codes >= 0, labels[np.maximum(codes, 0) + offset], -1)

    out = {
        f"{name}.incident_id": label(codes, 0)
        for (name, _), codes in zip(inc_cols, inc_codes, strict=True)
    }
    for (name, _, col), codes in zip(per_cols, per_codes, strict=True):
        out[f"{name}.{col}"] = label(codes, n_inc)
    out["_incident"], out["_person"] = labels[:n_inc], labels[n_inc:]
    return out, inc_names, per_names


def components(history: Linked) -> tuple[pd.Series, pd.Series]:
    """Component of every incident and every person (see the module's docstring).

    Returns (component by incident_id, component by person_id), int64.
    """
    labelled, inc_names, per_names = _labelled(history)
    return (
        pd.Series(labelled["_incident"], index=inc_names.rename("incident_id")),
        pd.Series(labelled["_person"], index=per_names.rename("person_id")),
    )


def deal(component_rows: np.ndarray, buckets: int) -> np.ndarray:
    """The bucket of each component, given its number of rows: components in
    label order, cut into ``buckets`` runs of about equal rows (a bucket holds
    its share plus at most one component).

    >>> deal(np.array([3, 1, 1, 1, 0, 2]), 2).tolist()
    [0, 0, 1, 1, 1, 1]
    """
    rows = np.asarray(component_rows, dtype=np.int64)
    total = int(rows.sum())
    if buckets <= 1 or total == 0:
        return np.zeros(len(rows), dtype=np.int64)
    before = np.cumsum(rows) - rows
    return np.minimum(before * buckets // total, buckets - 1).astype(np.int64)


def bucket_count(rows: int, rows_per_bucket: int) -> int:
    """How many buckets hold ``rows`` involvement rows at ``rows_per_bucket`` each.

    >>> bucket_count(5_000_000, 2_000_000), bucket_count(0, 2_000_000)
    (3, 1)
    """
    return max(1, -(-int(rows) // max(1, int(rows_per_bucket))))


def row_buckets(history: Linked, buckets: int) -> dict[str, np.ndarray]:
    """The bucket of every row of each table of ``history`` (whole components
    per bucket, :func:`deal`). A MARAC referral goes with its perpetrator (else
    its victim: the two share a component), a label with its first person.
    Rows of no one (no incident or person id) cannot change anyone's
    features: bucket 0."""
    comp = _labelled(history)[0]
    n_components = int(max(comp["_incident"].max(initial=-1), comp["_person"].max(initial=-1)))
    inv_comp = comp["involvements.incident_id"]
    sizes = np.bincount(inv_comp[inv_comp >= 0], minlength=n_components + 1)
    dealt = deal(sizes, buckets)

    def bucket(of: np.ndarray) -> np.ndarray:
        return np.where(of >= 0, dealt[np.maximum(of, 0)], 0)

    perp, vict = comp["marac.perpetrator_person_id"], comp["marac.victim_person_id"]
    return {
        "incidents": bucket(comp["incidents.incident_id"]),
        "involvements": bucket(inv_comp),
        "marac": bucket(np.where(perp >= 0, perp, vict)),
        "management": bucket(comp["management.person_id"]),
        "counter_overrides": bucket(comp["counter_overrides.person_a"]),
    }


def partition_table(history: History, day: object, settings: Settings) -> pd.DataFrame:
    """The cohort table of the people of one partition, unordered and without
    ``rank`` (what each bucket computes)."""
    return rank(compute_features(history, day, settings), settings).drop(columns=["rank"])


def ranked(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The partitions' tables as one cohort table: ordered as
    :func:`adapt.scoring.score.rank` orders, ranked 1..n. ``tables`` is
    emptied (its frames are freed once copied into the one table)."""
    filled = [t for t in tables if len(t)] or tables[:1]
    tables.clear()
    table = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    filled.clear()
    table = table.sort_values(ORDER, ascending=ASCENDING, kind="mergesort")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)
