"""Whole-population passes over the links frame (components and degrees).

Everything here works on integer node numbers with :mod:`scipy.sparse.csgraph`
and pandas group-bys, never networkx: on a force's whole graph (millions of
nodes) networkx is some forty times slower and twenty times larger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

STATS_COLUMNS: dict[str, str] = {
    "component": "the connected part of the graph the person is in, numbered 1 = largest",
    "component_size": "nodes (persons and addresses) in that component",
    "component_persons": "persons in that component",
    "victims": "distinct people the person was recorded as suspect against",
    "perpetrators": "distinct people recorded as suspect against the person",
    "addresses": "distinct addresses linked to the person (incident location or home)",
}


def _empty_stats() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="int64") for c in STATS_COLUMNS})
    frame.index = pd.Index([], dtype="string", name="person_id")
    return frame


def person_graph_stats(links: pd.DataFrame) -> pd.DataFrame:
    """Component and degree counts for every person in the graph.

    Parameters
    ----------
    links
        A frame as :func:`adapt.graph.build_links` returns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``person_id`` (sorted), columns as in
        :data:`STATS_COLUMNS`. Components ignore direction and join persons
        through shared addresses as well as through incidents. Component
        numbers are 1 for the largest, ties broken by the smallest node id,
        so they are the same for the same links (not across different dates).

    Examples
    --------
    >>> stats = person_graph_stats(build_links(history))  # doctest: +SKIP
    >>> stats.sort_values("victims", ascending=False).head()  # doctest: +SKIP
    """
    if not len(links):
        return _empty_stats()
    # Node keys carry the kind, so a person id can never meet an address id.
    src = links["source_kind"].astype("string") + ":" + links["source_id"].astype("string")
    dst = links["target_kind"].astype("string") + ":" + links["target_id"].astype("string")
    codes, keys = pd.factorize(pd.concat([src, dst], ignore_index=True), sort=True)
    n_nodes, n_edges = len(keys), len(links)
    rows, cols = codes[:n_edges], codes[n_edges:]
    adjacency = coo_matrix(
        (np.ones(n_edges, dtype=np.int8), (rows, cols)), shape=(n_nodes, n_nodes)
    ).tocsr()
    n_comp, label = connected_components(adjacency, directed=False)

    is_person = np.asarray(pd.Series(keys).str.startswith("person:"), dtype=bool)
    size = np.bincount(label, minlength=n_comp)
    persons = np.bincount(label, weights=is_person, minlength=n_comp).astype(np.int64)
    # Nodes are numbered in sorted key order, so the first node met per component is its least.
    first = np.full(n_comp, n_nodes, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n_nodes))
    order = np.lexsort((first, -size))
    number = np.empty(n_comp, dtype=np.int64)
    number[order] = np.arange(1, n_comp + 1)

    person_nodes = np.flatnonzero(is_person)
    person_ids = pd.Index(
        pd.Series(keys[person_nodes]).str.slice(len("person:")).astype("string"),
        name="person_id",
    )
    stats = pd.DataFrame(
        {
            "component": number[label[person_nodes]],
            "component_size": size[label[person_nodes]].astype(np.int64),
            "component_persons": persons[label[person_nodes]],
        },
        index=person_ids,
    )
    relation = links["relation"].astype("string")
    against = links.loc[relation == "suspect_against"]
    places = links.loc[links["target_kind"] == "address"]
    stats["victims"] = against.groupby("source_id")["target_id"].nunique()
    stats["perpetrators"] = against.groupby("target_id")["source_id"].nunique()
    stats["addresses"] = places.groupby("source_id")["target_id"].nunique()
    for col in ("victims", "perpetrators", "addresses"):
        stats[col] = stats[col].fillna(0).astype(np.int64)
    return stats[list(STATS_COLUMNS)]
