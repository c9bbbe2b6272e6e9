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

from adapt.graph.links import ADDRESS, PERSON

STATS_COLUMNS: dict[str, str] = {
    "component": "the connected part of the graph the person is in (1 = the largest)",
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
        numbers are 1 for the largest, ties broken by the smallest person id
        in them, so they are the same for the same links (not across dates).

    Examples
    --------
    P1 was suspect against P2 (twice), P2 against P3; P1 lives at A1:

    >>> links = pd.DataFrame(
    ...     {
    ...         "source_id": ["P1", "P2", "P1"],
    ...         "source_kind": "person",
    ...         "target_id": ["P2", "P3", "A1"],
    ...         "target_kind": ["person", "person", "address"],
    ...         "relation": ["suspect_against", "suspect_against", "home_address"],
    ...         "incidents": [2, 1, 1],
    ...         "first_at": pd.to_datetime(["2023-05-01", "2024-01-09", "2023-05-01"]),
    ...         "last_at": pd.to_datetime(["2024-02-11", "2024-01-09", "2024-02-11"]),
    ...     }
    ... )
    >>> print(person_graph_stats(links)[["component_size", "victims", "perpetrators", "addresses"]])
               component_size  victims  perpetrators  addresses
    person_id
    P1                      4        1             0          1
    P2                      4        1             1          0
    P3                      4        0             1          0
    """
    if not len(links):
        return _empty_stats()
    # Persons are numbered first, then addresses, each in sorted id order, so
    # a person id and an address id can never meet and node order is id order.
    person_end = pd.concat(
        [
            links["source_id"].where(links["source_kind"] == PERSON),
            links["target_id"].where(links["target_kind"] == PERSON),
        ],
        ignore_index=True,
    )
    address_end = pd.concat(
        [
            links["source_id"].where(links["source_kind"] == ADDRESS),
            links["target_id"].where(links["target_kind"] == ADDRESS),
        ],
        ignore_index=True,
    )
    person_code, person_ids = pd.factorize(person_end, sort=True)
    address_code, _ = pd.factorize(address_end, sort=True)
    n_persons = len(person_ids)
    node = np.where(person_code >= 0, person_code, n_persons + address_code)
    if (node < 0).any():
        raise ValueError("links has an end whose kind is neither person nor address")
    n_edges = len(links)
    n_nodes = int(node.max()) + 1
    src, dst = node[:n_edges], node[n_edges:]
    adjacency = coo_matrix(
        (np.ones(n_edges, dtype=np.int8), (src, dst)), shape=(n_nodes, n_nodes)
    ).tocsr()
    n_comp, label = connected_components(adjacency, directed=False)

    size = np.bincount(label, minlength=n_comp)
    persons = np.bincount(label[:n_persons], minlength=n_comp)
    # The first node met per component (in id order, persons first) breaks size ties.
    first = np.full(n_comp, n_nodes, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n_nodes))
    order = np.lexsort((first, -size))
    number = np.empty(n_comp, dtype=np.int64)
    number[order] = np.arange(1, n_comp + 1)

    own = label[:n_persons]
    relation = links["relation"].astype("string").to_numpy()
    against = relation == "suspect_against"
    # links has one row per (source, relation, target): counting rows counts people.
    victims = np.bincount(src[against], minlength=n_persons)
    perpetrators = np.bincount(dst[against], minlength=n_persons)
    to_address = (dst >= n_persons) & (src < n_persons)
    places = np.unique(src[to_address].astype(np.int64) * n_nodes + dst[to_address])
    addresses = np.bincount(places // n_nodes, minlength=n_persons)
    stats = pd.DataFrame(
        {
            "component": number[own],
            "component_size": size[own],
            "component_persons": persons[own],
            "victims": victims[:n_persons],
            "perpetrators": perpetrators[:n_persons],
            "addresses": addresses[:n_persons],
        },
        index=pd.Index(person_ids, dtype="string", name="person_id"),
    )
    return stats.astype(np.int64)
