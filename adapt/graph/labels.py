"""How nodes are labelled for people to read: labels supplied by the caller.

The graph itself carries ids only. Person labels come from whoever draws or
exports it (and decides whether names may be shown); address labels come from
:func:`adapt.graph.build_addresses`.
"""

from __future__ import annotations

import pandas as pd


def _series(frame: pd.DataFrame | pd.Series | None, id_column: str) -> pd.Series:
    if frame is None:
        return pd.Series(dtype="string")
    if isinstance(frame, pd.Series):
        return frame.astype("string")
    missing = [c for c in (id_column, "label") if c not in frame.columns]
    if missing:
        raise ValueError(f"label frame lacks column(s): {', '.join(missing)}")
    return frame.drop_duplicates(id_column).set_index(id_column)["label"].astype("string")


def label_lookup(
    person_labels: pd.DataFrame | pd.Series | None, addresses: pd.DataFrame | None
) -> pd.Series:
    """``node id -> label`` from a ``person_id, label`` frame (or a Series indexed
    by person id) and an ``address_id, label`` frame; either may be None."""
    labels = pd.concat([_series(person_labels, "person_id"), _series(addresses, "address_id")])
    labels = labels.dropna()
    labels.index = labels.index.astype("string")
    return labels[~labels.index.duplicated()]
