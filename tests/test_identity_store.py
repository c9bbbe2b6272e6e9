"""Identity storage on a real database: the person rows of every file, analyst
decisions, and a stored run (assignments, persons, lineage, export)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from adapt.contract import read_extract
from adapt.db import connect, load_extract
from adapt.db import identity as store
from adapt.identity.ids import assign_ids
from tests.extracts import simple_extract

NOW = pd.Timestamp("2026-11-01").to_pydatetime()


@pytest.fixture
def loaded(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = simple_extract(tmp_path / "x", range(1, 11))
    (folder / "marac.csv").write_text(
        "referral_id,referral_date,victim_forename,victim_surname,perpetrator_person_ref\n"
        "M1,2024-05-01,Jo,Smith,P0003\n"
        "M2,2024-06-01,Alex,Patel,\n",
        encoding="utf-8",
    )
    (folder / "management.csv").write_text(
        "person_ref,surname,status,from_date\nP0003,Smith,iom,2024-01-01\n", encoding="utf-8"
    )
    engine = connect(db_url)
    load_extract(engine, read_extract(folder, now=NOW))
    return engine


def test_person_rows_cover_every_file(loaded) -> None:  # type: ignore[no-untyped-def]
    rows = store.person_rows(loaded)
    # 20 involvements, 2 MARAC victims, 1 MARAC perpetrator (M2 names none), 1 managed.
    assert rows["kind"].value_counts().to_dict() == {
        "involvement": 20,
        "marac_victim": 2,
        "marac_perpetrator": 1,
        "managed": 1,
    }
    assert rows["row_key"].is_unique
    inv = rows[rows.kind == "involvement"].sort_values("source_row")
    assert inv["source_row"].tolist() == list(range(2, 22))
    assert inv["incident_address"].notna().all()  # joined from the incident
    perp = rows[rows.kind == "marac_perpetrator"].iloc[0]
    assert perp["row_key"].endswith(":perpetrator") and perp["person_ref"] == "P0003"
    assert str(perp["occurred_at"].date()) == "2024-05-01"  # the referral date


def test_decisions_are_recorded_revoked_and_the_latest_wins(loaded) -> None:  # type: ignore[no-untyped-def]
    first = store.record_decision(loaded, "involvements:2", "involvements:1", "same", "ana", "x")
    store.record_decision(loaded, "involvements:1", "involvements:2", "not_same", "bo", "y")
    must, cannot = store.active_decisions(loaded)
    assert must.empty
    assert cannot.values.tolist() == [["involvements:1", "involvements:2"]]
    with pytest.raises(ValueError):
        store.record_decision(loaded, "a", "b", "same", "ana", "  ")
    store.revoke_decision(loaded, first, "ana", "entered in error")
    with pytest.raises(ValueError, match="already revoked"):
        store.revoke_decision(loaded, first, "ana", "again")


def test_stored_run_round_trips_and_exports(loaded) -> None:  # type: ignore[no-untyped-def]
    rows = store.person_rows(loaded)
    # Cluster by the source ref where there is one (a stand-in clustering).
    key = rows["person_ref"].fillna(rows["row_key"])
    clusters = pd.DataFrame({"row_key": rows["row_key"], "cluster": pd.factorize(key)[0]})
    first = assign_ids(clusters, store.assignments(loaded), store.next_person_number(loaded))
    run = store.RunRecord("full", "test", datetime.now(UTC).replace(tzinfo=None), len(rows))
    assigned = first.assignments.merge(rows[["row_key", "row_hash"]], on="row_key")
    store.store_run(loaded, run, assigned, first.lineage, pd.DataFrame(), pd.DataFrame())
    stored = store.assignments(loaded)
    assert len(stored) == len(rows)
    assert store.next_person_number(loaded) == clusters["cluster"].nunique() + 1

    # Merge two people in a second run: lineage and persons follow.
    a, b = stored.sort_values("person_id")["person_id"].unique()[:2]
    merged = clusters.copy()
    merged.loc[
        stored.set_index("row_key").loc[merged.row_key, "person_id"].values == b, "cluster"
    ] = merged.loc[
        stored.set_index("row_key").loc[merged.row_key, "person_id"].values == a, "cluster"
    ].iloc[0]
    second = assign_ids(merged, stored, store.next_person_number(loaded))
    assigned = second.assignments.merge(rows[["row_key", "row_hash"]], on="row_key")
    store.store_run(loaded, run, assigned, second.lineage, pd.DataFrame(), pd.DataFrame())
    assert second.lineage[["event", "person_id", "other_person_id"]].values.tolist() == [
        ["merged", b, a]
    ]
    export = store.persons_export_frame(loaded)
    assert list(export.columns) == ["source_file", "source_row", "incident_id", "role", "person_id"]
    assert export["person_id"].notna().all()
    assert b not in set(export["person_id"])
    marac = export[export.source_file == "marac.csv"]
    assert marac["role"].tolist() == ["marac_victim", "marac_perpetrator", "marac_victim"]
    assert marac["incident_id"].isna().all()
