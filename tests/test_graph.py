"""The victim–perpetrator–address graph (adapt.graph): small hand-built histories
whose answers are worked out here, plus invariants on the demo force."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from adapt.core.history import History
from adapt.graph import (
    I2_COLUMNS,
    LINK_TYPES,
    RELATIONS,
    build_addresses,
    build_links,
    ego_frames,
    ego_network,
    i2_link_table,
    person_graph_stats,
    resolve_addresses,
)

# The `links` export's columns, in order, as the interface (version 1) fixes them.
INTERFACE_COLUMNS = [
    "source_id", "source_kind", "target_id", "target_kind", "relation", "incidents",
    "first_at", "last_at",
]  # fmt: skip
ADDRESS_ID = re.compile(r"^A[0-9a-f]{16}$")


def inc(incident_id: str, when: str, address: str | None = None, postcode: str | None = None):
    return {
        "incident_id": incident_id,
        "occurred_at": when,
        "offence": "common_assault",
        "is_crime": True,
        "address": address,
        "postcode": postcode,
    }


def inv(
    incident_id: str,
    role: str,
    person_id: str | None,
    home: str | None = None,
    home_postcode: str | None = None,
):
    return {
        "incident_id": incident_id,
        "role": role,
        "person_id": person_id,
        "relationship": "intimate_partner" if role in ("victim", "suspect") else None,
        "home_address": home,
        "home_postcode": home_postcode,
    }


def history(incidents: list[dict], involvements: list[dict]) -> History:
    return History.build(incidents=pd.DataFrame(incidents), involvements=pd.DataFrame(involvements))


def edge(links: pd.DataFrame, source: str, relation: str, target: str) -> pd.Series:
    row = links.loc[
        (links["source_id"] == source)
        & (links["relation"] == relation)
        & (links["target_id"] == target)
    ]
    assert len(row) == 1, f"expected one {source} -{relation}-> {target} edge, got {len(row)}"
    return row.iloc[0]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --------------------------------------------------------------------------- links


@pytest.fixture(scope="module")
def serial() -> History:
    """P1 abuses three partners in turn: V1 twice, V2 once, V3 three times.

    A witness sees the first incident; V1 is recorded twice on the second
    (a duplicate row), which must not count twice.
    """
    incidents = [
        inc("I1", "2024-01-05 22:10", "4 Elm Road", "LE2 1AA"),
        inc("I2", "2024-03-10 23:40", "4 Elm Road", "LE2 1AA"),
        inc("I3", "2024-06-01 01:15", "9 Ash Close", "LE3 4BB"),
        inc("I4", "2024-09-15 20:00", "31 Oak Way", "LE4 7CC"),
        inc("I5", "2024-10-01 19:30", "31 Oak Way", "LE4 7CC"),
        inc("I6", "2024-12-20 21:05", None, None),
    ]
    involvements = [
        inv("I1", "suspect", "P1"), inv("I1", "victim", "V1", "4 Elm Rd", "LE2 1AA"),
        inv("I1", "witness", "W1", "6 Elm Road", "LE2 1AA"),
        inv("I2", "suspect", "P1"), inv("I2", "victim", "V1", "4 Elm Road", "LE2 1AA"),
        inv("I2", "victim", "V1", "4 Elm Road", "LE2 1AA"),
        inv("I3", "suspect", "P1"), inv("I3", "victim", "V2", "9 Ash Close", "LE3 4BB"),
        inv("I4", "suspect", "P1"), inv("I4", "victim", "V3"),
        inv("I5", "suspect", "P1"), inv("I5", "victim", "V3"),
        inv("I6", "suspect", "P1"), inv("I6", "victim", "V3"),
    ]  # fmt: skip
    return history(incidents, involvements)


@pytest.fixture(scope="module")
def serial_links(serial: History) -> pd.DataFrame:
    return build_links(serial)


def test_links_columns_are_the_interface_columns_in_order(serial_links: pd.DataFrame) -> None:
    links = serial_links
    assert list(links.columns) == INTERFACE_COLUMNS
    assert links["incidents"].dtype == "int64"
    assert str(links["first_at"].dtype).startswith("datetime64")
    assert set(links["source_kind"]) == {"person"}
    assert set(links["target_kind"]) <= {"person", "address"}


def test_serial_perpetrator_has_one_edge_per_victim_with_counts_and_dates(
    serial_links: pd.DataFrame,
) -> None:
    links = serial_links
    against = links.loc[links["relation"] == "suspect_against"]
    assert list(zip(against["source_id"], against["target_id"], strict=True)) == [
        ("P1", "V1"),
        ("P1", "V2"),
        ("P1", "V3"),
    ]
    v1 = edge(links, "P1", "suspect_against", "V1")
    # I1 and I2; the duplicated V1 row on I2 is still one incident.
    assert v1["incidents"] == 2
    assert (v1["first_at"], v1["last_at"]) == (ts("2024-01-05 22:10"), ts("2024-03-10 23:40"))
    v2 = edge(links, "P1", "suspect_against", "V2")
    assert v2["incidents"] == 1
    assert v2["first_at"] == v2["last_at"] == ts("2024-06-01 01:15")
    v3 = edge(links, "P1", "suspect_against", "V3")
    assert v3["incidents"] == 3  # I6 has no address but is still an incident against V3
    assert (v3["first_at"], v3["last_at"]) == (ts("2024-09-15 20:00"), ts("2024-12-20 21:05"))


def test_incident_and_home_edges_for_victims_and_suspects_only(serial_links: pd.DataFrame) -> None:
    links = serial_links
    assert "W1" not in set(links["source_id"]) | set(links["target_id"])
    at = links.loc[links["relation"] == "incident_at"]
    # P1 was at Elm Road (I1, I2), Ash Close (I3) and Oak Way (I4, I5); I6 has no address.
    p1 = at.loc[at["source_id"] == "P1"]
    assert sorted(p1["incidents"]) == [1, 2, 2]
    assert p1["incidents"].sum() == 5
    # V1's home ("4 Elm Rd" / "4 Elm Road", LE2 1AA) is where both incidents happened.
    home = links.loc[(links["relation"] == "home_address") & (links["source_id"] == "V1")]
    assert len(home) == 1
    assert home["incidents"].iloc[0] == 2
    elm = edge(links, "V1", "incident_at", home["target_id"].iloc[0])
    assert elm["incidents"] == 2
    # Nobody recorded a home for P1 or V3.
    homes = set(links.loc[links["relation"] == "home_address", "source_id"])
    assert homes == {"V1", "V2"}


def test_rows_without_person_id_or_address_are_skipped() -> None:
    h = history(
        [inc("I1", "2024-02-01 10:00", None, "LE1 1AA"), inc("I2", "2024-02-02 10:00")],
        [
            inv("I1", "suspect", "P1", None, "LE1 1AA"),
            inv("I1", "victim", None, "5 Mill Lane", "LE1 1AA"),
            inv("I2", "suspect", "P2"),
            inv("I2", "victim", "V2"),
            inv("I9", "victim", "V9", "1 Nowhere Street", "LE9 9ZZ"),  # incident not in history
        ],
    )
    links = build_links(h)
    # A postcode alone is not an address; the unresolved victim is nobody.
    assert links[["source_id", "relation", "target_id"]].values.tolist() == [
        ["P2", "suspect_against", "V2"]
    ]


def test_a_person_is_never_their_own_victim() -> None:
    h = history(
        [inc("I1", "2024-05-01 12:00")],
        [inv("I1", "suspect", "P1"), inv("I1", "victim", "P1"), inv("I1", "victim", "V1")],
    )
    links = build_links(h)
    assert links[["source_id", "target_id"]].values.tolist() == [["P1", "V1"]]


def test_counter_allegation_gives_edges_both_ways() -> None:
    h = history(
        [
            inc("I1", "2024-01-10 21:00", "7 Rose Lane", "LE5 5DD"),
            inc("I2", "2024-02-14 22:00", "7 Rose Lane", "LE5 5DD"),
            inc("I3", "2024-04-02 23:00", "7 Rose Lane", "LE5 5DD"),
        ],
        [
            inv("I1", "suspect", "PA"), inv("I1", "victim", "PB"),
            inv("I2", "suspect", "PB"), inv("I2", "victim", "PA"),
            # I3: both arrested, each the other's victim (a dual allegation).
            inv("I3", "suspect", "PA"), inv("I3", "victim", "PA"),
            inv("I3", "suspect", "PB"), inv("I3", "victim", "PB"),
        ],
    )  # fmt: skip
    links = build_links(h)
    a_to_b = edge(links, "PA", "suspect_against", "PB")
    b_to_a = edge(links, "PB", "suspect_against", "PA")
    assert a_to_b["incidents"] == 2  # I1, I3
    assert (a_to_b["first_at"], a_to_b["last_at"]) == (
        ts("2024-01-10 21:00"),
        ts("2024-04-02 23:00"),
    )
    assert b_to_a["incidents"] == 2  # I2, I3
    assert (b_to_a["first_at"], b_to_a["last_at"]) == (
        ts("2024-02-14 22:00"),
        ts("2024-04-02 23:00"),
    )
    assert len(links.loc[links["relation"] == "suspect_against"]) == 2  # no self edges
    stats = person_graph_stats(links)
    assert stats.loc["PA", "victims"] == stats.loc["PA", "perpetrators"] == 1


def test_as_of_keeps_records_up_to_the_end_of_the_day() -> None:
    h = history(
        [
            inc("I1", "2024-01-05 09:00", "2 Bank Street", "LE6 6EE"),
            inc("I2", "2024-03-31 23:30", "2 Bank Street", "LE6 6EE"),
            inc("I3", "2024-04-01 00:10", "2 Bank Street", "LE6 6EE"),
            inc("I4", "2024-05-20 18:00", "80 Canal Street", "LE7 7FF"),
        ],
        [
            inv("I1", "suspect", "P1"), inv("I1", "victim", "V1"),
            inv("I2", "suspect", "P1"), inv("I2", "victim", "V1"),
            inv("I3", "suspect", "P1"), inv("I3", "victim", "V1"),
            inv("I4", "suspect", "P1"), inv("I4", "victim", "V2", "80 Canal St", "LE7 7FF"),
        ],
    )  # fmt: skip
    everything = build_links(h)
    assert edge(everything, "P1", "suspect_against", "V1")["incidents"] == 3
    assert len(everything.loc[everything["relation"] == "suspect_against"]) == 2

    cut = build_links(h, as_of="2024-03-31")
    v1 = edge(cut, "P1", "suspect_against", "V1")
    assert v1["incidents"] == 2  # I1 and I2 (23:30 on the day); I3 is after midnight
    assert v1["last_at"] == ts("2024-03-31 23:30")
    # Everything learned from I4 (V2, Canal Street, V2's home) is in the future.
    assert set(cut["target_id"]) & {"V2"} == set()
    assert len(cut) == 3  # P1 -> V1, and both of them at Bank Street
    assert (cut["last_at"] < ts("2024-04-01")).all()
    assert build_links(h, as_of="2023-12-31").empty


def test_address_variants_join_and_others_stay_apart() -> None:
    h = history(
        [
            inc("I1", "2024-01-01 20:00", "12 High St, Glenmoor", "LE1 2AB"),
            inc("I2", "2024-02-01 20:00", "12 high street", "le12ab"),
            inc("I3", "2024-03-01 20:00", "12 High St, LE1 2AB", None),  # postcode in the text
            inc("I4", "2024-04-01 20:00", "Flat 2, 12 High St", "LE1 2AB"),  # another home
            inc("I5", "2024-05-01 20:00", "12 High St", "LE2 9XY"),  # another town
        ],
        [
            inv("I1", "suspect", "P1"), inv("I1", "victim", "V1", "12 High St", "LE1 2AB"),
            inv("I2", "suspect", "P1"), inv("I2", "victim", "V1", "12 High St", "LE1 2AB"),
            inv("I3", "suspect", "P1"), inv("I3", "victim", "V1", "12 High St", "LE1 2AB"),
            inv("I4", "suspect", "P1"), inv("I4", "victim", "V2"),
            inv("I5", "suspect", "P1"), inv("I5", "victim", "V3"),
        ],
    )  # fmt: skip
    links = build_links(h)
    at = links.loc[(links["relation"] == "incident_at") & (links["source_id"] == "P1")]
    assert sorted(at["incidents"]) == [1, 1, 3]  # I1-I3 one place; the flat; the other town
    high_street = at.loc[at["incidents"] == 3, "target_id"].iloc[0]
    assert edge(links, "V1", "home_address", high_street)["incidents"] == 3
    assert all(
        ADDRESS_ID.match(a) for a in links.loc[links["target_kind"] == "address", "target_id"]
    )

    addresses = build_addresses(h)
    assert list(addresses.columns) == ["address_id", "label", "postcode"]
    assert set(addresses["address_id"]) == set(at["target_id"])
    label = addresses.set_index("address_id").loc[high_street]
    # "12 High St" is how it was written most often (three homes and I3's text).
    assert (label["label"], label["postcode"]) == ("12 High St, LE1 2AB", "LE1 2AB")


def test_address_ids_are_stable_and_hold_no_text() -> None:
    first = resolve_addresses(pd.Series(["12 High St, Glenmoor"]), pd.Series(["LE1 2AB"]))
    again = resolve_addresses(
        pd.Series(["Flat 1, 3 Low Road", "12 HIGH STREET"]), pd.Series([None, "le1 2ab"])
    )
    assert first["address_id"].iloc[0] == again["address_id"].iloc[1]
    assert ADDRESS_ID.match(first["address_id"].iloc[0])
    assert first.index.tolist() == [0]


def test_links_do_not_depend_on_row_order(serial: History, serial_links: pd.DataFrame) -> None:
    shuffled = History.build(
        incidents=serial.incidents.sample(frac=1, random_state=3),
        involvements=serial.involvements.sample(frac=1, random_state=4),
    )
    pd.testing.assert_frame_equal(build_links(shuffled), serial_links)
    pd.testing.assert_frame_equal(build_addresses(shuffled), build_addresses(serial))
    relation_order = serial_links["relation"].drop_duplicates().tolist()
    assert relation_order == list(RELATIONS)


def test_empty_history_gives_empty_frames() -> None:
    h = history([inc("I1", "2024-01-01 10:00")], [inv("I1", "witness", "W1")])
    links = build_links(h)
    assert links.empty and list(links.columns) == INTERFACE_COLUMNS
    assert person_graph_stats(links).empty
    assert i2_link_table(links).empty
    assert build_addresses(h).empty


# --------------------------------------------------------------------------- population


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """Three separate groups.

    a: P1 abuses V1 (I1 at V1's home X) and V2 (I2 at Y; I7, no address);
       P5, a lone suspect (I6), was also at X.
    b: P2 abuses V3 at Z, V3's home.
    c: P3 and P4 both abuse V4; no addresses recorded.
    """
    h = history(
        [
            inc("I1", "2024-01-01 20:00", "1 X Street", "LE1 1AA"),
            inc("I2", "2024-01-02 20:00", "2 Y Street", "LE1 1AB"),
            inc("I3", "2024-01-03 20:00", "3 Z Street", "LE1 1AD"),
            inc("I4", "2024-01-04 20:00"),
            inc("I5", "2024-01-05 20:00"),
            inc("I6", "2024-01-06 20:00", "1 X Street", "LE1 1AA"),
            inc("I7", "2024-01-07 20:00"),
        ],
        [
            inv("I1", "suspect", "P1"), inv("I1", "victim", "V1", "1 X Street", "LE1 1AA"),
            inv("I2", "suspect", "P1"), inv("I2", "victim", "V2"),
            inv("I7", "suspect", "P1"), inv("I7", "victim", "V2"),
            inv("I3", "suspect", "P2"), inv("I3", "victim", "V3", "3 Z Street", "LE1 1AD"),
            inv("I4", "suspect", "P3"), inv("I4", "victim", "V4"),
            inv("I5", "suspect", "P4"), inv("I5", "victim", "V4"),
            inv("I6", "suspect", "P5"),
        ],
    )  # fmt: skip
    return build_links(h)


def test_components_and_degrees(small: pd.DataFrame) -> None:
    stats = person_graph_stats(small)
    assert stats.index.name == "person_id"
    assert stats.index.tolist() == sorted(["P1", "P2", "P3", "P4", "P5", "V1", "V2", "V3", "V4"])
    # a: P1, P5, V1, V2 + X, Y = 6 nodes; b: P2, V3, Z = 3; c: P3, P4, V4 = 3.
    # b and c tie on size; b holds the smaller person id (P2 < P3), so b is 2.
    expected = {
        #      component, size, persons, victims, perpetrators, addresses
        "P1": (1, 6, 4, 2, 0, 2),
        "P5": (1, 6, 4, 0, 0, 1),
        "V1": (1, 6, 4, 0, 1, 1),  # X as incident place and home: one address
        "V2": (1, 6, 4, 0, 1, 1),
        "P2": (2, 3, 2, 1, 0, 1),
        "V3": (2, 3, 2, 0, 1, 1),
        "P3": (3, 3, 3, 1, 0, 0),
        "P4": (3, 3, 3, 1, 0, 0),
        "V4": (3, 3, 3, 0, 2, 0),
    }
    for person, values in expected.items():
        assert tuple(stats.loc[person]) == values, person
    assert (stats.dtypes == "int64").all()


def test_ego_network_depth_one_and_two(small: pd.DataFrame) -> None:
    one = ego_network(small, "P1", depth=1)
    assert isinstance(one, nx.MultiDiGraph)
    # P1, its victims V1 and V2, and the places X and Y.
    assert one.number_of_nodes() == 5
    kinds = nx.get_node_attributes(one, "kind")
    assert sorted(k for k in kinds.values()) == ["address", "address", "person", "person", "person"]
    # P1->V1, P1->V2, P1->X, P1->Y, V1->X (incident and home), V2->Y.
    assert one.number_of_edges() == 7
    assert one.graph["capped"] is False
    v2 = one.get_edge_data("P1", "V2")["suspect_against"]
    assert v2["incidents"] == 2
    assert (v2["first_at"], v2["last_at"]) == (ts("2024-01-02 20:00"), ts("2024-01-07 20:00"))
    x = next(n for n, d in one.nodes(data=True) if d["kind"] == "address" and one.has_edge("V1", n))
    assert set(one.get_edge_data("V1", x)) == {"incident_at", "home_address"}

    two = ego_network(small, "P1", depth=2)
    assert set(two.nodes) == set(one.nodes) | {"P5"}  # P5 was at X
    assert two.nodes["P5"]["distance"] == 2
    assert two.number_of_edges() == 8
    assert ego_network(small, "P1", depth=0).number_of_nodes() == 1
    # Nothing reaches group b or c.
    assert ego_network(small, "P1", depth=5).number_of_nodes() == 6


def test_ego_network_cap_keeps_the_nearest_and_strongest(small: pd.DataFrame) -> None:
    g = ego_network(small, "P1", depth=2, max_nodes=3)
    # Ring 1 is V2 (2 incidents), then V1, X, Y (1 each; persons first).
    assert set(g.nodes) == {"P1", "V2", "V1"}
    assert g.graph["capped"] is True
    assert g.graph["nodes_reached"] >= 5


def test_ego_network_labels_and_a_person_without_links(small: pd.DataFrame) -> None:
    h_addresses = pd.DataFrame(
        {"address_id": small.loc[small["relation"] == "home_address", "target_id"]}
    ).assign(label="home", postcode=None)
    labels = pd.DataFrame({"person_id": ["P1"], "label": ["Person one"]})
    g = ego_network(small, "V3", depth=1, addresses=h_addresses, person_labels=labels)
    assert {d["label"] for _, d in g.nodes(data=True)} == {"V3", "P2", "home"}
    g = ego_network(small, "P1", depth=1, person_labels=labels)
    assert g.nodes["P1"]["label"] == "Person one"
    lonely = ego_network(small, "P404")
    assert list(lonely.nodes(data="kind")) == [("P404", "person")]
    nodes, edges = ego_frames(lonely)
    assert (nodes["x"].iloc[0], nodes["y"].iloc[0]) == (0.0, 0.0) and edges.empty


def test_ego_frames_are_ready_to_draw_and_repeatable(small: pd.DataFrame) -> None:
    g = ego_network(small, "P1", depth=2)
    nodes, edges = ego_frames(g)
    assert nodes.columns.tolist() == ["node_id", "kind", "label", "distance", "degree", "x", "y"]
    assert edges.columns.tolist() == [
        "source_id", "target_id", "relation", "incidents", "first_at", "last_at",
        "x0", "y0", "x1", "y1",
    ]  # fmt: skip
    assert len(nodes) == 6 and len(edges) == 8
    centre = nodes.loc[nodes["node_id"] == "P1"].iloc[0]
    assert (centre["x"], centre["y"], centre["distance"]) == (0.0, 0.0, 0)
    assert centre["degree"] == 4
    pos = nodes.set_index("node_id")[["x", "y"]]
    assert (edges["x0"].to_numpy() == pos.loc[edges["source_id"], "x"].to_numpy()).all()
    assert (edges["y1"].to_numpy() == pos.loc[edges["target_id"], "y"].to_numpy()).all()
    again_nodes, again_edges = ego_frames(ego_network(small, "P1", depth=2))
    pd.testing.assert_frame_equal(nodes, again_nodes)
    pd.testing.assert_frame_equal(edges, again_edges)
    shell, _ = ego_frames(g, layout="shell")
    assert shell.loc[shell["node_id"] == "P1", ["x", "y"]].values.tolist() == [[0.0, 0.0]]
    with pytest.raises(ValueError):
        ego_frames(g, layout="circle")


# --------------------------------------------------------------------------- i2


def test_i2_link_table(small: pd.DataFrame) -> None:
    labels = pd.DataFrame({"person_id": ["P1", "V1"], "label": ["SMITH, John", "JONES, Ann"]})
    addresses = pd.DataFrame(
        {"address_id": sorted(set(small.loc[small["target_kind"] == "address", "target_id"]))}
    )
    addresses["label"] = [f"Address {i}" for i in range(len(addresses))]
    table = i2_link_table(small, labels, addresses)
    assert table.columns.tolist() == list(I2_COLUMNS) == [
        "end1_id", "end1_type", "end1_label", "end2_id", "end2_type", "end2_label",
        "link_id", "link_type", "link_label", "first_date", "last_date", "incidents",
    ]  # fmt: skip
    assert len(table) == len(small)
    assert table["link_id"].is_unique
    row = table.loc[(table["end1_id"] == "P1") & (table["end2_id"] == "V2")].iloc[0]
    assert row["end1_label"] == "SMITH, John" and row["end2_label"] == "V2"  # no label: the id
    assert (row["end1_type"], row["end2_type"]) == ("Person", "Person")
    assert (row["link_type"], row["link_label"], row["incidents"]) == (
        "Suspect against", "2 incidents", 2
    )  # fmt: skip
    assert (row["first_date"], row["last_date"]) == (ts("2024-01-02"), ts("2024-01-07"))
    home = table.loc[table["link_type"] == "Home address"]
    assert set(home["end2_type"]) == {"Address"}
    assert home["end2_label"].str.startswith("Address ").all()
    assert set(table.loc[table["incidents"] == 1, "link_label"]) == {"1 incident"}
    assert set(LINK_TYPES) == set(RELATIONS)


def test_i2_doc_names_every_column() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "i2-import.md").read_text()
    missing = [c for c in I2_COLUMNS if f"`{c}`" not in doc]
    assert not missing


# --------------------------------------------------------------------------- demo force


def test_demo_force_invariants(demo_history: History) -> None:
    links = build_links(demo_history)
    assert list(links.columns) == INTERFACE_COLUMNS
    assert len(links) > 1000
    against = links.loc[links["relation"] == "suspect_against"]
    assert len(against) > 500
    assert (against["source_kind"] == "person").all() and (against["target_kind"] == "person").all()
    assert (against["source_id"] != against["target_id"]).all()
    assert (links["incidents"] >= 1).all()
    assert (links["first_at"] <= links["last_at"]).all()
    assert not links.duplicated(["source_id", "relation", "target_id"]).any()
    places = links.loc[links["target_kind"] == "address", "target_id"]
    assert places.str.match(ADDRESS_ID.pattern).all()
    addresses = build_addresses(demo_history)
    assert set(places) <= set(addresses["address_id"])
    assert addresses["address_id"].is_unique and addresses["label"].notna().all()
    # Suspect edges agree with the history: each incident with a suspect and a
    # different victim (both resolved) is counted on at least one edge.
    inv = demo_history.involvements
    sus = inv.loc[inv["role"] == "suspect", ["incident_id", "person_id"]].dropna()
    vic = inv.loc[inv["role"] == "victim", ["incident_id", "person_id"]].dropna()
    pairs = sus.merge(vic, on="incident_id", suffixes=("_s", "_v"))
    pairs = pairs.loc[pairs["person_id_s"] != pairs["person_id_v"]].drop_duplicates()
    assert against["incidents"].sum() == len(pairs)

    stats = person_graph_stats(links)
    persons = set(links["source_id"]) | set(
        links.loc[links["target_kind"] == "person", "target_id"]
    )
    assert set(stats.index) == persons
    assert stats["victims"].sum() == len(against) == stats["perpetrators"].sum()
    assert (stats["component_size"] >= stats["component_persons"]).all()

    most = stats.sort_values(["victims", "component_size"], ascending=False).index[0]
    g = ego_network(links, most, depth=2, addresses=addresses)
    assert 1 < g.number_of_nodes() <= 300
    nodes, edges = ego_frames(g)
    assert len(nodes) == g.number_of_nodes() and len(edges) == g.number_of_edges()
    assert len(i2_link_table(links, None, addresses)) == len(links)

    cut = build_links(demo_history, as_of="2025-06-30")
    assert 0 < len(cut) < len(links)
    assert (cut["last_at"] < ts("2025-07-01")).all()
