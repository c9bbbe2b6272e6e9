"""Stable person ids across re-runs and new extracts, and the lineage of every
merge and split.

Decisions, plans and audit entries hang on a ``person_id``, so a re-run must
not renumber people. A new clustering is matched to the previous assignment
by overlap of rows:

* each previous id goes to the one cluster holding most of its rows (ties: the
  cluster with the smallest row key), and a cluster keeps, among the previous
  ids that chose it, the one with most rows there (ties: the oldest id);
* a cluster that keeps no previous id gets a new id;
* a previous id that no cluster kept was **merged** into the id of the
  cluster that took most of its rows; rows of a kept id that now sit in other
  clusters were **split** off to those clusters' ids.

Each event is one lineage row: (event, person_id that lost rows,
other_person_id that got them, rows_moved). Nothing that hung on an old id is
lost: the lineage says where it went. Vectorised: no loop over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ID_PREFIX = "P"
ID_DIGITS = 7


@dataclass(frozen=True)
class Assignment:
    """``assignments``: row_key, person_id for every clustered row.
    ``lineage``: event, person_id, other_person_id, rows_moved.
    ``created``: the new person ids."""

    assignments: pd.DataFrame
    lineage: pd.DataFrame
    created: list[str]


def format_id(number: np.ndarray | int) -> np.ndarray | str:
    if isinstance(number, int | np.integer):
        return f"{ID_PREFIX}{int(number):0{ID_DIGITS}d}"
    numbers = np.asarray(number)
    if numbers.size == 0:
        return np.array([], dtype=object)
    return np.char.add(ID_PREFIX, np.char.zfill(numbers.astype(str), ID_DIGITS))


def _id_number(ids: pd.Series) -> pd.Series:
    return ids.str.slice(len(ID_PREFIX)).astype("int64")


def _text_rank(keys: pd.Series) -> np.ndarray:
    """Each key's rank in text order (equal keys share one): the smallest key
    of a group as the smallest number, computed in Arrow (pandas takes a
    Python loop per group for the minimum of Arrow text)."""
    arr = pa.array(keys.astype("string").array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.rank(arr, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64)


def assign_ids(clusters: pd.DataFrame, previous: pd.DataFrame, next_number: int) -> Assignment:
    """Give each cluster a person id, keeping previous ids where the rows stay
    together.

    Parameters
    ----------
    clusters
        row_key, cluster: the new clustering of the rows being (re)resolved.
    previous
        row_key, person_id: the stored assignment (may be empty, may cover
        rows not in ``clusters``, which are ignored here).
    next_number
        The number the first new id takes (one more than the highest ever
        issued, so ids are never reused).

    Examples
    --------
    >>> clusters = pd.DataFrame({"row_key": ["a", "b", "c"], "cluster": [1, 1, 2]})
    >>> previous = pd.DataFrame({"row_key": ["a", "c"], "person_id": ["P0000001", "P0000001"]})
    >>> result = assign_ids(clusters, previous, next_number=2)
    >>> sorted(result.assignments.person_id)
    ['P0000001', 'P0000001', 'P0000002']
    >>> result.lineage[["event", "person_id", "other_person_id", "rows_moved"]].values.tolist()
    [['split', 'P0000001', 'P0000002', 1]]
    """
    rows = clusters[["row_key", "cluster"]].merge(
        previous[["row_key", "person_id"]], on="row_key", how="left"
    )
    known = rows.dropna(subset=["person_id"])
    known = known.assign(key_rank=_text_rank(known["row_key"]))
    overlap = (
        known.groupby(["person_id", "cluster"], sort=False)
        .agg(n=("row_key", "size"), first_key=("key_rank", "min"))
        .reset_index()
    )
    overlap["age"] = _id_number(overlap["person_id"]) if len(overlap) else []

    # Each previous id chooses the cluster holding most of its rows.
    by_id = overlap.sort_values(["person_id", "n", "first_key"], ascending=[True, False, True])
    chosen = by_id.drop_duplicates("person_id")
    # Each cluster keeps, among the ids that chose it, the one with most rows.
    kept = chosen.sort_values(["cluster", "n", "age"], ascending=[True, False, True])
    kept = kept.drop_duplicates("cluster")[["cluster", "person_id"]]

    cluster_ids = clusters[["cluster"]].drop_duplicates()
    cluster_ids = cluster_ids.merge(kept, on="cluster", how="left")
    fresh = cluster_ids["person_id"].isna()
    # New ids in a deterministic order: by each cluster's smallest row key.
    first_key = (
        pd.DataFrame({"cluster": clusters["cluster"], "key": _text_rank(clusters["row_key"])})
        .groupby("cluster")["key"]
        .min()
    )
    order = first_key.loc[cluster_ids.loc[fresh, "cluster"]].sort_values()
    numbers = np.arange(next_number, next_number + len(order))
    new_ids = pd.Series(format_id(numbers), index=order.index)
    cluster_ids.loc[fresh, "person_id"] = cluster_ids.loc[fresh, "cluster"].map(new_ids).values

    assignments = clusters[["row_key", "cluster"]].merge(cluster_ids, on="cluster")
    assignments = assignments[["row_key", "person_id"]].reset_index(drop=True)

    # Lineage: rows whose id changed, grouped by (old id, new id).
    moved = rows.merge(assignments.rename(columns={"person_id": "new_id"}), on="row_key").dropna(
        subset=["person_id"]
    )
    moved = moved[moved["person_id"] != moved["new_id"]]
    events = (
        moved.groupby(["person_id", "new_id"]).size().rename("rows_moved").reset_index()
        if len(moved)
        else pd.DataFrame(columns=["person_id", "new_id", "rows_moved"])
    )
    still_used = assignments["person_id"].unique()
    events["event"] = np.where(events["person_id"].isin(still_used), "split", "merged")
    lineage = events.rename(columns={"new_id": "other_person_id"})[
        ["event", "person_id", "other_person_id", "rows_moved"]
    ].reset_index(drop=True)
    lineage["rows_moved"] = lineage["rows_moved"].astype("int64")
    return Assignment(assignments, lineage, sorted(new_ids.tolist()))
