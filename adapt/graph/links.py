"""The victim–perpetrator–address graph as an edge list (the ``links`` export).

One row per edge, aggregated over the incidents that support it:

``suspect_against``
    person → person: the source was recorded as a suspect and the target as a
    victim on the same incident. A person is never their own victim. A
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

import pandas as pd

from adapt.features import History, cutoff_of
from adapt.graph.addresses import address_table, resolve_addresses

LINK_COLUMNS: tuple[str, ...] = (
    "source_id", "source_kind", "target_id", "target_kind", "relation", "incidents",
    "first_at", "last_at",
)  # fmt: skip
RELATIONS: tuple[str, ...] = ("suspect_against", "incident_at", "home_address")
GRAPH_ROLES: tuple[str, ...] = ("victim", "suspect")
PERSON, ADDRESS = "person", "address"


def _incidents_until(history: History, as_of: object | None) -> pd.DataFrame:
    inc = history.incidents[["incident_id", "occurred_at", "address", "postcode"]]
    if as_of is not None:
        inc = inc.loc[inc["occurred_at"] < cutoff_of(as_of)]
    return inc.dropna(subset=["incident_id"]).drop_duplicates("incident_id")


def _people(history: History, inc: pd.DataFrame) -> pd.DataFrame:
    """Victim and suspect rows with a person id, dated by their incident."""
    inv = history.involvements
    inv = inv.loc[
        inv["role"].isin(GRAPH_ROLES).fillna(False) & inv["person_id"].notna(),
        ["incident_id", "role", "person_id", "home_address", "home_postcode"],
    ]
    return inv.merge(inc[["incident_id", "occurred_at"]], on="incident_id", how="inner")


def _aggregate(pairs: pd.DataFrame, relation: str, target_kind: str) -> pd.DataFrame:
    """Edges from (source_id, target_id, incident_id, occurred_at) rows."""
    pairs = pairs.drop_duplicates(["source_id", "target_id", "incident_id"])
    edges = (
        pairs.groupby(["source_id", "target_id"], observed=True, sort=False)
        .agg(
            incidents=("incident_id", "size"),
            first_at=("occurred_at", "min"),
            last_at=("occurred_at", "max"),
        )
        .reset_index()
    )
    edges["source_kind"] = PERSON
    edges["target_kind"] = target_kind
    edges["relation"] = relation
    return edges


def _suspect_against(people: pd.DataFrame) -> pd.DataFrame:
    cols = ["incident_id", "person_id", "occurred_at"]
    suspects = people.loc[people["role"] == "suspect", cols]
    victims = people.loc[people["role"] == "victim", ["incident_id", "person_id"]]
    pairs = suspects.merge(victims, on="incident_id", suffixes=("_s", "_v"))
    pairs = pairs.loc[pairs["person_id_s"] != pairs["person_id_v"]]
    pairs = pairs.rename(columns={"person_id_s": "source_id", "person_id_v": "target_id"})
    return _aggregate(pairs, "suspect_against", PERSON)


def _incident_at(people: pd.DataFrame, inc: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    located = inc[["incident_id"]].join(places["address_id"]).dropna(subset=["address_id"])
    pairs = people[["incident_id", "person_id", "occurred_at"]].merge(located, on="incident_id")
    pairs = pairs.rename(columns={"person_id": "source_id", "address_id": "target_id"})
    return _aggregate(pairs, "incident_at", ADDRESS)


def _home_address(people: pd.DataFrame, homes: pd.DataFrame) -> pd.DataFrame:
    pairs = people[["incident_id", "person_id", "occurred_at"]].join(homes["address_id"])
    pairs = pairs.dropna(subset=["address_id"])
    pairs = pairs.rename(columns={"person_id": "source_id", "address_id": "target_id"})
    return _aggregate(pairs, "home_address", ADDRESS)


def _resolved(
    history: History, as_of: object | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    inc = _incidents_until(history, as_of)
    people = _people(history, inc).reset_index(drop=True)
    places = resolve_addresses(inc["address"], inc["postcode"])
    homes = resolve_addresses(people["home_address"], people["home_postcode"])
    return inc, people, places, homes


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
    inc, people, places, homes = _resolved(history, as_of)
    parts = [
        _suspect_against(people),
        _incident_at(people, inc, places),
        _home_address(people, homes),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_links()
    links = pd.concat(parts, ignore_index=True)
    links["relation"] = pd.Categorical(links["relation"], categories=RELATIONS, ordered=True)
    links = links.sort_values(["relation", "source_id", "target_id"], kind="stable")
    links = links.reset_index(drop=True)[list(LINK_COLUMNS)]
    return links.astype(empty_links().dtypes.to_dict())


def build_addresses(history: History, as_of: object | None = None) -> pd.DataFrame:
    """Labels for the address ids of :func:`build_links` with the same arguments.

    One row per address id: ``address_id, label, postcode``. The label is the
    most often recorded spelling with its postcode (``12 High St, LE1 2AB``):
    for display only; it may change as records arrive, the id does not.
    """
    inc, people, places, homes = _resolved(history, as_of)
    located = places.loc[inc["incident_id"].isin(people["incident_id"])]
    return address_table(pd.concat([located, homes], ignore_index=True))
