"""Several forces in one generated extract: force-prefixed ids that never
collide, serial perpetrators who move from one force to another under the
same identity, an extract the loader takes (quarantining only the planted bad
rows), and the cross-force linking report after resolution."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.contract import read_extract
from adapt.core.spec import REF_MAX
from adapt.db import connect, load_extract, quarantine_frame
from adapt.db import identity as store
from adapt.evaluation.cross_force import cross_force_linking, cross_force_report
from adapt.synthetic import GeneratorConfig, generate

NOW = pd.Timestamp("2026-11-22").to_pydatetime()
CONFIG = GeneratorConfig(seed=3, incidents=30_000, chunk_incidents=10_000, forces=3)
LABELS = {"F01", "F02", "F03"}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def records(path: Path) -> pd.DataFrame:
    """An extract file as text, tolerating the planted extra-field rows."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return pd.DataFrame([r[: len(rows[0])] for r in rows[1:]], columns=rows[0])


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forces")
    generate(root / "extract", CONFIG, truth_dir=root / "truth")
    return root


def test_every_force_issued_id_carries_its_force(national: Path) -> None:
    x = national / "extract"
    inc = records(x / "incidents.csv")
    inv = records(x / "involvements.csv")
    marac = records(x / "marac.csv")
    mgmt = records(x / "management.csv")
    prefix = r"^F0[123]-"
    for col in (inc["incident_id"], inv["incident_id"], marac["referral_id"]):
        assert col.str.match(prefix).all()
    for col in (
        inv["person_ref"],
        marac["victim_person_ref"],
        marac["perpetrator_person_ref"],
        mgmt["person_ref"],
    ):
        given = col[col != ""]
        assert len(given) and given.str.match(prefix + "NM[0-9]{10}$").all()
    assert set(inc["incident_id"].str[:3]) == LABELS
    # Forces are about equal (10k incidents each, and a few planted duplicates).
    assert inc.drop_duplicates("incident_id")["incident_id"].str[:3].value_counts().max() == 10_000
    for frame in (inc, inv, marac, mgmt):
        for col in frame.columns:
            assert frame[col].str.len().max() <= REF_MAX or col in ("address", "home_address")
    # The truth uses the same ids; true person ids stay unique across forces.
    t = read(national / "truth" / "incidents_truth.csv")
    assert t["incident_id"].str.match(prefix).all()
    persons = read(national / "truth" / "persons.csv")
    refs = persons["refs"].str.split(" ").explode()
    assert refs[refs != ""].str.match(prefix + "NM").all()
    assert persons["person_id"].is_unique


def test_movers_keep_their_identity_across_forces(national: Path) -> None:
    cf = read(national / "truth" / "cross_force.csv")
    assert list(cf.columns) == [
        "first_person_id",
        "first_force",
        "second_person_id",
        "second_force",
    ]
    assert len(cf) >= 20
    assert (cf["first_force"] != cf["second_force"]).all()
    assert set(cf["first_force"]) | set(cf["second_force"]) <= LABELS
    assert cf["first_person_id"].is_unique and cf["second_person_id"].is_unique
    persons = read(national / "truth" / "persons.csv").set_index("person_id")
    cols = ["forename", "surname", "date_of_birth", "gender", "kind"]
    first = persons.loc[cf["first_person_id"], cols].to_numpy()
    second = persons.loc[cf["second_person_id"], cols].to_numpy()
    assert (first == second).all()
    assert set(persons.loc[cf["first_person_id"], "kind"]) == {"perpetrator"}
    # A serial perpetrator in the first force; offending in the second force
    # only after his offending in the first ended.
    patterns = read(national / "truth" / "patterns.csv")
    serial = set(patterns.loc[patterns["pattern"] == "serial_perpetrator", "person_id"])
    assert set(cf["first_person_id"]) <= serial
    inc = read(national / "truth" / "incidents_truth.csv")
    inc["day"] = pd.to_datetime(
        records(national / "extract" / "incidents.csv")["occurred_at"].str[:10], errors="coerce"
    )
    span = inc.groupby("perpetrator_id")["day"].agg(["min", "max"])
    assert (
        span.loc[cf["first_person_id"], "max"].to_numpy()
        < span.loc[cf["second_person_id"], "min"].to_numpy()
    ).mean() > 0.95  # a planted bad date may blur one or two
    # Different refs in each force: the second force's records are its own.
    refs = persons.loc[cf["second_person_id"], "refs"].str[:3]
    assert (refs.to_numpy() == cf["second_force"].to_numpy()).all()


def test_the_loader_takes_it_and_quarantines_only_planted_rows(
    national: Path, tmp_path: Path
) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'n.db'}")
    load_extract(engine, read_extract(national / "extract", now=NOW))
    q = quarantine_frame(engine)
    bad = read(national / "truth" / "bad_rows.csv")
    got = set(zip(q.source_file, q.source_row.astype(int), strict=True))
    planted = set(zip(bad.source_file, bad.source_row.astype(int), strict=True))
    assert got == planted
    pipeline.resolve(engine)
    rows = store.person_rows(engine)[["row_key", "source_file", "source_row"]]
    resolved = rows.merge(store.assignments(engine)[["row_key", "person_id"]], on="row_key")
    report = cross_force_report(national / "truth", resolved)
    cf = read(national / "truth" / "cross_force.csv")
    assert report["movers"] == len(cf) > 0
    assert 0 < report["joined_whole"] <= report["joined"] <= report["movers_seen"]
    assert report["movers_seen"] <= report["movers"]
    # Same name and date of birth in both forces: most movers are joined.
    assert report["joined_share"] >= 0.4, report  # 35 of 56 (0.62) when written


def test_report_counts_joined_movers() -> None:
    cf = pd.DataFrame({"first_person_id": [1, 3, 5], "second_person_id": [2, 4, 6]})
    truth = pd.DataFrame({"source_row": np.arange(2, 9), "person_id": [1, 1, 2, 3, 4, 5, 9]})
    resolved = pd.DataFrame(
        {
            "source_file": ["involvements.csv"] * 7 + ["marac.csv"],
            "source_row": [*range(2, 9), 7],
            "person_id": ["A", "B", "A", "C", "D", "E", "F", "E"],
        }
    )
    report = cross_force_linking(cf, truth, resolved)
    # Mover 1: rows in both forces, sharing A (not all under one id); mover 3:
    # apart; mover 5: never seen in the second force (the marac row does not count).
    assert report == {
        "movers": 3,
        "movers_seen": 2,
        "joined": 1,
        "joined_whole": 0,
        "joined_share": 0.5,
    }
    # Row keys of an extract read without a database carry the source row.
    keys = resolved["source_file"] + ":" + resolved["source_row"].astype(str)
    by_key = pd.DataFrame({"row_key": keys, "person_id": resolved["person_id"]})
    assert cross_force_linking(cf, truth, by_key) == report
    # A database's row keys name stored records: the sources must be merged in.
    stored = pd.DataFrame({"row_key": ["involvements:1"], "person_id": ["A"]})
    with pytest.raises(ValueError, match="person_rows"):
        cross_force_linking(cf, truth, stored)


def test_fewer_chunks_than_forces_still_gives_every_force_a_share(tmp_path: Path) -> None:
    cfg = GeneratorConfig(seed=2, incidents=3000, forces=4, bad_row_rate=0.0)
    summary = generate(tmp_path / "x", cfg, tmp_path / "t")
    assert summary["incidents.csv"] == 3000
    counts = read(tmp_path / "x" / "incidents.csv")["incident_id"].str[:3].value_counts()
    assert dict(counts) == {"F01": 750, "F02": 750, "F03": 750, "F04": 750}
    again = GeneratorConfig(seed=2, incidents=3000, forces=4, bad_row_rate=0.0)
    generate(tmp_path / "y", again, tmp_path / "u")
    for p in list((tmp_path / "x").iterdir()) + list((tmp_path / "t").iterdir()):
        other = (tmp_path / ("y" if p.parent.name == "x" else "u")) / p.name
        assert p.read_bytes() == other.read_bytes(), p.name


def test_one_force_has_no_prefix_and_no_cross_force_file(tmp_path: Path) -> None:
    generate(tmp_path / "x", GeneratorConfig(seed=2, incidents=500), tmp_path / "t")
    assert not (tmp_path / "t" / "cross_force.csv").exists()
    assert read(tmp_path / "x" / "incidents.csv")["incident_id"].str.match("^IR").all()


def test_cli_generate_takes_forces(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["generate", "--help"])
    assert out.exit_code == 0 and "--forces" in out.output
    res = runner.invoke(
        app, ["generate", str(tmp_path / "x"), "--incidents", "400", "--forces", "2"]
    )
    assert res.exit_code == 0, res.output
    ids = read(tmp_path / "x" / "incidents.csv")["incident_id"]
    assert set(ids.str[:4]) == {"F01-", "F02-"}
    bad = runner.invoke(app, ["generate", str(tmp_path / "y"), "--incidents", "3", "--forces", "5"])
    assert bad.exit_code == 2
