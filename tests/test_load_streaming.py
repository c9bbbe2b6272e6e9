"""`adapt load` in bounded memory: the big files are read a piece at a time and
checked and stored partition by partition. With tiny pieces and partitions
forced, the rows, the quarantine and what is stored are exactly those of one
big chunk, and the rules that span the whole file still hold across pieces."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from adapt.contract import StructuralError, read_extract, reader
from adapt.db import InputRefused, connect, load_extract, quarantine_frame
from adapt.synthetic import GeneratorConfig, generate

NOW = datetime(2026, 11, 22)
FILES = ("incidents.csv", "involvements.csv", "marac.csv", "management.csv")
INC_HEADER = (
    "incident_id,occurred_at,offence,is_crime,address,postcode,dash_risk,injury,"
    "weapon,children_present,outcome,area"
)
INV_HEADER = (
    "incident_id,role,person_ref,forename,surname,date_of_birth,gender,"
    "home_address,home_postcode,relationship"
)


def _small(monkeypatch: pytest.MonkeyPatch, chunk: int, partition: int) -> None:
    monkeypatch.setattr(reader, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(reader, "PARTITION_BYTES", partition)


def _same_extract(a, b) -> None:  # type: ignore[no-untyped-def]
    assert set(a.files) == set(b.files)
    for name in a.files:
        fa, fb = a.files[name], b.files[name]
        pd.testing.assert_frame_equal(fa.rows, fb.rows)
        assert (fa.records, fa.sha256, fa.incomplete_incidents, fa.ignored_columns) == (
            fb.records,
            fb.sha256,
            fb.incomplete_incidents,
            fb.ignored_columns,
        )
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine)
    assert a.notices == b.notices


def _incident(i: str, when: str = "2024-03-01", address: str = "") -> str:
    address = address or f"{i} Long Road Some Town with padding to make the row longer"
    return f"{i},{when},harassment,true,{address},LS1 1AA,standard,none,false,false,nfa,North"


def _involvement(i: str, ref: str, role: str = "victim") -> str:
    return f"{i},{role},{ref},Anna,Smith,1980-01-02,F,1 High St with padding,LS1 1AA,"


def _crafted(folder: Path, eol: str = "\n", drop: str | None = None) -> Path:
    """60 incidents (I1 again at the end: a duplicate far from the first), each
    with two involvements, some quoted over several lines, a short row, an
    orphan, and the second involvement of I1 at the very end of the file."""
    folder.mkdir(parents=True, exist_ok=True)
    inc = [_incident("I1")]
    for n in range(2, 60):
        if n % 7 == 0:
            inc.append(_incident(f"I{n}", address=f'"Flat {n}{eol}Tower Block, ""North"""'))
        elif n == 33:
            inc.append(_incident(f"I{n}", when="31/02/2024"))
        else:
            inc.append(_incident(f"I{n}"))
    inc.append("I44,2024-03-01,harassment")  # too few fields
    inc.append(_incident("I1", when="2024-05-01"))  # row 62: duplicate of row 2
    inv = []
    for n in range(2, 60):
        inv.append(_involvement(f"I{n}", f"P{n}"))
        inv.append(_involvement(f"I{n}", f"Q{n}", role="suspect"))
    inv.append(_involvement("NOPE", "P0"))  # orphan
    inv.append(_involvement("I33", "P33b"))  # incident quarantined
    inv.append(_involvement("I1", "P1"))  # incident far away: not an orphan
    inv.append(_involvement("I1", "Q1", role="suspect"))
    if drop is not None:
        inv = [r for r in inv if f",{drop}," not in r]
    (folder / "incidents.csv").write_text(eol.join([INC_HEADER, *inc]) + eol, newline="")
    (folder / "involvements.csv").write_text(eol.join([INV_HEADER, *inv]) + eol, newline="")
    return folder


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    generate(root / "extract", GeneratorConfig(seed=11, incidents=20_000, bad_row_rate=0.01))
    return root / "extract"


def test_generated_extract_in_partitions_is_one_big_chunk(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = read_extract(generated, now=NOW)
    assert whole.files["incidents.csv"].batch_count == 1
    assert len(whole.quarantine) >= 100
    _small(monkeypatch, chunk=64 << 10, partition=512 << 10)
    parts = read_extract(generated, now=NOW)
    assert parts.files["incidents.csv"].batch_count >= 8
    _same_extract(whole, parts)
    kinds = set(parts.quarantine["reason"].str.extract(r"(already appears|is not in)")[0].dropna())
    assert kinds == {"already appears", "is not in"}


def _stored(engine) -> dict[str, set[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            "incidents.csv": set(
                conn.execute(text("SELECT incident_id, row_hash, source_row FROM incidents"))
            ),
            "involvements.csv": set(
                conn.execute(
                    text("SELECT incident_id, seq, row_hash, source_row FROM involvements")
                )
            ),
            "marac.csv": set(
                conn.execute(text("SELECT referral_id, row_hash, source_row FROM marac_referrals"))
            ),
            "management.csv": set(
                conn.execute(text("SELECT record_key, row_hash, source_row FROM management"))
            ),
        }


def _problems(frame: pd.DataFrame, column: str) -> set[tuple[object, ...]]:
    return set(
        zip(
            frame["source_file"],
            frame["source_row"].astype(int),
            frame[column].fillna(""),
            frame["reason"],
            frame["raw"],
            strict=True,
        )
    )


def test_generated_extract_stored_in_partitions(
    db_url: str, generated: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    whole = read_extract(generated, now=NOW)
    one_chunk = connect(f"sqlite:///{tmp_path / 'whole.sqlite'}")
    load_extract(one_chunk, whole)
    _small(monkeypatch, chunk=64 << 10, partition=512 << 10)
    engine = connect(db_url)
    first = load_extract(engine, read_extract(generated, now=NOW))
    assert _stored(engine) == _stored(one_chunk)
    one_chunk.dispose()
    assert _problems(quarantine_frame(engine), "column") == _problems(whole.quarantine, "column")
    files = {c.file_name: c for c in first.files}
    for name in FILES:
        assert files[name].loaded == len(whole.files[name].rows)
        assert files[name].records == whole.files[name].records
    # Loading the same folder again changes nothing.
    again = load_extract(engine, read_extract(generated, now=NOW))
    assert again.new_quarantine_rows == 0
    for c in again.files:
        assert (c.loaded, c.updated, c.withdrawn) == (0, 0, 0)
        assert c.unchanged == files[c.file_name].loaded
    engine.dispose()


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("chunk", [64, 333, 1024])
def test_crafted_extract_in_small_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, eol: str, chunk: int
) -> None:
    folder = _crafted(tmp_path / "x", eol=eol)
    whole = read_extract(folder, now=NOW)
    _small(monkeypatch, chunk=chunk, partition=2048)
    parts = read_extract(folder, now=NOW)
    assert parts.files["involvements.csv"].batch_count > 2
    _same_extract(whole, parts)


def test_rules_across_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _crafted(tmp_path / "x")
    _small(monkeypatch, chunk=256, partition=1024)
    assert (folder / "incidents.csv").stat().st_size > 20 * 256
    ex = read_extract(folder, now=NOW)
    q = ex.quarantine
    by_row = {
        (f, r): reason for f, r, reason in zip(q.source_file, q.source_row, q.reason, strict=True)
    }
    # A duplicate incident_id 60 rows (many pieces) apart, named with both rows.
    assert by_row["incidents.csv", 62] == "incident_id 'I1' already appears at row 2"
    assert by_row["incidents.csv", 34] == "occurred_at '31/02/2024' is not a date"
    assert by_row["incidents.csv", 61].startswith("has 3 fields")
    inv_rows = (
        len(ex.files["involvements.csv"].rows)
        + q[q.source_file == "involvements.csv"].source_row.nunique()
    )
    assert inv_rows == ex.files["involvements.csv"].records == 120
    assert by_row["involvements.csv", 118] == "incident 'NOPE' is not in incidents.csv"
    assert by_row["involvements.csv", 119] == (
        "incident 'I33' was quarantined (incidents.csv row 34), so this involvement cannot load"
    )
    # I1's involvements are at the end of the file, its incident at the start:
    # not orphans, numbered 1 and 2 among I1's rows.
    inv = ex.files["involvements.csv"].rows
    i1 = inv[inv.incident_id == "I1"]
    assert i1.source_row.tolist() == [120, 121] and i1.seq.tolist() == [1, 2]
    assert ("involvements.csv", 120) not in by_row
    assert ex.files["involvements.csv"].incomplete_incidents == {"NOPE", "I33"}
    # Raw text as it was, over several lines.
    assert by_row.get(("incidents.csv", 8)) is None
    raw = q.loc[(q.source_file == "incidents.csv") & (q.source_row == 62), "raw"].item()
    assert raw == _incident("I1", when="2024-05-01")


def test_reload_marks_a_removed_involvement_withdrawn(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small(monkeypatch, chunk=256, partition=1024)
    engine = connect(db_url)
    first = load_extract(engine, read_extract(_crafted(tmp_path / "a"), now=NOW))
    assert {c.file_name: c.loaded for c in first.files} == {
        "incidents.csv": 58,
        "involvements.csv": 116,
    }
    second = load_extract(engine, read_extract(_crafted(tmp_path / "b", drop="Q17"), now=NOW))
    inv = next(c for c in second.files if c.file_name == "involvements.csv")
    assert (inv.loaded, inv.updated, inv.unchanged, inv.withdrawn) == (0, 0, 115, 1)
    with engine.connect() as conn:
        gone = conn.execute(
            text(
                "SELECT incident_id, person_ref, withdrawn_import_id FROM involvements "
                "WHERE withdrawn_import_id IS NOT NULL"
            )
        ).all()
    assert [tuple(r) for r in gone] == [("I17", "Q17", second.import_id)]
    engine.dispose()


def test_strict_mode_writes_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small(monkeypatch, chunk=256, partition=1024)
    engine = connect(db_url)
    with pytest.raises(InputRefused, match=r"incidents.csv row 34, column 'occurred_at'"):
        load_extract(engine, read_extract(_crafted(tmp_path / "a"), now=NOW), strict=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM imports")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0
    engine.dispose()


def test_temporary_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    # The folder of a read whose process was killed is removed by the next read.
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = spill / "adapt-extract-killed"
    stale.mkdir()
    (stale / "pid").write_text(str(gone.pid))
    (stale / "00001-incidents.csv-raw-0.arrow").write_bytes(b"x")
    _small(monkeypatch, chunk=256, partition=1024)
    folder = _crafted(tmp_path / "x")
    ex = read_extract(folder, now=NOW)
    # Nothing is left on disk by name once the extract is read: its batches are
    # in an unlinked file that lives as long as the extract.
    assert list(spill.iterdir()) == []
    assert len(ex.files["incidents.csv"].rows) == 58
    assert sum(len(b) for b in ex.files["involvements.csv"].batches()) == 116
    # A structural problem found late in a big file: nothing is left behind,
    # and the row is numbered as in the whole file.
    data = (folder / "involvements.csv").read_bytes()
    at = data.index(b"I50,")
    (folder / "involvements.csv").write_bytes(data[:at] + b"I50\xe9" + data[at + 3 :])
    with pytest.raises(StructuralError) as err:
        read_extract(folder, now=NOW)
    assert err.value.file == "involvements.csv"
    assert err.value.row == 2 + (data[:at].count(b"\n") - 1)
    assert "is not UTF-8" in str(err.value)
    assert list(spill.iterdir()) == []


def _with_line(folder: Path, file: str, row: int, line: str) -> None:
    path = folder / file
    lines = path.read_text().split("\n")
    lines[row - 1] = line
    path.write_text("\n".join(lines))


def test_irregular_quote_early_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quote inside an unquoted field: no record boundary after it is certain,
    so the rest of the file is read as one piece, as the whole file was."""
    folder = _crafted(tmp_path / "x")
    _with_line(folder, "involvements.csv", 5, _involvement("I3", 'P3"x'))
    whole = read_extract(folder, now=NOW)
    _small(monkeypatch, chunk=256, partition=1024)
    parts = read_extract(folder, now=NOW)
    _same_extract(whole, parts)
    inv = parts.files["involvements.csv"].rows
    assert inv.loc[inv.source_row == 5, "person_ref"].item() == 'P3"x'


def test_unbalanced_quote_is_named_as_in_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _crafted(tmp_path / "x")
    _with_line(folder, "involvements.csv", 30, '"I15,victim,P15,Anna,Smith,,,,,')
    with pytest.raises(StructuralError) as whole:
        read_extract(folder, now=NOW)
    _small(monkeypatch, chunk=256, partition=1024)
    with pytest.raises(StructuralError) as parts:
        read_extract(folder, now=NOW)
    assert str(parts.value) == str(whole.value)
    assert parts.value.row == 30
