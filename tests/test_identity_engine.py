"""Identity engine: resolve() on realistic rows, pure (no database).

A small generated extract gives EM enough rows to train and gives every
hand-written case a realistic crowd around it.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapt.contract import read_extract
from adapt.identity import (
    IdentityModel,
    explain,
    person_rows_from_extract,
    prepare_rows,
    resolve,
    resolve_incremental,
    review_queue,
)
from adapt.identity.normalise import INPUT_COLUMNS, normalise_postcode
from adapt.synthetic import GeneratorConfig, generate


def person(key: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {c: None for c in INPUT_COLUMNS}
    row.update(
        row_key=key,
        source_file="involvements.csv",
        # crc32, not hash(): hash() of a str is salted per process, so test
        # rows would differ from one run to the next.
        source_row=zlib.crc32(key.encode()) % 10**6,
        kind="involvement",
        role="suspect",
        occurred_at=pd.Timestamp("2024-03-01 21:00"),
    )
    row.update(kw)
    if row["incident_id"] is None:
        row["incident_id"] = "T-" + key
    return row


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(INPUT_COLUMNS))
    df["date_of_birth"] = pd.to_datetime(df["date_of_birth"])
    df["occurred_at"] = pd.to_datetime(df["occurred_at"])
    df["source_row"] = df["source_row"].astype("int64")
    for c in INPUT_COLUMNS:
        if c not in ("date_of_birth", "occurred_at", "source_row"):
            df[c] = df[c].astype("string")
    return df


HAND = [
    # Nickname: Robert / Bob, same DOB and address.
    person(
        "nick:1",
        forename="Robert",
        surname="Quennell",
        date_of_birth="1984-06-02",
        home_address="14 Larkspur Road",
        home_postcode="LE3 9QZ",
        gender="M",
    ),
    person(
        "nick:2",
        forename="BOB",
        surname="Quennell",
        date_of_birth="1984-06-02",
        home_address="14 Larkspur Rd",
        home_postcode="le39qz",
        gender="M",
    ),
    # Initial only.
    person(
        "init:1",
        forename="Jonah",
        surname="Threlkeld",
        date_of_birth="1979-11-23",
        home_address="3 Quarry Lane",
        home_postcode="LE5 1XJ",
    ),
    person("init:2", forename="J", surname="Threlkeld", date_of_birth="1979-11-23"),
    # Typos in both names.
    person(
        "typo:1",
        forename="Katherine",
        surname="Macpherson",
        date_of_birth="1990-02-14",
        home_address="88 Ostler Way",
        home_postcode="LE9 4TT",
        role="victim",
    ),
    person(
        "typo:2",
        forename="Katherin",
        surname="Macphersen",
        date_of_birth="1990-02-14",
        home_address="88 Ostler Way",
        home_postcode="LE9 4TT",
        role="victim",
    ),
    # Swapped day/month.
    person(
        "swap:1",
        forename="Dariusz",
        surname="Wojcikowski",
        date_of_birth="1988-04-09",
        home_postcode="LE2 7HH",
    ),
    person(
        "swap:2",
        forename="Dariusz",
        surname="Wojcikowski",
        date_of_birth="1988-09-04",
        home_postcode="LE2 7HH",
    ),
    # Surname change: forename and DOB agree, surname differs, later incident.
    person(
        "marr:1",
        forename="Philippa",
        surname="Ormerod",
        date_of_birth="1993-08-17",
        home_address="5 Saddler Close",
        home_postcode="LE4 2PW",
        role="victim",
        gender="F",
        person_ref="NM7700001",
    ),
    person(
        "marr:2",
        forename="Philippa",
        surname="Yardley",
        date_of_birth="1993-08-17",
        home_address="5 Saddler Close",
        home_postcode="LE4 2PW",
        role="victim",
        gender="F",
        occurred_at=pd.Timestamp("2025-05-01"),
        person_ref="NM7700001",
    ),
    # Shared ref, two different people.
    person(
        "shared:1",
        forename="Clement",
        surname="Abernethy",
        date_of_birth="1961-03-30",
        person_ref="NM8800001",
        home_postcode="LE7 3AA",
    ),
    person(
        "shared:2",
        forename="Imogen",
        surname="Fairbairn",
        date_of_birth="2001-12-05",
        person_ref="NM8800001",
        home_postcode="LE16 8BD",
        gender="F",
    ),
    # Split ref: same person under two refs.
    person(
        "split:1",
        forename="Rupert",
        surname="Gallimore",
        date_of_birth="1975-07-19",
        person_ref="NM9900001",
        home_address="27 Tanners Row",
        home_postcode="LE8 5NN",
    ),
    person(
        "split:2",
        forename="Rupert",
        surname="Gallimore",
        date_of_birth="1975-07-19",
        person_ref="NM9900002",
        home_address="27 Tanners Row",
        home_postcode="LE8 5NN",
    ),
    # Father and son: same forename, surname, address; DOBs 25 years apart; same ref.
    person(
        "fam:1",
        forename="Desmond",
        surname="Pettigrew",
        date_of_birth="1960-01-20",
        person_ref="NM6600001",
        home_address="9 Wharf Street",
        home_postcode="LE1 6RR",
        gender="M",
    ),
    person(
        "fam:2",
        forename="Desmond",
        surname="Pettigrew",
        date_of_birth="1985-05-11",
        person_ref="NM6600001",
        home_address="9 Wharf Street",
        home_postcode="LE1 6RR",
        gender="M",
    ),
    # Victim and suspect on one incident: same surname and address, no DOBs.
    person(
        "inc:v",
        forename="Sam",
        surname="Ashdown",
        home_address="40 Cobden Street",
        home_postcode="LE1 2AB",
        incident_id="INC-ONE",
        role="victim",
    ),
    person(
        "inc:s",
        forename="Sam",
        surname="Ashdown",
        home_address="40 Cobden Street",
        home_postcode="LE1 2AB",
        incident_id="INC-ONE",
        role="suspect",
    ),
    # Override pair: strong match an analyst says is two people, weak pair said same.
    person(
        "ovr:1",
        forename="Horatio",
        surname="Blenkinsop",
        date_of_birth="1970-10-10",
        home_postcode="LE6 0PQ",
    ),
    person(
        "ovr:2",
        forename="Horatio",
        surname="Blenkinsop",
        date_of_birth="1970-10-10",
        home_postcode="LE6 0PQ",
    ),
    person("ovr:3", forename="Ignatius", surname="Fothergill", date_of_birth="1955-01-05"),
    person("ovr:4", forename="Zebedee", surname="Crump", date_of_birth="1999-09-09"),
]


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("extract")
    generate(out, GeneratorConfig(seed=11, incidents=3000, noise=1.0))
    return person_rows_from_extract(read_extract(out))


@pytest.fixture(scope="module")
def model(crowd: pd.DataFrame) -> IdentityModel:
    shipped = Path(__file__).resolve().parents[1] / "models" / "identity-splink.json"
    if shipped.exists():
        return IdentityModel.load(shipped)
    return IdentityModel(seed=5).fit(prepare_rows(crowd))


@pytest.fixture(scope="module")
def rows(crowd: pd.DataFrame) -> pd.DataFrame:
    return prepare_rows(pd.concat([crowd, frame(HAND)], ignore_index=True))


@pytest.fixture(scope="module")
def overrides() -> tuple[pd.DataFrame, pd.DataFrame]:
    must = pd.DataFrame({"row_key_l": ["ovr:3"], "row_key_r": ["ovr:4"]})
    cannot = pd.DataFrame({"row_key_l": ["ovr:2"], "row_key_r": ["ovr:1"]})
    return must, cannot


@pytest.fixture(scope="module")
def res(rows: pd.DataFrame, model: IdentityModel, overrides):
    must, cannot = overrides
    return resolve(rows, model, must_link=must, cannot_link=cannot)


def same(res, a: str, b: str) -> bool:
    c = res.clusters.set_index("row_key")["cluster"]
    return bool(c[a] == c[b])


def test_every_row_exactly_once(res, rows: pd.DataFrame) -> None:
    assert len(res.clusters) == len(rows)
    assert res.clusters["row_key"].is_unique
    assert set(res.clusters["row_key"]) == set(rows["row_key"])
    assert res.clusters["cluster"].dtype == np.int64


@pytest.mark.parametrize(
    "a,b",
    [
        ("nick:1", "nick:2"),
        ("init:1", "init:2"),
        ("typo:1", "typo:2"),
        ("swap:1", "swap:2"),
        ("marr:1", "marr:2"),
        ("split:1", "split:2"),
    ],
    ids=["nickname", "initial", "typos", "dob-swap", "surname-change", "split-ref"],
)
def test_same_person_joined(res, a: str, b: str) -> None:
    assert same(res, a, b)


def test_shared_ref_does_not_merge(res) -> None:
    assert not same(res, "shared:1", "shared:2")


def test_father_and_son_kept_apart_where_naive_rules_merge(res, rows: pd.DataFrame) -> None:
    fam = rows[rows["row_key"].str.startswith("fam:")]
    assert fam["ref"].nunique() == 1  # the ref rule would merge them
    assert fam["fn"].nunique() == 1 and fam["sn"].nunique() == 1 and fam["addr_key"].nunique() == 1
    assert not same(res, "fam:1", "fam:2")
    link = res.links[(res.links["row_key_l"] == "fam:1") & (res.links["row_key_r"] == "fam:2")]
    assert (link["decision"] == "guard: different generations in one household").all()


def test_victim_and_suspect_on_one_incident_never_merge(res) -> None:
    assert not same(res, "inc:v", "inc:s")


def test_overrides_respected(res) -> None:
    assert not same(res, "ovr:1", "ovr:2")
    assert same(res, "ovr:3", "ovr:4")
    d = res.links.set_index(["row_key_l", "row_key_r"])["decision"]
    assert d[("ovr:1", "ovr:2")] == "analyst: not same"
    assert d[("ovr:3", "ovr:4")] == "analyst: same"


def test_explanation_sums_to_final_weight(res) -> None:
    ex = explain(res.links, ["nick:1", "nick:2"])
    assert {"prior", "forename", "surname", "dob", "context"} <= set(ex["comparison"])
    assert ex.loc[ex["comparison"] == "forename", "level"].iloc[0] == "nickname"
    total = ex.groupby(["row_key_l", "row_key_r"])["weight"].sum()
    link = res.links.set_index(["row_key_l", "row_key_r"])["final_weight"]
    for k, v in total.items():
        assert v == pytest.approx(link[k], abs=1e-6)


def test_links_are_bounded_and_labelled(res) -> None:
    links = res.links
    assert (
        (links["match_probability"] >= 0.05)
        | links["accepted"]
        | links["decision"].str.startswith("analyst")
    ).all()
    assert {"mw_forename", "lbl_forename", "mw_dob", "lbl_dob"} <= set(links.columns)


def test_review_queue_flags_wide_dob_cluster(rows: pd.DataFrame, model: IdentityModel) -> None:
    must = pd.DataFrame({"row_key_l": ["fam:1"], "row_key_r": ["fam:2"]})
    res = resolve(rows, model, must_link=must)
    q = review_queue(res, rows)
    c = res.clusters.set_index("row_key")["cluster"]["fam:1"]
    flagged = q[(q["item"] == "cluster") & (q["cluster"] == c)]
    assert "dates of birth 10 or more years apart" in set(flagged["reason"])
    assert q["priority"].is_monotonic_decreasing


def test_incremental_joins_new_rows(res, rows: pd.DataFrame, model: IdentityModel) -> None:
    new = prepare_rows(
        frame(
            [
                person(
                    "new:1",
                    forename="Robbie",
                    surname="Quennell",
                    date_of_birth="1984-06-02",
                    home_postcode="LE3 9QZ",
                ),
                person(
                    "new:2", forename="Wilhelmina", surname="Stroud", date_of_birth="1966-04-04"
                ),
            ]
        )
    )
    inc = resolve_incremental(rows, res.clusters, new, model)
    c = inc.clusters.set_index("row_key")["cluster"]
    old = res.clusters.set_index("row_key")["cluster"]
    assert c["new:1"] == old["nick:1"] and c["nick:2"] == old["nick:1"]
    assert c["new:2"] > old.max()


def test_postcode_and_model_round_trip(model: IdentityModel, tmp_path: Path) -> None:
    got = normalise_postcode(pd.Series(["le1 2ab", "LE12AB", " le1  2ab", None, "x"]))
    assert got.tolist()[:3] == ["LE1 2AB"] * 3
    path = tmp_path / "m.json"
    model.save(path)
    again = IdentityModel.load(path)
    assert again.settings_json_ == model.settings_json_
    assert again.get_params() == model.get_params()


def _partition(clusters: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g) for g in clusters.groupby("cluster")["row_key"].agg(list)}


def test_two_resolves_are_identical(rows: pd.DataFrame, model: IdentityModel) -> None:
    a = resolve(rows, model)
    b = resolve(rows, model)
    assert _partition(a.clusters) == _partition(b.clusters)
    pd.testing.assert_frame_equal(a.links, b.links)
    # row order must not matter either (as a partition)
    shuffled = rows.sample(frac=1.0, random_state=3).reset_index(drop=True)
    c = resolve(shuffled, model)
    assert _partition(a.clusters) == _partition(c.clusters)


def test_review_queue_lists_only_what_a_decision_changes(res, rows: pd.DataFrame) -> None:
    q = review_queue(res, rows)
    assert len(q) <= 500
    assert q["priority"].is_monotonic_decreasing
    cl = res.clusters.set_index("row_key")["cluster"]
    links = q[q["item"] == "link"]
    missed = links[links["reason"].str.startswith("possible missed merge")]
    false = links[links["reason"].str.startswith("possible false merge")]
    assert (cl[missed["row_key_l"]].to_numpy() != cl[missed["row_key_r"]].to_numpy()).all()
    assert (cl[false["row_key_l"]].to_numpy() == cl[false["row_key_r"]].to_numpy()).all()
    # one item per pair of clusters
    pair = pd.DataFrame(
        {"a": cl[missed["row_key_l"]].to_numpy(), "b": cl[missed["row_key_r"]].to_numpy()}
    )
    lo, hi = pair.min(axis=1), pair.max(axis=1)
    assert not pd.DataFrame({"lo": lo, "hi": hi}).duplicated().any()
    # far shorter than the undecided in-band links it used to list
    p = res.links["match_probability"]
    in_band = ((p >= 0.3) & (p <= 0.95)).sum()
    assert len(links) <= in_band
    assert len(review_queue(res, rows, limit=3)) <= 3
