"""The victim–perpetrator–address graph as an edge list (the ``links`` export).

One row per edge, aggregated over the incidents that support it:

``suspect_against``
    person → person: the source was recorded as a suspect and the target as a
    victim on the same incident (:func:`adapt.rules.pairs.incident_pairs`). A
    person is never their own victim. A
    counter-allegation (each recorded as the other's suspect) is two edges.
``incident_at``
    person → address: the person was a victim or suspect on an incident at
    that address.
``home_address``
    person → address: the home address recorded for the person on an
    incident where they were a victim or suspect.

Only victims and suspects are in the graph: witnesses and others are left
out, so that a neighbour who called the police does not join two households'
components. Rows without a person id, incidents without an address, and
involvements of incidents not in the history are skipped.

``incidents`` counts the distinct incidents behind an edge; ``first_at`` and
``last_at`` are the earliest and latest of their dates. With ``as_of``, only
incidents dated before the end of that day count (as everywhere in ADAPT).
Rows are ordered by relation (in the order above), then source, then target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapt.core.dates import cutoff_of
from adapt.core.history import History
from adapt.graph.addresses import address_table, resolve_addresses
from adapt.rules.pairs import incident_pairs

LINK_COLUMNS: tuple[str, ...] = (
    "source_id", "source_kind", "target_id", "target_kind", "relation", "incidents",
    "first_at", "last_at",
)  # fmt: skip
RELATIONS: tuple[str, ...] = ("suspect_against", "incident_at", "home_address")
GRAPH_ROLES: tuple[str, ...] = ("victim", "suspect")
PERSON, ADDRESS = "person", "address"


@dataclass(frozen=True)
class _Records:
    """The graph's raw material, with every id as an integer code.

    Person and address codes are given in sorted id order, so sorting by code
    sorts by id, and group-bys and joins run on integers, not text.
    """

    person_ids: pd.Index  # code -> person id
    address_ids: pd.Index  # code -> address id
    people: pd.DataFrame  # incident, person, role, at, home (address code or -1)
    places: np.ndarray  # incident code -> address code or -1
    place_rows: pd.DataFrame  # resolve_addresses output per incident (for labels)
    home_rows: pd.DataFrame  # resolve_addresses output per people row (for labels)


def _records(history: History, as_of: object | None) -> _Records:
    inc = history.incidents[["incident_id", "occurred_at", "address", "postcode"]]
    if as_of is not None:
        inc = inc.loc[inc["occurred_at"] < cutoff_of(as_of)]
    inc = inc.dropna(subset=["incident_id"]).drop_duplicates("incident_id")
    inc = inc.reset_index(drop=True)

    inv = history.involvements
    inv = inv.loc[
        inv["role"].isin(GRAPH_ROLES).fillna(False) & inv["person_id"].notna(),
        ["incident_id", "role", "person_id", "home_address", "home_postcode"],
    ]
    incident = pd.Index(inc["incident_id"]).get_indexer(inv["incident_id"])
    inv = inv.loc[incident >= 0].reset_index(drop=True)
    incident = incident[incident >= 0]
    person, person_ids = pd.factorize(inv["person_id"], sort=True)

    # Incident places and homes are mostly the same addresses: resolve them together.
    resolved = resolve_addresses(
        pd.concat([inc["address"], inv["home_address"]], ignore_index=True),
        pd.concat([inc["postcode"], inv["home_postcode"]], ignore_index=True),
    )
    place_rows, home_rows = resolved.iloc[: len(inc)], resolved.iloc[len(inc) :]
    address, address_ids = pd.factorize(resolved["address_id"], sort=True)  # missing -> -1

    people = pd.DataFrame(
        {
            "incident": incident,
            "person": person,
            "role": inv["role"].to_numpy(dtype=object),
            "at": inc["occurred_at"].to_numpy()[incident],
            "home": address[len(inc) :],
        }
    )
    return _Records(
        person_ids=pd.Index(person_ids, dtype="string"),
        address_ids=pd.Index(address_ids, dtype="string"),
        people=people,
        places=address[: len(inc)],
        place_rows=place_rows.loc[np.isin(np.arange(len(inc)), incident)],
        home_rows=home_rows,
    )


def _aggregate(pairs: pd.DataFrame, relation: str, target_kind: str) -> pd.DataFrame:
    """Edges from integer (source, target, incident, at) rows, sorted by source and target."""
    pairs = pairs.drop_duplicates(["source", "target", "incident"])
    edges = (
        pairs.groupby(["source", "target"], sort=True)
        .agg(incidents=("incident", "size"), first_at=("at", "min"), last_at=("at", "max"))
        .reset_index()
    )
    edges["target_kind"] = target_kind
    edges["relation"] = relation
    return edges


def _suspect_against(people: pd.DataFrame) -> pd.DataFrame:
    # The pairing rule works on the integer codes as well as on ids.
    coded = people.rename(columns={"incident": "incident_id", "person": "person_id"})
    pairs = incident_pairs(coded, ["at"]).rename(
        columns={"incident_id": "incident", "suspect_id": "source", "victim_id": "target"}
    )
    return _aggregate(pairs, "suspect_against", PERSON)


def _incident_at(people: pd.DataFrame, places: np.ndarray) -> pd.DataFrame:
    pairs = people[["incident", "person", "at"]].rename(columns={"person": "source"})
    pairs["target"] = places[pairs["incident"].to_numpy()]
    return _aggregate(pairs.loc[pairs["target"] >= 0], "incident_at", ADDRESS)


def _home_address(people: pd.DataFrame) -> pd.DataFrame:
    pairs = people[["incident", "person", "at", "home"]]
    pairs = pairs.rename(columns={"person": "source", "home": "target"})
    return _aggregate(pairs.loc[pairs["target"] >= 0], "home_address", ADDRESS)


def empty_links() -> pd.DataFrame:
    """A links frame with no rows and the interface's columns and dtypes."""
    return pd.DataFrame(
        {
            "source_id": pd.Series(dtype="string"),
            "source_kind": pd.Series(dtype="string"),
            "target_id": pd.Series(dtype="string"),
            "target_kind": pd.Series(dtype="string"),
            "relation": pd.Series(dtype="string"),
            "incidents": pd.Series(dtype="int64"),
            "first_at": pd.Series(dtype="datetime64[ns]"),
            "last_at": pd.Series(dtype="datetime64[ns]"),
        }
    )


def build_links(history: History, as_of: object | None = None) -> pd.DataFrame:
    """The graph's edges, one row per (source, relation, target).

    Parameters
    ----------
    history
        A resolved :class:`adapt.features.History`.
    as_of
        A date (anything :class:`pandas.Timestamp` accepts); only incidents
        up to the end of that day are used. ``None`` uses everything.

    Returns
    -------
    pandas.DataFrame
        Exactly the ``links`` interface columns :data:`LINK_COLUMNS`:
        ``source_id, source_kind, target_id, target_kind, relation, incidents,
        first_at, last_at`` (kinds ``person``/``address``; ids are person ids
        or ``A…`` address ids), ordered by relation, source and target.

    Examples
    --------
    >>> links = build_links(load_history(engine), as_of="2024-03-31")  # doctest: +SKIP
    >>> links.loc[links["relation"] == "suspect_against"].head()  # doctest: +SKIP
    """
    rec = _records(history, as_of)
    parts = [
        _suspect_against(rec.people),
        _incident_at(rec.people, rec.places),
        _home_address(rec.people),
    ]
    named = [_named(edges, rec) for edges in parts if len(edges)]
    if not named:
        return empty_links()
    links = pd.concat(named, ignore_index=True)[list(LINK_COLUMNS)]
    return links.astype(empty_links().dtypes.to_dict())


def _named(edges: pd.DataFrame, rec: _Records) -> pd.DataFrame:
    """Integer-coded edges of one relation with their ids put back."""
    kind = edges["target_kind"].iloc[0]
    targets = rec.person_ids if kind == PERSON else rec.address_ids
    return edges.assign(
        source_id=rec.person_ids.take(edges["source"].to_numpy()).array,
        source_kind=PERSON,
        target_id=targets.take(edges["target"].to_numpy()).array,
    )


def build_addresses(history: History, as_of: object | None = None) -> pd.DataFrame:
    """Labels for the address ids of :func:`build_links` with the same arguments.

    One row per address id: ``address_id, label, postcode``. The label is the
    most often recorded spelling with its postcode (``12 High St, LE1 2AB``):
    for display only; it may change as records arrive, the id does not.
    """
    rec = _records(history, as_of)
    return address_table(pd.concat([rec.place_rows, rec.home_rows], ignore_index=True))
