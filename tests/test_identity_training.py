"""The match model is learned from the data being resolved.

``adapt resolve`` trains the splink parameters (prior, u, m) on the stored
rows, starting from the packaged model, stores the model with its training
figures, reuses it in later runs, and trains anew on ``--retrain``; a very
small extract is resolved with the packaged model alone, and the run says so.
Rows come from the synthetic generator; database tests run on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.contract import read_extract
from adapt.db import connect, latest_model
from adapt.db.engine import current_revision, downgrade, head_revision, upgrade
from adapt.db.identity_models import (
    get_model,
    list_models,
    model_sha256,
    run_model_id,
    set_run_model,
    store_model,
)
from adapt.db.models import identity_runs
from adapt.identity import person_rows_from_extract, prepare_rows
from adapt.identity.card import render_model_card
from adapt.identity.runner import MIN_TRAINING_ROWS, load_model
from adapt.synthetic import GeneratorConfig, generate


def _m(settings: dict, comparison: str, level: str) -> float:
    for comp in settings["comparisons"]:
        if comp["output_column_name"] == comparison:
            for lv in comp["comparison_levels"]:
                if lv.get("label_for_charts") == level:
                    return float(lv["m_probability"])
    raise KeyError((comparison, level))


@pytest.fixture(scope="module")
def forces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Extract folders: a force at the generator's usual noise (older: a month
    short; newer: the whole), the same force recorded three times as noisily,
    and a tiny one."""
    root = tmp_path_factory.mktemp("training")
    out = {}
    for name, incidents, noise in (("newer", 1000, 1.0), ("noisy", 1000, 3.0), ("tiny", 60, 1.0)):
        out[name] = root / name
        generate(
            out[name],
            GeneratorConfig(seed=21, incidents=incidents, noise=noise, bad_row_rate=0.0),
        )
    older = root / "older"
    shutil.copytree(out["newer"], older)
    inc = pd.read_csv(out["newer"] / "incidents.csv", dtype=str, keep_default_na=False)
    inv = pd.read_csv(out["newer"] / "involvements.csv", dtype=str, keep_default_na=False)
    when = pd.to_datetime(inc["occurred_at"], format="ISO8601")
    keep = when <= when.max() - pd.Timedelta(days=30)
    inc[keep].to_csv(older / "incidents.csv", index=False)
    inv[inv.incident_id.isin(inc.loc[keep, "incident_id"])].to_csv(
        older / "involvements.csv", index=False
    )
    out["older"] = older
    return out


def _rows(folder: Path) -> pd.DataFrame:
    return prepare_rows(person_rows_from_extract(read_extract(folder)))


def test_training_moves_the_parameters_toward_the_datas_own_noise(forces) -> None:
    packaged = load_model()
    usual = packaged.refit(_rows(forces["newer"])).settings_json_
    noisy = packaged.refit(_rows(forces["noisy"])).settings_json_
    start = packaged.settings_json_
    # At noise 3 the generator records about 9% of dates of birth day/month
    # swapped (3% at noise 1) and a quarter of forenames as a nickname (8%):
    # among true pairs, "swapped" and "nickname" are that much more common,
    # so their m must rise above the packaged model's (learned at noise 1),
    # and the m of an exact date of birth and an exact forename must fall
    # (the shares of the levels of one comparison add up to 1).
    assert _m(noisy, "dob", "day/month swapped") > 3 * _m(start, "dob", "day/month swapped")
    assert _m(noisy, "dob", "day/month swapped") > 2 * _m(usual, "dob", "day/month swapped")
    assert _m(noisy, "dob", "exact") < _m(usual, "dob", "exact") - 0.05
    assert _m(noisy, "forename", "nickname") > 2 * _m(start, "forename", "nickname")
    assert _m(noisy, "forename", "exact") < _m(start, "forename", "exact")
    # The same force at its usual noise moves the swap level far less. Bound
    # 2.5x: since the generator draws careers as real ones run (issue 13 item
    # 5: fewer long pairs, more one-off people), this 1,000-incident force
    # holds about 3,400 true within-person pairs instead of 8,500, so the m
    # learned from it scatters more around the packaged one (seed 21: 2.2x,
    # against more than 2x that again at noise 3, asserted above).
    assert _m(usual, "dob", "day/month swapped") < 2.5 * _m(start, "dob", "day/month swapped")


def test_a_tiny_extract_is_resolved_with_the_packaged_model_and_says_so(
    forces, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = connect(db_url)
    pipeline.load(engine, forces["tiny"])
    with caplog.at_level(logging.WARNING, logger="adapt.identity.runner"):
        summary = pipeline.resolve(engine)
    assert summary.rows < MIN_TRAINING_ROWS
    assert summary.model_source == "packaged" and summary.model_id is None
    assert "too small to train on" in summary.model
    assert f"{summary.rows:,} rows, fewer than {MIN_TRAINING_ROWS:,}" in summary.model
    assert any("too small to train on" in r.getMessage() for r in caplog.records)
    assert latest_model(engine) is None
    with engine.connect() as conn:
        run = conn.execute(select(identity_runs)).mappings().one()
    assert run["model_id"] is None and "packaged" in run["model"]
    # --retrain on the same tiny extract still says why it did not train.
    again = pipeline.resolve(engine, retrain=True)
    assert again.model_source == "packaged" and "too small" in again.model
    engine.dispose()


def test_same_rows_and_seed_give_the_same_stored_model_and_retrain_stores_a_new_one(
    forces, db_url: str
) -> None:
    engine = connect(db_url)
    pipeline.load(engine, forces["newer"])
    first = pipeline.resolve(engine)
    assert first.mode == "full" and first.model_source == "trained"
    assert first.model == f"model {first.model_id}, trained on this data ({first.rows:,} rows)"
    assert run_model_id(engine, first.run_id) == first.model_id
    again = pipeline.resolve(engine, retrain=True)
    assert again.mode == "full" and again.model_source == "trained"
    assert again.model_id != first.model_id
    a, b = get_model(engine, first.model_id), get_model(engine, again.model_id)
    # Reproducible: the same rows and seed give byte-identical model JSON.
    assert a.model == b.model and a.sha256 == b.sha256 == model_sha256(b.model)
    assert a.figures == b.figures and a.rows == first.rows and a.seed == load_model().seed
    # The figures say what was learned and how.
    figures = b.figures
    assert figures["prior"]["probability_two_random_records_match"] > 0
    assert [p["blocking_rule"] for p in figures["em_passes"]] == [
        'l."dob" = r."dob"',
        'l."fn_canon" = r."fn_canon" AND l."sn" = r."sn"',
        'l."ref" = r."ref"',
    ]
    assert all(p["pairs"] > 1000 and p["iterations"] >= 1 for p in figures["em_passes"])
    assert not any("postcode" in p["blocking_rule"] for p in figures["em_passes"])
    assert {lv["comparison"] for lv in figures["levels"]} >= {"forename", "surname", "dob"}
    assert [m["id"] for m in list_models(engine)] == [again.model_id, first.model_id]
    assert list_models(engine)[0]["runs"] == [again.run_id]
    # The card of the stored model shows its figures.
    card = render_model_card(b)
    assert f"model {b.id}" in card and b.sha256 in card
    assert "day/month swapped" in card and f"{b.rows:,}" in card
    engine.dispose()


def test_incremental_and_full_runs_reuse_the_stored_model_until_retrain(
    forces, db_url: str
) -> None:
    engine = connect(db_url)
    pipeline.load(engine, forces["older"])
    first = pipeline.resolve(engine)
    assert first.model_source == "trained"
    pipeline.load(engine, forces["newer"])
    incremental = pipeline.resolve(engine)
    assert incremental.mode == "incremental"
    assert incremental.model_source == "reused" and incremental.model_id == first.model_id
    assert "--retrain" in incremental.model
    full = pipeline.resolve(engine, full=True)
    assert full.mode == "full" and full.model_source == "reused"
    assert [m["id"] for m in list_models(engine)] == [first.model_id]
    # The command line: --retrain trains on everything stored now and says so.
    result = CliRunner().invoke(app, ["resolve", "--retrain", "--db", db_url])
    assert result.exit_code == 0, result.output
    newest = latest_model(engine)
    assert newest.id != first.model_id and newest.rows == full.rows
    assert f"match model: model {newest.id}, trained on this data" in result.output
    with engine.connect() as conn:
        runs = conn.execute(select(identity_runs.c.model_id, identity_runs.c.model)).all()
    assert [r[0] for r in runs] == [first.model_id] * 3 + [newest.id]
    assert runs[1][1] == f"identity model {first.model_id} (reused)"
    engine.dispose()


def test_migration_0007_down_and_up_with_a_stored_model_and_run(forces, db_url: str) -> None:
    engine = connect(db_url)
    pipeline.load(engine, forces["tiny"])
    run = pipeline.resolve(engine)
    model_id = store_model(engine, {"a": 1}, {"rows": 3}, rows=3, seed=4)
    set_run_model(engine, run.run_id, model_id)
    downgrade(engine, "0006")
    tables = inspect(engine).get_table_names()
    assert "identity_models" not in tables and "identity_runs" in tables
    assert "model_id" not in {c["name"] for c in inspect(engine).get_columns("identity_runs")}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        runs = conn.execute(select(identity_runs.c.id, identity_runs.c.model_id)).all()
    assert runs == [(run.run_id, None)] and latest_model(engine) is None
    engine.dispose()


def test_a_model_stored_with_other_comparisons_is_not_reused_and_the_run_says_why(
    forces, db_url: str
) -> None:
    """After an upgrade changes the comparisons, the stored model's m and u no
    longer fit them: an incremental run falls back to the packaged model and
    names the stored model it could not use."""
    engine = connect(db_url)
    pipeline.load(engine, forces["older"])
    first = pipeline.resolve(engine)
    stored = latest_model(engine)
    upgraded = dict(stored.model)
    settings = dict(upgraded["splink_settings"])
    settings["comparisons"] = settings["comparisons"][:-1]  # one comparison fewer
    upgraded["splink_settings"] = settings
    stale = store_model(engine, upgraded, {"rows": stored.rows}, rows=stored.rows, seed=1)
    pipeline.load(engine, forces["newer"])
    incremental = pipeline.resolve(engine)
    assert incremental.mode == "incremental" and incremental.model_source == "packaged"
    assert f"stored model {stale} was trained with an older set of comparisons" in (
        incremental.model
    )
    assert stale != first.model_id
    engine.dispose()


def test_past_the_row_cap_a_seeded_uniform_sample_trains_the_same_way(forces, monkeypatch) -> None:
    """A national force (19.7M rows) trains on a uniform sample of at most
    TRAIN_MAX_ROWS rows: here the cap is set to 70% of a noisy force's rows.
    The sample is drawn from the rows in row_key order (the same rows in any
    order give the same model), the figures say it was a sample, and the
    sample still learns the force's own noise."""
    from adapt.identity import splink_adapter

    rows = _rows(forces["noisy"])
    cap = int(len(rows) * 0.7)
    packaged = load_model()
    whole = packaged.refit(rows)
    monkeypatch.setattr(splink_adapter, "TRAIN_MAX_ROWS", cap)
    sampled = packaged.refit(rows)
    shuffled = packaged.refit(rows.sample(frac=1.0, random_state=3))
    assert shuffled.settings_json_ == sampled.settings_json_
    figures = sampled.training_figures_
    assert figures["rows"] == cap == sampled.n_rows_trained_
    assert figures["rows_available"] == len(rows)
    assert "uniform sample" in figures["sampled"]
    assert "rows_available" not in whole.training_figures_
    start, got = packaged.settings_json_, sampled.settings_json_
    # At noise 3 the whole force puts the swap level's m above 3x the packaged
    # one (test above); 70% of the rows keep about half the pairs, so allow
    # more scatter: still above 2x, and the exact level still falls.
    assert _m(got, "dob", "day/month swapped") > 2 * _m(start, "dob", "day/month swapped")
    assert _m(got, "dob", "exact") < _m(start, "dob", "exact")
    # The prior: deterministic pairs over all pairs, both about halved by the
    # sample; within a factor of 1.5 of the whole force's.
    p_whole = whole.settings_json_["probability_two_random_records_match"]
    p_got = got["probability_two_random_records_match"]
    assert p_whole / 1.5 < p_got < p_whole * 1.5
