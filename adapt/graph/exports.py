"""The graph for analysts' own tools: the i2 link table and GraphML.

* :func:`i2_export_frame`: the victim–perpetrator–address links as of a date
  as the i2 Analyst's Notebook link table (:func:`adapt.graph.i2.i2_link_table`),
  with names as labels.
* :func:`export_graph` / :func:`graphml_bytes`: the same graph as GraphML that
  Gephi and networkx open, names and dates as node and edge attributes, text
  made formula-safe.

Names are not in a :class:`~adapt.core.history.History`: the caller passes
them (``person_id, label``, e.g. :func:`adapt.db.people.person_labels`) and so
decides whether they leave ADAPT; without them a person is labelled by id.

GraphML attributes (typed keys, so Gephi and ``networkx.read_graphml`` read
numbers as numbers):

nodes
    ``kind`` (person or address), ``label`` (the name, or the address as
    most often written with its postcode), ``name`` (people; empty when none
    was recorded), ``role`` (people: suspect, victim, or suspect and victim,
    on the incidents up to the date), ``postcode`` (addresses).
edges
    ``relation`` (``suspect_against``, ``incident_at``, ``home_address``, as
    in the ``links`` export), ``label`` (the relation in words), ``incidents``
    (an integer key, typed ``long`` as networkx writes it), ``first_at`` and
    ``last_at`` (ISO dates, ``YYYY-MM-DD``, as text: GraphML has no date type).

Every text attribute goes through
:func:`adapt.exports.safe.neutralise_formula`: Gephi's data laboratory exports
to CSV, and a name such as ``=HYPERLINK(...)`` must not become a formula there.

Pure functions on a :class:`~adapt.core.history.History`; the pipeline loads
the history and writes the file (audited first).
"""

from __future__ import annotations

import io

import networkx as nx
import numpy as np
import pandas as pd

from adapt.core.dates import cutoff_of
from adapt.core.history import History
from adapt.exports.safe import FORMULA_PREFIXES, QUOTE_PREFIX, neutralise_formula
from adapt.graph.i2 import LINK_TYPES, i2_link_table
from adapt.graph.labels import label_lookup
from adapt.graph.links import ADDRESS, GRAPH_ROLES, PERSON, build_addresses, build_links

GRAPH_NAME = "ADAPT victim-perpetrator-address graph"
NODE_ATTRIBUTES: tuple[str, ...] = ("kind", "label", "name", "role", "postcode")
PERSON_ATTRIBUTES: tuple[str, ...] = ("kind", "label", "name", "role")
ADDRESS_ATTRIBUTES: tuple[str, ...] = ("kind", "label", "postcode")
EDGE_ATTRIBUTES: tuple[str, ...] = ("relation", "label", "incidents", "first_at", "last_at")


def i2_export_frame(
    history: History,
    *,
    as_of: object | None = None,
    person_labels: pd.DataFrame | pd.Series | None = None,
) -> pd.DataFrame:
    """The i2 link table of the graph as of ``as_of`` (all dates when None).

    ``person_labels`` (``person_id, label``) names each person on the chart;
    a person without one is labelled by id. Write the frame with
    :func:`adapt.exports.write_table`, which keeps text from being a formula.
    """
    links = build_links(history, as_of=as_of)
    return i2_link_table(links, person_labels, build_addresses(history, as_of=as_of))


def _roles(history: History, as_of: object | None, people: pd.Index) -> pd.Series:
    """``person_id -> role in words`` for ``people``, from the involvements of
    incidents up to ``as_of``."""
    inc = history.incidents
    if as_of is not None:
        inc = inc.loc[inc["occurred_at"] < cutoff_of(as_of)]
    inv = history.involvements
    inv = inv.loc[
        inv["role"].isin(GRAPH_ROLES).fillna(False)
        & inv["person_id"].notna()
        & inv["incident_id"].isin(inc["incident_id"]).fillna(False),
        ["person_id", "role"],
    ]
    role = inv["role"].astype("string")
    held = (
        pd.DataFrame({"suspect": role == "suspect", "victim": role == "victim"})
        .groupby(inv["person_id"].astype("string").to_numpy())
        .any()
        .reindex(index=people, fill_value=False)
    )
    words = np.select(
        [held["suspect"] & held["victim"], held["suspect"], held["victim"]],
        ["suspect and victim", "suspect", "victim"],
        default="",
    )
    return pd.Series(words, index=people, dtype="string")


def _text(series: pd.Series) -> pd.Series:
    """Text for a GraphML attribute: empty when missing, formula-safe."""
    return neutralise_formula(series.astype("string").fillna("").astype(object))


def _node_frame(
    links: pd.DataFrame,
    history: History,
    as_of: object | None,
    person_labels: pd.DataFrame | pd.Series | None,
    addresses: pd.DataFrame,
) -> pd.DataFrame:
    ends = pd.concat(
        [
            links[["source_id", "source_kind"]].set_axis(["node_id", "kind"], axis=1),
            links[["target_id", "target_kind"]].set_axis(["node_id", "kind"], axis=1),
        ],
        ignore_index=True,
    ).drop_duplicates("node_id")
    ends = ends.sort_values(["kind", "node_id"], key=lambda s: s.astype("string"))
    node_id = ends["node_id"].astype("string").reset_index(drop=True)
    kind = ends["kind"].astype("string").reset_index(drop=True)
    is_person = (kind == PERSON).to_numpy()
    names = label_lookup(person_labels, None)
    name = node_id.map(names).where(is_person)
    # A "label" equal to the id is no name.
    name = name.mask(name == node_id)
    place = addresses.drop_duplicates("address_id").set_index("address_id")
    roles = _roles(history, as_of, pd.Index(node_id[is_person], dtype="string"))
    frame = pd.DataFrame(
        {
            "node_id": node_id,
            "kind": kind,
            "label": name.fillna(node_id.map(place["label"])).fillna(node_id),
            "name": name,
            "role": node_id.map(roles).where(is_person),
            "postcode": node_id.map(place["postcode"]).where(~is_person),
        }
    )
    for col in NODE_ATTRIBUTES:
        frame[col] = _text(frame[col])
    return frame


def _iso_date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").astype("string").fillna("")


def export_graph(
    history: History,
    *,
    as_of: object | None = None,
    person_labels: pd.DataFrame | pd.Series | None = None,
) -> nx.MultiDiGraph:
    """The graph as of ``as_of`` with names and dates as attributes.

    A :class:`networkx.MultiDiGraph` (a counter-allegation is two edges, and a
    home is often also where incidents happened), each edge keyed by its link
    id (``P0000014:suspect_against:P0000020``, as in the i2 export);
    attributes as in the module's docstring, every text attribute formula-safe.
    ``person_labels`` (``person_id, label``) gives the names; without it
    people carry their id only.
    """
    links = build_links(history, as_of=as_of)
    addresses = build_addresses(history, as_of=as_of)
    nodes = _node_frame(links, history, as_of, person_labels, addresses)
    relation = links["relation"].astype("string")
    edges = pd.DataFrame(
        {
            "relation": _text(relation),
            "label": _text(relation.map(LINK_TYPES)),
            "incidents": links["incidents"].astype("int64"),
            "first_at": _iso_date(links["first_at"]).astype(object),
            "last_at": _iso_date(links["last_at"]).astype(object),
        }
    )
    graph = nx.MultiDiGraph(
        name=GRAPH_NAME,
        as_of="" if as_of is None else pd.Timestamp(as_of).date().isoformat(),
    )
    # Each kind of node carries its own attributes only (no empty postcode on a person).
    for kind, attributes in ((PERSON, PERSON_ATTRIBUTES), (ADDRESS, ADDRESS_ATTRIBUTES)):
        some = nodes.loc[nodes["kind"] == kind]
        records = some[list(attributes)].to_dict("records")
        graph.add_nodes_from(zip(some["node_id"].tolist(), records, strict=True))
    # Python ints in the attributes (GraphML types them); each edge keyed by the
    # i2 link id (source:relation:target), unique in the file, as Gephi needs
    # edge ids to be (a repeated id is dropped there).
    edge_attrs = edges.astype({"incidents": object}).to_dict("records")
    source = links["source_id"].astype("string")
    target = links["target_id"].astype("string")
    graph.add_edges_from(
        zip(
            source.tolist(),
            target.tolist(),
            (source + ":" + relation + ":" + target).tolist(),
            edge_attrs,
            strict=True,
        )
    )
    return graph


def _safe_value(value: object) -> object:
    """One attribute value: text formula-safe (the rule of
    :func:`~adapt.exports.safe.neutralise_formula`), numpy numbers as Python
    numbers (which GraphML types)."""
    if isinstance(value, str):
        return QUOTE_PREFIX + value if value.startswith(FORMULA_PREFIXES) else value
    return value.item() if isinstance(value, np.generic) else value


def _safe_attrs(attrs: dict) -> dict:
    return {k: _safe_value(v) for k, v in attrs.items() if v is not None}


def graphml_bytes(graph: nx.Graph) -> bytes:
    """``graph`` as GraphML (UTF-8, with its XML declaration), every text
    attribute formula-safe.

    Keys are typed (``string``, ``long``, ``double``, ``boolean``) so that
    Gephi and ``networkx.read_graphml`` read numbers as numbers. A graph made
    by :func:`export_graph` is already safe (text that already starts with
    the quote is left alone); any other graph is made safe here, on a copy:
    ``graph`` itself is not changed. A missing (None) attribute is left out.
    """
    safe = graph.__class__()
    safe.graph.update(_safe_attrs(dict(graph.graph)))
    safe.add_nodes_from((n, _safe_attrs(a)) for n, a in graph.nodes(data=True))
    if graph.is_multigraph():
        safe.add_edges_from(
            (u, v, k, _safe_attrs(a)) for u, v, k, a in graph.edges(keys=True, data=True)
        )
    else:
        safe.add_edges_from((u, v, _safe_attrs(a)) for u, v, a in graph.edges(data=True))
    buffer = io.BytesIO()
    nx.write_graphml(safe, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()
