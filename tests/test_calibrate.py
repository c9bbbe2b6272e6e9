"""`adapt calibrate`: the rolling-origin split, the bounded search, the draft and
its evidence (issue 13, item 2).

The pure part runs on a hand-built history: 60 suspects over four years
(2021-2024), each with a steady rate of incidents and a small chance of a
serious one, so that the score ranks them unevenly and the search has
something to move. The CLI part runs on a small generated force (2,000
incidents over three years) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from adapt.cli import app
from adapt.cli.calibrate import model_card_path
from adapt.cli.common import os_user
from adapt.core.dates import cutoff_of
from adapt.core.settings import Settings, default_settings
from adapt.db import connect
from adapt.db.app_store import audit_frame
from adapt.db.calibration import calibration_evidence_frame
from adapt.db.learned_models import latest_learned_model
from adapt.db.settings_store import (
    OPERATOR,
    ApprovalRefused,
    decide_settings_version,
    live_settings,
    settings_versions_frame,
)
from adapt.evaluation.calibrate import (
    FIT,
    HELD_OUT,
    CalibrationError,
    calibrate,
    capture,
    history_until,
    prepare_origin,
    rolling_origins,
    scaled_settings,
)
from adapt.features import compute_features
from adapt.pipeline import export_frame, generate
from adapt.scoring.score import PARTS, score_parts
from adapt.synthetic import GeneratorConfig
from tests.histories import HistoryBuilder

T = "2024-12-31"
K = 10
runner = CliRunner()


def _people(builder: HistoryBuilder, rng: np.random.Generator) -> None:
    start = pd.Timestamp("2021-01-01")
    for p in range(60):
        rate = rng.gamma(1.0, 2.5)  # incidents a year: most few, some many
        serious = rng.uniform(0, 0.3)
        n = rng.poisson(rate * 4)
        for day in np.sort(rng.integers(0, 4 * 365, n)):
            offence = "abh" if rng.uniform() < serious else "common_assault"
            builder.incident(
                str((start + pd.Timedelta(days=int(day))).date()),
                offence,
                suspect=f"P{p:03d}",
                victim=f"V{p:03d}",
                weapon=bool(rng.uniform() < serious / 3),
            )


def _history(extra=None):  # type: ignore[no-untyped-def]
    b = HistoryBuilder()
    _people(b, np.random.default_rng(7))
    if extra:
        extra(b)
    return b.build()


@pytest.fixture(scope="module")
def history():  # type: ignore[no-untyped-def]
    return _history()


@pytest.fixture(scope="module")
def result(history):  # type: ignore[no-untyped-def]
    return calibrate(history, T, default_settings(), k=K, ks=(5, K, 20))


def test_rolling_origins_are_the_years_before_the_date_the_last_held_out(history) -> None:
    # The history starts 2021-01-01: T-3y (2021-12-31) has a year before it,
    # T-2y and T-1y too; the last one's outcome year ends at T.
    dates = rolling_origins(history, T)
    assert [str(o.as_of.date()) for o in dates] == ["2021-12-31", "2022-12-31", "2023-12-31"]
    assert [o.role for o in dates] == [FIT, FIT, HELD_OUT]
    assert all(o.as_of + pd.Timedelta(days=o.horizon_days) == pd.Timestamp(o.as_of)
               + pd.DateOffset(years=1) for o in dates)  # fmt: skip
    # A year before T is not enough: one origin at most, nothing to fit and check.
    with pytest.raises(CalibrationError, match="three years of history"):
        rolling_origins(history, "2022-12-31")


def test_each_part_scaled_by_its_multiplier_alone(history) -> None:
    # The search re-scores from the parts: that is only right if the settings it
    # writes scale each part by its multiplier and leave the others alone.
    base = default_settings()
    features = compute_features(history, T, base)
    before = score_parts(features, base)
    for part in PARTS:
        after = score_parts(features, scaled_settings(base, {part: 2.5}))
        for other in PARTS:
            factor = 2.5 if other == part else 1.0
            np.testing.assert_allclose(after[other], factor * before[other], atol=1e-3)


def test_fast_capture_matches_the_backtest(history, result) -> None:
    # capture() (the search's objective) agrees with the backtest's figure for
    # the same settings at every origin.
    base = default_settings()
    for d in rolling_origins(history, T):
        origin = prepare_origin(history_until(history, T), d, base)
        fast = capture(origin, np.ones(len(PARTS)), K)
        e = result.evidence
        row = e[(e["origin"] == d.as_of.date()) & (e["method"] == "live") & (e["k"] == K)]
        assert fast == pytest.approx(float(row["harm_share"].iloc[0]), abs=1e-9)


def test_fit_origins_read_nothing_after_the_held_out_date(history) -> None:
    past = history_until(history, T)
    dates = rolling_origins(past, T)
    held = dates[-1]
    for d in dates[:-1]:
        o = prepare_origin(past, d, default_settings())
        assert o.future.incidents["occurred_at"].max() < cutoff_of(held.as_of)


def test_an_incident_after_the_date_changes_nothing(result) -> None:
    def later(b: HistoryBuilder) -> None:
        for day in ("2025-01-05", "2025-02-01", "2025-03-01"):
            b.incident(day, "rape", suspect="P000", victim="V000")

    again = calibrate(_history(later), T, default_settings(), k=K, ks=(5, K, 20))
    assert again.multipliers == result.multipliers
    assert again.draft.to_json() == result.draft.to_json()
    pd.testing.assert_frame_equal(again.evidence, result.evidence)


def test_the_held_out_year_is_not_fitted_on(result) -> None:
    # Serious harm in the held-out year (2024, after the last fit date
    # 2023-12-31) moves the held-out evidence (its year has more harm) but not
    # the fit: the multipliers, the fitted figure and the fit origins'
    # evidence stay as they were.
    def held_out_harm(b: HistoryBuilder) -> None:
        for day in ("2024-02-01", "2024-05-01", "2024-09-01"):
            b.incident(day, "rape", suspect="P000", victim="V000")
            b.incident(day, "abh", suspect="P999", victim="V999")

    again = calibrate(_history(held_out_harm), T, default_settings(), k=K, ks=(5, K, 20))
    assert again.multipliers == result.multipliers
    assert again.fitted_capture == pytest.approx(result.fitted_capture)
    e, f = again.evidence, result.evidence
    assert not np.allclose(
        e.loc[e["role"] == HELD_OUT, "harm_share"], f.loc[f["role"] == HELD_OUT, "harm_share"]
    )
    pd.testing.assert_frame_equal(
        e[e["role"] == FIT].reset_index(drop=True), f[f["role"] == FIT].reset_index(drop=True)
    )


def test_evidence_and_reason_give_the_out_of_time_figure(result) -> None:
    e = result.evidence
    assert set(e["method"]) >= {"draft", "live", "attendances_window", "harm_window", "oracle"}
    assert set(e["k"]) == {5, K, 20}
    oot = result.out_of_time()
    assert f"captured {oot['draft']:.1%}" in result.draft.reason
    assert f"{oot['live']:.1%} for the live settings" in result.draft.reason
    sp = result.spread.set_index(["method", "k"])
    for (method, k), g in e.groupby(["method", "k"]):
        assert sp.at[(method, k), "min"] == g["harm_share"].min()
        assert sp.at[(method, k), "max"] == g["harm_share"].max()
    # The search never does worse than the live settings on what it was fitted on.
    assert result.fitted_capture >= 0


# ---- the command, on both databases --------------------------------------------------


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("calib") / "extract"
    generate(folder, GeneratorConfig(seed=5, incidents=2000))
    return folder


@pytest.fixture(scope="module")
def loaded(module_db_url: str, extract: Path) -> str:
    """The small force loaded and resolved once per database for this module
    (the tests below write only a draft and its evidence, which none reads but its own)."""
    ran = runner.invoke(app, ["run", str(extract), "--db", module_db_url])
    assert ran.exit_code == 0, ran.output
    return module_db_url


def test_no_model_trained_on_the_force_leaves_the_model_columns_empty(loaded: str) -> None:
    # Before any `adapt calibrate` no model was trained on this force: the
    # export is still valid and its model columns are empty (the model trained
    # on synthetic forces is never shown as if it were the force's).
    frame = export_frame(loaded, "cohort")
    assert list(frame.columns[-2:]) == ["model_probability", "model_version"]
    assert frame["model_probability"].isna().all() and (frame["model_version"] == "").all()


def test_calibrate_saves_a_draft_with_evidence_and_writes_settings(
    loaded: str, tmp_path: Path
) -> None:
    db_url = loaded
    out = tmp_path / "draft.json"
    done = runner.invoke(app, ["calibrate", "--db", db_url, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "held_out" in done.output and "out of time" in done.output
    assert "spread over the 2 origins" in done.output

    engine = connect(db_url)
    try:
        versions = settings_versions_frame(engine)
        (row,) = versions.itertuples()
        assert row.name == "calibrated" and row.status == "draft" and not row.live
        assert row.author == os_user() and row.reason.startswith("adapt calibrate")
        # Whoever ran it cannot make it live alone: a second person must approve.
        with pytest.raises(ApprovalRefused, match="a second person"):
            decide_settings_version(engine, row.name, row.version, approve=True, by=os_user(),
                                    role=OPERATOR, reason="looks good")  # fmt: skip
        assert "Out of time" in row.reason
        live, words = live_settings(engine)  # the draft is not live
        assert live == default_settings() and "packaged defaults" in words
        evidence = calibration_evidence_frame(engine, row.name, row.version)
        assert set(evidence["role"]) == {"fit", "held_out", "spread"}
        assert set(evidence["k"]) == {25, 50, 100, 200}
        assert {"draft", "live", "attendances_window", "harm_window"} <= set(evidence["method"])
        held = evidence[(evidence["role"] == "held_out") & (evidence["k"] == 100)]
        shown = f"draft {held.set_index('method').at['draft', 'harm_share']:.1%}"
        assert shown in done.output  # the printed out-of-time figure is the stored one
        audit = audit_frame(engine)
        assert (audit["action"] == "settings_saved").sum() == 1
        # The learned model, trained the same rolling way, stored with its card.
        stored = latest_learned_model(engine)
        assert stored is not None and stored.target == "any_incident"
        assert stored.fit_origins and max(stored.fit_origins) < stored.held_out_origin
        assert stored.held_out_origin < stored.as_of
        assert f"learned model {stored.version}" in done.output
        card = model_card_path(out).read_text(encoding="utf-8")
        assert card == stored.card and "not a decision" in card
    finally:
        engine.dispose()
    frame = export_frame(db_url, "cohort")
    assert frame["model_probability"].between(0, 1).all()
    assert (frame["model_version"] == stored.version).all()

    draft = Settings.from_file(out)
    assert (draft.name, draft.version) == (row.name, row.version)
    scored = runner.invoke(app, ["score", "--db", db_url, "--settings", str(out)])
    assert scored.exit_code == 0, scored.output
    assert f"settings calibrated v{row.version}" in scored.output

    second = runner.invoke(app, ["calibrate", "--db", db_url])
    assert second.exit_code == 0, second.output
    assert f"calibrated v{row.version[:-1]}2" in second.output


def test_calibrate_on_too_short_a_history_says_so(loaded: str) -> None:
    done = runner.invoke(app, ["calibrate", "--db", loaded, "--as-of", "2025-01-01"])
    assert done.exit_code == 1
    assert "three years of history" in done.output


def test_min_score_rescaled_to_keep_the_score_route_as_wide(history, result) -> None:
    # The multipliers change the score's scale: a min_score of 40 could let in
    # everyone or no one. At the last fit origin as many people reach the
    # draft's min_score under the draft as reach the live one under the live
    # settings (at least as many: a tie at the threshold counts everyone on it).
    live = default_settings()
    past = history_until(history, T)
    last_fit = [d for d in rolling_origins(past, T) if d.role == FIT][-1]
    features = compute_features(past, last_fit.as_of, live)
    live_total = score_parts(features, live).sum(axis=1)
    draft_total = score_parts(features, result.draft).sum(axis=1)
    reach_live = int((live_total >= live.cohort.min_score).sum())
    reach_draft = int((draft_total >= result.draft.cohort.min_score).sum())
    assert reach_live > 0
    assert reach_draft >= reach_live
    assert int((draft_total > result.draft.cohort.min_score + 0.1).sum()) <= reach_live
