"""The graph for analysts' own tools: the i2 link table and GraphML.

* :func:`i2_export_frame`: the victim–perpetrator–address links as of a date
  as the i2 Analyst's Notebook link table (:func:`adapt.graph.i2.i2_link_table`),
  with names as labels.
* :func:`export_graph` / :func:`graphml_bytes`: the same graph as GraphML that
  Gephi and networkx open, names and dates as node and edge attributes, text
  made formula-safe.

Pure functions on a :class:`~adapt.core.history.History`; the pipeline loads
the history and writes the file (audited first).
"""

from __future__ import annotations

import networkx as nx
import pandas as pd

from adapt.core.history import History


def i2_export_frame(history: History, *, as_of: object | None = None) -> pd.DataFrame:
    """The i2 link table of the graph as of ``as_of`` (all dates when None)."""
    raise NotImplementedError("issue 14: i2 export")


def export_graph(history: History, *, as_of: object | None = None) -> nx.MultiDiGraph:
    """The graph as of ``as_of`` with names and dates as attributes."""
    raise NotImplementedError("issue 14: GraphML export")


def graphml_bytes(graph: nx.Graph) -> bytes:
    """``graph`` as GraphML (UTF-8), every text attribute formula-safe."""
    raise NotImplementedError("issue 14: GraphML export")
