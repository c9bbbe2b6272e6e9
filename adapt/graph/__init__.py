"""The victim–perpetrator–address graph: edges, population passes, ego views, i2.

```python
from adapt.graph import (
    build_addresses, build_links, ego_frames, ego_network, i2_link_table, person_graph_stats,
)

links = build_links(history, as_of="2024-03-31")     # the `links` export, exactly
addresses = build_addresses(history, as_of="2024-03-31")  # address_id -> label, postcode
stats = person_graph_stats(links)                      # components and degrees, per person
g = ego_network(links, "P0000014", depth=2, addresses=addresses)
nodes, edges = ego_frames(g)                           # positions for a plotly drawing
table = i2_link_table(links, person_labels, addresses) # for Analyst's Notebook
```

Everything is a pure function of a :class:`adapt.features.History` or of the
links frame; nothing here reads a database. The work lives in the modules:
``addresses`` (stable address ids), ``links`` (edges), ``population``
(scipy whole-graph passes), ``ego`` (one person's neighbourhood), ``i2``.
"""

from adapt.graph.addresses import ADDRESS_COLUMNS, resolve_addresses
from adapt.graph.ego import (
    EDGE_FRAME_COLUMNS,
    MAX_NODES,
    NODE_FRAME_COLUMNS,
    ego_frames,
    ego_network,
)
from adapt.graph.i2 import ENTITY_TYPES, I2_COLUMNS, LINK_TYPES, i2_link_table
from adapt.graph.links import (
    GRAPH_ROLES,
    LINK_COLUMNS,
    RELATIONS,
    build_addresses,
    build_links,
    empty_links,
)
from adapt.graph.population import STATS_COLUMNS, person_graph_stats

__all__ = [
    "ADDRESS_COLUMNS",
    "EDGE_FRAME_COLUMNS",
    "ENTITY_TYPES",
    "GRAPH_ROLES",
    "I2_COLUMNS",
    "LINK_COLUMNS",
    "LINK_TYPES",
    "MAX_NODES",
    "NODE_FRAME_COLUMNS",
    "RELATIONS",
    "STATS_COLUMNS",
    "build_addresses",
    "build_links",
    "ego_frames",
    "ego_network",
    "empty_links",
    "i2_link_table",
    "person_graph_stats",
    "resolve_addresses",
]
