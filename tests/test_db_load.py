"""The import on a real database (SQLite, and PostgreSQL when configured):
idempotence, overlapping extracts, strict mode, provenance, migrations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, select, text

from adapt.contract import StructuralError, read_extract
from adapt.db import InputRefused, connect, import_history, load_extract, quarantine_frame
from adapt.db.engine import current_revision, downgrade, head_revision, upgrade
from adapt.db.models import incidents, involvements
from tests.extracts import incident, involvement, simple_extract, write_extract

NOW = pd.Timestamp("2026-11-01").to_pydatetime()


def _load(url: str, folder: Path, **kw):
    engine = connect(url)
    return engine, load_extract(engine, read_extract(folder, now=NOW), **kw)


def _snapshot(engine) -> dict[str, pd.DataFrame]:
    """Every stored contract record and quarantine row, without surrogate ids."""
    out = {}
    with engine.connect() as conn:
        for table in ("incidents", "involvements", "quarantine"):
            frame = pd.read_sql(text(f"SELECT * FROM {table}"), conn)
            frame = frame.drop(columns=["id"]).sort_values(list(frame.columns[1:3]))
            out[table] = frame.reset_index(drop=True)
    return out


def test_load_counts_and_provenance(db_url: str, tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "a", range(1, 41))
    engine, result = _load(db_url, folder)
    counts = {c.file_name: c for c in result.files}
    assert counts["incidents.csv"].loaded == 40
    assert counts["involvements.csv"].loaded == 80
    assert all(c.updated == 0 and c.unchanged == 0 and c.quarantined == 0 for c in result.files)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                incidents.c.incident_id, incidents.c.source_file, incidents.c.source_row
            ).order_by(incidents.c.source_row)
        ).all()
    # Record n is on spreadsheet row n + 1: INC00001 on row 2.
    assert rows[0] == ("INC00001", "incidents.csv", 2)
    assert rows[-1] == ("INC00040", "incidents.csv", 41)
    history = import_history(engine)
    assert set(history["status"]) == {"applied"}
    assert history.loc[history.file_name == "incidents.csv", "records"].item() == 40


def test_reload_same_folder_changes_nothing(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 21)]
    incs.append(incident(21, occurred_at="31/02/2024"))  # quarantined each time
    invs = [involvement(n, "suspect", n % 5) for n in range(1, 22)]
    folder = write_extract(tmp_path / "a", incs, invs)
    engine, _ = _load(db_url, folder)
    before = _snapshot(engine)
    _, second = _load(db_url, folder)
    after = _snapshot(engine)
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table])
    by_file = {c.file_name: c for c in second.files}
    assert (by_file["incidents.csv"].loaded, by_file["incidents.csv"].updated) == (0, 0)
    assert by_file["incidents.csv"].unchanged == 20
    assert by_file["incidents.csv"].quarantined == 1
    assert second.new_quarantine_rows == 0
    assert len(import_history(engine)["import_id"].unique()) == 2


def test_newer_overlapping_extract_updates_and_loses_nothing(db_url: str, tmp_path: Path) -> None:
    old = simple_extract(tmp_path / "old", range(1, 31))
    engine, first = _load(db_url, old)
    # The newer extract overlaps 21..30, corrects the offence on 25 and adds 31..40.
    incs = [incident(n) for n in range(21, 41)]
    incs[4] = incident(25, offence="abh", is_crime="true")
    invs = [involvement(n, "suspect", n % 7) for n in range(21, 41)]
    invs += [involvement(n, "victim", 100 + n % 11) for n in range(21, 41)]
    # Re-ordered rows: seq is the order within an incident, not the file.
    invs.sort(key=lambda r: r["incident_id"])
    new = write_extract(tmp_path / "new", incs, invs)
    _, second = _load(db_url, new)
    by_file = {c.file_name: c for c in second.files}
    assert (by_file["incidents.csv"].loaded, by_file["incidents.csv"].updated) == (10, 1)
    assert by_file["incidents.csv"].unchanged == 9
    assert (by_file["involvements.csv"].loaded, by_file["involvements.csv"].updated) == (20, 0)
    with engine.connect() as conn:
        stored = pd.read_sql(select(incidents), conn).set_index("incident_id")
    assert len(stored) == 40  # 1..20 only in the old extract are kept
    assert stored.loc["INC00025", "offence"] == "abh"
    assert stored.loc["INC00025", "first_import_id"] == first.import_id
    assert stored.loc["INC00025", "import_id"] == second.import_id
    assert stored.loc["INC00025", "source_file"] == "incidents.csv"
    assert stored.loc["INC00025", "source_row"] == 6  # 5th record of the new file
    assert stored.loc["INC00003", "import_id"] == first.import_id


def test_strict_mode_refuses_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 6)] + [incident(6, offence="burglary")]
    invs = [involvement(n, "suspect", n) for n in range(1, 7)]
    folder = write_extract(tmp_path / "a", incs, invs)
    engine = connect(db_url)
    with pytest.raises(InputRefused) as err:
        load_extract(engine, read_extract(folder, now=NOW), strict=True)
    assert "incidents.csv row 7" in str(err.value)
    assert "offence" in str(err.value)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM imports")).scalar() == 0
    assert quarantine_frame(engine).empty


def test_bad_rows_are_quarantined_in_the_database(db_url: str, tmp_path: Path) -> None:
    incs = [incident(n) for n in range(1, 11)]
    incs[2] = incident(3, occurred_at="31/02/2024")
    incs.append(incident(5))  # duplicated incident_id on row 12
    invs = [involvement(n, "suspect", n) for n in range(1, 11)]
    invs.append(involvement(99, "victim", 3))  # incident INC00099 does not exist
    invs.append(involvement(4, "bystander", 8))
    folder = write_extract(tmp_path / "a", incs, invs)
    engine, result = _load(db_url, folder)
    q = quarantine_frame(engine)
    got = set(zip(q.source_file, q.source_row, q.column, strict=True))
    assert ("incidents.csv", 4, "occurred_at") in got
    assert ("incidents.csv", 12, "incident_id") in got
    assert ("involvements.csv", 12, "incident_id") in got
    assert ("involvements.csv", 13, "role") in got
    # The involvement of the quarantined incident 3 cannot load either.
    assert ("involvements.csv", 4, "incident_id") in got
    reason = q.loc[(q.source_file == "incidents.csv") & (q.source_row == 4), "reason"].item()
    assert "31/02/2024" in reason and "not a date" in reason
    by_file = {c.file_name: c for c in result.files}
    for name, records in (("incidents.csv", 11), ("involvements.csv", 12)):
        c = by_file[name]
        assert c.loaded + c.quarantined == records
    raw = q.loc[(q.source_file == "involvements.csv") & (q.source_row == 13), "raw"].item()
    assert "bystander" in raw


def test_structural_error_leaves_database_untouched(db_url: str, tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "a", range(1, 5))
    (folder / "involvements.csv").unlink()
    with pytest.raises(StructuralError) as err:
        read_extract(folder, now=NOW)
    assert "involvements.csv" in str(err.value)


def test_migrations_round_trip_with_data(db_url: str, tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "a", range(1, 11))
    engine, _ = _load(db_url, folder)
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    assert "incidents" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    _, result = _load(db_url, folder)
    assert {c.file_name: c.loaded for c in result.files}["incidents.csv"] == 10


def test_involvements_reference_stored_incidents(db_url: str, tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "a", range(1, 6))
    engine, _ = _load(db_url, folder)
    with engine.connect() as conn:
        orphans = conn.execute(
            select(involvements.c.id).where(
                ~involvements.c.incident_id.in_(select(incidents.c.incident_id))
            )
        ).all()
    assert orphans == []
