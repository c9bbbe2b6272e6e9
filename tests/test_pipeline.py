"""The pipeline facade (adapt.pipeline) on both databases: each step, the
steps chained (run, demo), the exports, and the cached synthetic history."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import networkx as nx
import openpyxl
import pytest

from adapt import pipeline
from adapt.contract import StructuralError
from adapt.core.settings import default_settings
from adapt.db import connect, import_history
from adapt.db.scores import latest_score_run
from adapt.synthetic import GeneratorConfig
from tests.extracts import incident, involvement, simple_extract, write_extract

SMALL = GeneratorConfig(seed=5, incidents=400, years=2.0)


@pytest.fixture(scope="module")
def small_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pipeline.generate(tmp_path_factory.mktemp("small") / "extract", SMALL).folder


@pytest.fixture(scope="module")
def ran(module_db_url: str, small_extract: Path) -> tuple[str, pipeline.RunResult, list[str]]:
    """``run`` once per database for the module's read-only checks."""
    steps: list[str] = []
    result = pipeline.run(
        module_db_url, small_extract, after_step=lambda step, _: steps.append(step)
    )
    return module_db_url, result, steps


def test_generate_writes_the_extract_files(small_extract: Path) -> None:
    names = {p.name for p in small_extract.glob("*.csv")}
    assert {"incidents.csv", "involvements.csv"} <= names


def test_run_is_load_then_resolve_then_score(ran) -> None:  # type: ignore[no-untyped-def]
    url, result, steps = ran
    assert steps == ["load", "resolve", "score"]
    assert result.load.import_id == 1
    loaded = {c.file_name: c.loaded for c in result.load.files}
    assert loaded["incidents.csv"] > 300  # a few bad rows are quarantined
    assert result.identities.run_id == 1 and result.identities.rows_resolved > 0
    assert result.scores.run_id == 1 and result.scores.unresolved_rows == 0
    assert len(result.scores.table) and result.scores.table["in_cohort"].any()
    engine = connect(url)
    try:
        assert latest_score_run(engine)["id"] == 1
    finally:
        engine.dispose()


TABLE_KINDS = [k for k in pipeline.EXPORT_KINDS if k not in pipeline.GRAPH_SUFFIXES]


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_every_export_is_written(ran, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, result, _ = ran
    if kind == "review":  # what changed needs a stored review to compare with
        pipeline.review(url, as_of=result.scores.as_of, username="t")
    csv_result = pipeline.export(url, kind, tmp_path / f"{kind}.csv", purpose="test", username="t")
    with open(csv_result.path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert csv_result.rows == len(rows) - 1 > 0
    xlsx = pipeline.export(url, kind, tmp_path / f"{kind}.xlsx", purpose="test", username="t")
    sheet = openpyxl.load_workbook(xlsx.path, read_only=True).active
    assert sheet.max_row == xlsx.rows + 1
    if kind == "cohort":  # the cohort export is everyone the score run ranked
        assert csv_result.rows == len(result.scores.table)
    if kind == "quarantine":
        assert csv_result.rows == result.load.quarantine_rows


def test_the_graphml_export_is_the_graph(ran, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = ran
    written = pipeline.export(url, "graphml", tmp_path / "g.graphml", purpose="test", username="t")
    graph = nx.read_graphml(written.path)
    links = pipeline.export(url, "i2", tmp_path / "links.csv", purpose="test", username="t")
    # one GraphML edge per i2 link (both are the graph's edges), every one read back
    assert graph.number_of_edges() == links.rows == written.rows > 0


def test_export_refuses_an_unknown_kind_or_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not available"):
        pipeline.check_export("everything", tmp_path / "x.csv")
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        pipeline.check_export("cohort", tmp_path / "x.json")
    with pytest.raises(ValueError, match=r"must end in \.graphml"):
        pipeline.check_export("graphml", tmp_path / "x.csv")


def test_each_step_alone_and_a_reload_changes_nothing(db_url: str, small_extract: Path) -> None:
    first = pipeline.load(db_url, small_extract, label="first")
    assert pipeline.resolve(db_url).run_id == 1
    again = pipeline.load(db_url, small_extract)
    assert all(c.loaded == 0 and c.updated == 0 for c in again.files)
    assert pipeline.resolve(db_url).run_id is None  # nothing new to resolve
    scored = pipeline.score(db_url, as_of=date(2026, 6, 30), store=False)
    assert scored.run_id is None and scored.as_of == date(2026, 6, 30)
    engine = connect(db_url)
    try:
        folders = import_history(engine).drop_duplicates("import_id")["folder"].tolist()
        assert folders == ["first", str(small_extract)]
        assert latest_score_run(engine) is None
    finally:
        engine.dispose()
    assert first.import_id == 1 and again.import_id == 2


def test_a_folder_that_cannot_be_imported_writes_nothing(db_url: str, tmp_path: Path) -> None:
    folder = simple_extract(tmp_path / "x", range(1, 4))
    (folder / "incidents.csv").unlink()
    with pytest.raises(StructuralError, match=r"incidents\.csv"):
        pipeline.load(db_url, folder)
    assert pipeline.stored_summary(db_url)["incidents"] == 0


def test_progress_is_reported(db_url: str, small_extract: Path) -> None:
    seen: list[str] = []
    pipeline.run(db_url, small_extract, progress=lambda stage, done, total: seen.append(stage))
    assert "scoring" in seen and "resolving" in seen and len(set(seen)) >= 4


def test_demo_generates_then_runs(db_url: str, tmp_path: Path) -> None:
    steps: list[str] = []
    result = pipeline.demo(db_url, tmp_path / "demo", config=GeneratorConfig(seed=2, incidents=200),
                           after_step=lambda step, _: steps.append(step))  # fmt: skip
    assert steps == ["generate", "load", "resolve", "score"]
    assert result.extract.folder == tmp_path / "demo"
    assert result.run.load.files and result.run.scores.run_id == 1
    summary = pipeline.stored_summary(db_url)
    assert summary["incidents"] == sum(
        c.loaded for c in result.run.load.files if c.file_name == "incidents.csv"
    )


def test_the_demo_folder_sits_beside_a_sqlite_database(tmp_path: Path) -> None:
    assert pipeline.default_demo_folder(f"sqlite:///{tmp_path}/a.db") == tmp_path / "demo-extract"
    assert pipeline.default_demo_folder("postgresql+psycopg://h/db") == Path.cwd() / "demo-extract"


def test_synthetic_history_is_built_once_and_reused(tmp_path: Path) -> None:
    history = pipeline.synthetic_history(tmp_path, seed=4, incidents=150, years=1.0)
    assert len(history.incidents) > 100 and history.involvements["person_id"].notna().any()
    ready = list(tmp_path.glob("*.ready"))
    assert len(ready) == 1
    database = ready[0].with_suffix(".db")
    built = database.stat().st_mtime_ns
    again = pipeline.synthetic_history(tmp_path, seed=4, incidents=150, years=1.0)
    assert database.stat().st_mtime_ns == built  # read back, not built again
    assert again.incidents["incident_id"].tolist() == history.incidents["incident_id"].tolist()


def test_score_uses_the_settings_given(ran) -> None:  # type: ignore[no-untyped-def]
    url, result, _ = ran
    assert result.scores.table["in_cohort"].any()
    strict = default_settings().with_changes(
        {"cohort": {"min_score": 10_000.0, "min_attendances": 10_000}}
    )
    assert not pipeline.score(url, settings=strict, store=False).table["in_cohort"].any()


def test_an_extract_with_no_candidate_pair_runs(db_url: str, tmp_path: Path) -> None:
    """One incident, a suspect and a victim with nothing in common: splink has no
    candidate pair, so each row is its own person and the run ends (it used to
    fail unpacking an empty list of scored parts)."""
    folder = write_extract(
        tmp_path / "one",
        [incident(1)],
        [
            involvement(1, "suspect", 1),
            involvement(1, "victim", 2, forename="Maria", surname="Kowalczyk",
                        date_of_birth="1991-07-23", home_address="9 Elm Road",
                        home_postcode="NG7 1AA", person_ref="V9"),
        ],
    )  # fmt: skip
    result = pipeline.run(db_url, folder)
    identities = result.identities
    assert identities.rows == 2 and identities.rows_resolved == 2
    assert identities.persons_created == 2 and identities.merges == 0
    assert result.scores.unresolved_rows == 0
