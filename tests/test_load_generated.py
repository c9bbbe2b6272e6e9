"""The import against the synthetic force's ground truth: the loader
quarantines exactly the rows the generator made bad (no more, no fewer), with
the column the truth names, and stores everything else."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from adapt.contract import read_extract
from adapt.db import connect, load_extract, quarantine_frame
from adapt.synthetic import GeneratorConfig, generate

NOW = pd.Timestamp("2026-11-22").to_pydatetime()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("gen")
    config = GeneratorConfig(seed=7, incidents=4000, bad_row_rate=0.01)
    generate(root / "extract", config, truth_dir=root / "truth")
    truth = pd.read_csv(
        root / "truth" / "bad_rows.csv", dtype=str, keep_default_na=False, na_filter=False
    )
    return root / "extract", truth


def test_quarantine_is_exactly_the_planted_bad_rows(
    db_url: str, generated: tuple[Path, pd.DataFrame]
) -> None:
    folder, truth = generated
    assert len(truth) >= 40  # enough bad rows of every kind to mean something
    assert set(truth["kind"]) >= {
        "not_a_date",
        "future_date",
        "unknown_offence",
        "unknown_role",
        "orphan_involvement",
        "duplicate_incident_id",
        "too_many_fields",
    }
    engine = connect(db_url)
    extract = read_extract(folder, now=NOW)
    result = load_extract(engine, extract)
    q = quarantine_frame(engine)
    got = set(zip(q.source_file, q.source_row.astype(int), strict=True))
    planted = set(zip(truth.source_file, truth.source_row.astype(int), strict=True))
    assert got == planted
    # The column named by the truth is the one the quarantine blames.
    named = truth[truth["column"] != ""]
    blamed = set(zip(q.source_file, q.source_row.astype(int), q.column, strict=True))
    for row in named.itertuples():
        assert (row.source_file, int(row.source_row), row.column) in blamed, row
    with engine.connect() as conn:
        for counts in result.files:
            table = {
                "incidents.csv": "incidents",
                "involvements.csv": "involvements",
                "marac.csv": "marac_referrals",
                "management.csv": "management",
            }[counts.file_name]
            stored = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert stored + counts.quarantined == counts.records
            assert stored == counts.loaded


def test_strict_mode_refuses_the_generated_extract(
    db_url: str, generated: tuple[Path, pd.DataFrame]
) -> None:
    from adapt.db import InputRefused

    folder, truth = generated
    engine = connect(db_url)
    with pytest.raises(InputRefused) as err:
        load_extract(engine, read_extract(folder, now=NOW), strict=True)
    assert err.value.quarantined >= len(truth)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0
