"""The graph as a link table that an i2 Analyst's Notebook import specification reads.

One row per edge, each end with its identity, entity type and label, then the
link's identity, type, label, dates and incident count. docs/i2-import.md
says how to map each column in the import wizard; the column names and the
type names below are part of that contract, so change them only together with
the document.

Write the frame with :func:`adapt.exports.write_table` (CSV or XLSX), which
keeps text from being read as a spreadsheet formula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapt.graph.labels import label_lookup
from adapt.graph.links import ADDRESS, PERSON

I2_COLUMNS: dict[str, str] = {
    "end1_id": "identity of the entity the link starts at (a person id)",
    "end1_type": "entity type: Person",
    "end1_label": "label shown on the chart (from the caller; the id when none)",
    "end2_id": "identity of the entity the link points to (a person id or an address id)",
    "end2_type": "entity type: Person or Address",
    "end2_label": "label shown on the chart",
    "link_id": "identity of the link: end 1, link type and end 2, so re-imports merge",
    "link_type": "Suspect against, Incident at or Home address",
    "link_label": "the incident count first ('3 incidents'), so i2 can total links by it",
    "first_date": "date of the first incident behind the link (YYYY-MM-DD)",
    "last_date": "date of the latest incident behind the link",
    "incidents": "number of distinct incidents behind the link",
}
ENTITY_TYPES: dict[str, str] = {PERSON: "Person", ADDRESS: "Address"}
LINK_TYPES: dict[str, str] = {
    "suspect_against": "Suspect against",
    "incident_at": "Incident at",
    "home_address": "Home address",
}


def i2_link_table(
    links: pd.DataFrame,
    person_labels: pd.DataFrame | pd.Series | None = None,
    addresses: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A link table for i2 Analyst's Notebook, one row per edge of ``links``.

    Parameters
    ----------
    links
        A frame as :func:`adapt.graph.build_links` returns (whole or filtered).
    person_labels
        ``person_id, label`` (or a Series indexed by person id): how each
        person is shown on the chart, chosen by the caller (who decides
        whether names may leave ADAPT). A person without one is labelled by id.
    addresses
        :func:`adapt.graph.build_addresses` output, for address labels; an
        address without one is labelled by id.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`I2_COLUMNS`, in that order, rows in the order of ``links``.

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
    >>> addresses = pd.DataFrame({"address_id": ["A1"], "label": ["12 High Street, LE1 2AB"]})
    >>> table = i2_link_table(links, pd.Series({"P1": "Suspect A"}), addresses)
    >>> print(table[["end1_label", "link_type", "end2_label", "link_label"]].to_string(index=False))
    end1_label       link_type              end2_label  link_label
     Suspect A Suspect against                      P2 2 incidents
            P2 Suspect against                      P3  1 incident
     Suspect A    Home address 12 High Street, LE1 2AB  1 incident
    >>> table.loc[0, "link_id"]
    'P1:suspect_against:P2'
    """
    labels = label_lookup(person_labels, addresses)
    source = links["source_id"].astype("string")
    target = links["target_id"].astype("string")
    relation = links["relation"].astype("string")
    count = links["incidents"].astype("int64")
    noun = pd.Series(np.where(count == 1, " incident", " incidents"), index=links.index)
    table = pd.DataFrame(
        {
            "end1_id": source,
            "end1_type": links["source_kind"].astype("string").map(ENTITY_TYPES),
            "end1_label": source.map(labels).fillna(source),
            "end2_id": target,
            "end2_type": links["target_kind"].astype("string").map(ENTITY_TYPES),
            "end2_label": target.map(labels).fillna(target),
            "link_id": source + ":" + relation + ":" + target,
            "link_type": relation.map(LINK_TYPES),
            "link_label": count.astype("string") + noun,
            "first_date": pd.to_datetime(links["first_at"]).dt.normalize(),
            "last_date": pd.to_datetime(links["last_at"]).dt.normalize(),
            "incidents": count,
        },
        index=links.index,
    )
    for col in ("end1_type", "end1_label", "end2_type", "end2_label", "link_type", "link_label"):
        table[col] = table[col].astype("string")
    return table.reset_index(drop=True)[list(I2_COLUMNS)]
