"""A newer extract changes who is on an incident: each stored person keeps
their record (and id), a removed person is marked withdrawn and never deleted,
and nothing is withdrawn on the strength of our own quarantine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import text

from adapt.contract import read_extract
from adapt.db import connect, load_extract
from tests.extracts import incident, involvement, write_extract

NOW = pd.Timestamp("2026-11-01").to_pydatetime()

JANE = involvement(1, "victim", 1, person_ref="R1", forename="Jane", surname="Hall")
BOB = involvement(1, "witness", 2, person_ref="", forename="Bob", surname="Reed")
JOHN = involvement(1, "suspect", 3, person_ref="R3", forename="John", surname="Hall")


def _load(url: str, folder: Path):  # type: ignore[no-untyped-def]
    result = load_extract(connect(url), read_extract(folder, now=NOW))
    return {c.file_name: c for c in result.files}["involvements.csv"]


def _stored(url: str) -> dict[str, tuple[int, str | None]]:
    with connect(url).connect() as conn:
        rows = conn.execute(
            text("SELECT forename, id, withdrawn_import_id FROM involvements")
        ).all()
    return {f: (i, w) for f, i, w in rows}


def test_removed_witness_is_withdrawn_and_the_rest_keep_their_records(
    db_url: str, tmp_path: Path
) -> None:
    incs = [incident(1), incident(2)]
    other = involvement(2, "suspect", 9)
    first = _load(db_url, write_extract(tmp_path / "a", incs, [JANE, BOB, JOHN, other]))
    assert first.loaded == 4
    before = _stored(db_url)

    # Bob is removed from incident 1; John moves up a place.
    second = _load(db_url, write_extract(tmp_path / "b", incs, [JANE, JOHN, other]))
    assert (second.loaded, second.updated, second.unchanged, second.withdrawn) == (0, 0, 3, 1)
    after = _stored(db_url)
    assert after["John"][0] == before["John"][0]  # same record, not overwritten
    assert after["Bob"][0] == before["Bob"][0] and after["Bob"][1] is not None
    assert after["Jane"][1] is None and after["John"][1] is None

    # The same people in another order: nothing changes.
    third = _load(db_url, write_extract(tmp_path / "c", incs, [other, JOHN, JANE]))
    assert (third.loaded, third.updated, third.withdrawn) == (0, 0, 0)
    assert third.unchanged == 3

    # Bob is put back: his own record is reinstated, not a new one.
    fourth = _load(db_url, write_extract(tmp_path / "d", incs, [JANE, BOB, JOHN, other]))
    assert (fourth.loaded, fourth.updated, fourth.withdrawn) == (0, 1, 0)
    assert _stored(db_url)["Bob"] == (before["Bob"][0], None)


def test_corrected_name_updates_the_same_record(db_url: str, tmp_path: Path) -> None:
    incs = [incident(1)]
    _load(db_url, write_extract(tmp_path / "a", incs, [JANE, BOB, JOHN]))
    before = _stored(db_url)
    fixed = dict(JOHN, forename="Jon", date_of_birth="1981-02-03")
    result = _load(db_url, write_extract(tmp_path / "b", incs, [JANE, BOB, fixed]))
    assert (result.loaded, result.updated, result.unchanged) == (0, 1, 2)
    assert _stored(db_url)["Jon"][0] == before["John"][0]


def test_nothing_is_withdrawn_when_an_incident_lost_a_row_to_quarantine(
    db_url: str, tmp_path: Path
) -> None:
    incs = [incident(1)]
    _load(db_url, write_extract(tmp_path / "a", incs, [JANE, BOB, JOHN]))
    # Bob's row is now bad (unknown role): his absence is our quarantine's
    # doing, not the force's removal, so his record stays active.
    bad_bob = dict(BOB, role="onlooker")
    result = _load(db_url, write_extract(tmp_path / "b", incs, [JANE, bad_bob, JOHN]))
    assert (result.withdrawn, result.quarantined) == (0, 1)
    assert _stored(db_url)["Bob"][1] is None
