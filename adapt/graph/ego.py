"""One person's neighbourhood of the graph, for a user to look at.

:func:`ego_network` walks the links frame outward from one person, hop by hop,
with vectorised pandas steps (one per hop, never one per person), keeps the
nearest nodes up to a cap, and returns a small :class:`networkx.MultiDiGraph`.
A multigraph because two nodes can be joined by more than one relation (a
counter-allegation is ``suspect_against`` both ways; a person's home is often
also where the incidents happened), and an edge keyed by its relation keeps
each one.

:func:`ego_frames` turns that graph into two frames with fixed positions,
ready to draw with plotly (nothing here loads anything from the network).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from adapt.graph.labels import label_lookup
from adapt.graph.links import ADDRESS, PERSON

MAX_NODES = 300
NODE_FRAME_COLUMNS: tuple[str, ...] = (
    "node_id", "kind", "label", "distance", "degree", "x", "y",
)  # fmt: skip
EDGE_FRAME_COLUMNS: tuple[str, ...] = (
    "source_id", "target_id", "relation", "incidents", "first_at", "last_at",
    "x0", "y0", "x1", "y1",
)  # fmt: skip
_KIND_ORDER = {PERSON: 0, ADDRESS: 1}


def _reach(
    links: pd.DataFrame, center: str, depth: int, max_nodes: int
) -> tuple[pd.DataFrame, bool, int]:
    """Nodes within ``depth`` hops (direction ignored), nearest first, cut at ``max_nodes``.

    Returns the kept nodes (``node_id, kind, distance``), whether any were cut,
    and how many were reached (a lower bound when the walk stopped early).
    """
    source, target = links["source_id"], links["target_id"]
    center_kind = links.loc[source == center, "source_kind"]
    if not len(center_kind):
        center_kind = links.loc[target == center, "target_kind"]
    kind = str(center_kind.iloc[0]) if len(center_kind) else PERSON
    found = [pd.DataFrame({"node_id": [center], "kind": [kind], "distance": [0], "weight": [0]})]
    seen = pd.Index([center], dtype="string")
    frontier = seen
    for hop in range(1, depth + 1):
        if len(seen) > max_nodes or not len(frontier):
            break  # anything further out would be cut anyway
        # Direction is ignored: step out along edges from either end.
        out = links.loc[source.isin(frontier) & ~target.isin(seen)]
        back = links.loc[target.isin(frontier) & ~source.isin(seen)]
        step = pd.concat(
            [
                pd.DataFrame(
                    {"node_id": out["target_id"], "kind": out["target_kind"],
                     "weight": out["incidents"]}
                ),
                pd.DataFrame(
                    {"node_id": back["source_id"], "kind": back["source_kind"],
                     "weight": back["incidents"]}
                ),
            ],
            ignore_index=True,
        )  # fmt: skip
        if not len(step):
            break
        # How strongly each new node is tied to the ring inside it: the tie-break
        # when the cap falls inside this ring.
        new = step.groupby(["node_id", "kind"], observed=True)["weight"].sum().reset_index()
        new["distance"] = hop
        found.append(new)
        frontier = pd.Index(new["node_id"].unique(), dtype="string")
        seen = seen.append(frontier)
    nodes = pd.concat(found, ignore_index=True)
    nodes["kind_order"] = nodes["kind"].map(_KIND_ORDER).fillna(len(_KIND_ORDER))
    nodes = nodes.sort_values(
        ["distance", "weight", "kind_order", "node_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    reached = len(nodes)
    kept = nodes.head(max_nodes)
    capped = reached > max_nodes
    return kept[["node_id", "kind", "distance"]].reset_index(drop=True), capped, reached


def ego_network(
    links: pd.DataFrame,
    person_id: str,
    depth: int = 2,
    addresses: pd.DataFrame | None = None,
    *,
    person_labels: pd.DataFrame | pd.Series | None = None,
    max_nodes: int = MAX_NODES,
) -> nx.MultiDiGraph:
    """The graph around one person, up to ``depth`` hops, nearest nodes first.

    Parameters
    ----------
    links
        A frame as :func:`adapt.graph.build_links` returns (the whole population).
    person_id
        The person at the centre. A person with no links gives a graph of one node.
    depth
        Hops to walk, ignoring edge direction (1: their victims, perpetrators
        and addresses; 2: also the others linked to those).
    addresses
        Optional :func:`adapt.graph.build_addresses` frame, for address labels.
    person_labels
        Optional ``person_id, label`` frame (or a Series indexed by person id),
        for person labels; the id is the label otherwise.
    max_nodes
        At most this many nodes are kept: all nearer rings before any further
        one; within the ring the cap falls in, the nodes with most incidents
        linking them inward, then persons before addresses, then by id.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes are ids, with ``kind`` (``person``/``address``), ``label`` and
        ``distance`` (hops from the centre). Every link between two kept nodes
        is an edge from source to target, keyed by its relation, with
        ``relation``, ``incidents``, ``first_at`` and ``last_at``. Graph
        attributes: ``center``, ``depth``, ``max_nodes``, ``capped`` (True when
        nodes were left out) and ``nodes_reached`` (how many were found before
        the cap; when capped, at least that many exist).

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
    >>> g = ego_network(links, "P1", depth=1)
    >>> sorted(g.nodes(data="distance"))
    [('A1', 1), ('P1', 0), ('P2', 1)]
    >>> sorted(g.edges(keys=True))
    [('P1', 'A1', 'home_address'), ('P1', 'P2', 'suspect_against')]
    >>> g.graph["capped"], ego_network(links, "P1", depth=2).number_of_nodes()
    (False, 4)
    """
    if depth < 0:
        raise ValueError("depth must be 0 or more")
    if max_nodes < 1:
        raise ValueError("max_nodes must be 1 or more")
    nodes, capped, reached = _reach(links, person_id, depth, max_nodes)
    labels = label_lookup(person_labels, addresses)
    nodes["label"] = nodes["node_id"].map(labels).fillna(nodes["node_id"]).astype(str)

    kept = pd.Index(nodes["node_id"])
    edges = links.loc[links["source_id"].isin(kept) & links["target_id"].isin(kept)]
    edges = edges.sort_values(["source_id", "target_id", "relation"], kind="stable")

    graph = nx.MultiDiGraph(
        center=person_id, depth=depth, max_nodes=max_nodes, capped=capped, nodes_reached=reached
    )
    for row in nodes.itertuples(index=False):
        graph.add_node(row.node_id, kind=row.kind, label=row.label, distance=int(row.distance))
    for row in edges.itertuples(index=False):
        graph.add_edge(
            row.source_id,
            row.target_id,
            key=str(row.relation),
            relation=str(row.relation),
            incidents=int(row.incidents),
            first_at=row.first_at,
            last_at=row.last_at,
        )
    return graph


def _positions(graph: nx.MultiDiGraph, layout: str, seed: int) -> dict[str, np.ndarray]:
    simple = nx.Graph()
    simple.add_nodes_from(sorted(graph.nodes))
    simple.add_edges_from(sorted({tuple(sorted((u, v))) for u, v in graph.edges()}))
    center = graph.graph.get("center")
    if layout == "shell":
        rings: dict[int, list[str]] = {}
        for node, distance in sorted(graph.nodes(data="distance")):
            rings.setdefault(int(distance or 0), []).append(node)
        shells = [rings[d] for d in sorted(rings)]
        return nx.shell_layout(simple, nlist=shells) if len(simple) > 1 else {center: np.zeros(2)}
    if layout != "spring":
        raise ValueError(f"layout must be 'spring' or 'shell', not {layout!r}")
    pos = nx.spring_layout(simple, seed=seed)
    if center in pos:  # the person looked at is drawn in the middle
        origin = pos[center].copy()
        pos = {n: p - origin for n, p in pos.items()}
    return pos


def ego_frames(
    graph: nx.MultiDiGraph, *, layout: str = "spring", seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge frames with positions, for drawing an :func:`ego_network`.

    Parameters
    ----------
    graph
        As :func:`ego_network` returns.
    layout
        ``spring`` (force-directed, fixed ``seed``, centre at 0, 0) or
        ``shell`` (rings by distance from the centre). Both give the same
        positions for the same graph on every run.

    Returns
    -------
    (nodes, edges)
        ``nodes``: :data:`NODE_FRAME_COLUMNS` (``degree`` counts the edges
        touching the node), ordered by distance then id. ``edges``:
        :data:`EDGE_FRAME_COLUMNS`, the end positions ``x0, y0`` (source) and
        ``x1, y1`` (target) beside each edge's data, ordered by source, target
        and relation. Positions are rounded to 6 decimals.
    """
    pos = _positions(graph, layout, seed) if graph.number_of_nodes() else {}
    node_rows = [
        {
            "node_id": node,
            "kind": data.get("kind"),
            "label": data.get("label", node),
            "distance": int(data.get("distance", 0)),
            "degree": int(graph.degree(node)),
            "x": round(float(pos[node][0]), 6),
            "y": round(float(pos[node][1]), 6),
        }
        for node, data in graph.nodes(data=True)
    ]
    nodes = pd.DataFrame(node_rows, columns=list(NODE_FRAME_COLUMNS))
    nodes = nodes.sort_values(["distance", "node_id"], kind="stable").reset_index(drop=True)
    edge_rows = [
        {
            "source_id": u,
            "target_id": v,
            "relation": data.get("relation", key),
            "incidents": data.get("incidents"),
            "first_at": data.get("first_at"),
            "last_at": data.get("last_at"),
            "x0": round(float(pos[u][0]), 6),
            "y0": round(float(pos[u][1]), 6),
            "x1": round(float(pos[v][0]), 6),
            "y1": round(float(pos[v][1]), 6),
        }
        for u, v, key, data in graph.edges(keys=True, data=True)
    ]
    edges = pd.DataFrame(edge_rows, columns=list(EDGE_FRAME_COLUMNS))
    edges = edges.sort_values(["source_id", "target_id", "relation"], kind="stable")
    edges = edges.reset_index(drop=True)
    edges["incidents"] = edges["incidents"].astype("int64")
    edges["first_at"] = pd.to_datetime(edges["first_at"])
    edges["last_at"] = pd.to_datetime(edges["last_at"])
    return nodes, edges
