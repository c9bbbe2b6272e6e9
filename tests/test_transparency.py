"""The committed transparency record is exactly what the code, the default
settings and the committed results render: it cannot drift from them."""

from __future__ import annotations

import re
from pathlib import Path

from adapt.core.harm import load_harm_table
from adapt.core.settings import default_settings, setting_descriptions
from adapt.features import FEATURES
from adapt.scoring.score import PARTS
from adapt.scoring.transparency import render_transparency

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def test_committed_record_matches_a_fresh_render() -> None:
    committed = (ROOT / "docs" / "transparency.md").read_text(encoding="utf-8")
    assert committed == render_transparency(default_settings(), RESULTS), (
        "docs/transparency.md is stale: run `adapt transparency`"
    )


def test_record_shows_every_feature_and_the_settings_weights() -> None:
    s = default_settings()
    text = render_transparency(s, RESULTS)
    for name in FEATURES:
        assert f"`{name}`" in text
    assert f"weight {s.gravity.weight:g}" in text
    changed = s.with_changes({"gravity": {"weight": 2.5}}, version="test")
    assert "weight 2.5 × points by crime harm" in render_transparency(changed, RESULTS)


def test_record_shows_each_setting_with_its_description() -> None:
    text = render_transparency(default_settings(), RESULTS)
    lines = text.splitlines()
    table = lines[lines.index("| setting | value | what it does and why |") :]
    for path, description in setting_descriptions().items():
        starts = (f"| `{path}` |", f"| **`{path}`** |")  # a section's row is bold
        row = next((line for line in table if line.startswith(starts)), "")
        assert row.endswith(f"| {description} |"), path
    assert "| `windows.window_days` | 365 |" in text
    assert "| `cohort.min_score` | 40 |" in text


def test_record_says_the_window_in_words() -> None:
    s = default_settings()
    assert "attendances in 12 months ≥ 3" in render_transparency(s, RESULTS)
    wide = render_transparency(s.with_changes({"windows": {"window_days": 730}}), RESULTS)
    assert "attendances in 24 months ≥ 3" in wide
    assert "| `windows.window_days` | 730 |" in wide


def test_no_machine_path_and_results_absent_in_an_installation(tmp_path: Path) -> None:
    for results in (tmp_path / "no_such_folder", None):
        text = render_transparency(default_settings(), results)
        assert "not available in this installation" in text
        assert str(tmp_path) not in text
    text = render_transparency(default_settings(), RESULTS)
    assert str(ROOT) not in text and "/work/" not in text
    assert not re.search(r"(^|\s)(/|~/)\w", load_harm_table().source)
    assert "domain brief" in load_harm_table().source


def test_every_score_part_has_its_settings_row_and_whole_history_features_show() -> None:
    """A part added to the registry (PARTS) without a row saying how the settings
    compute it would leave the record silent on it."""
    s = default_settings()
    text = render_transparency(s, RESULTS)
    lines = text.splitlines()
    start = lines.index("| part | how it is computed (from the settings) |")
    rows = lines[start + 2 : lines.index("", start)]
    assert [row.split("`")[1] for row in rows] == list(PARTS)
    for name in ("serious_incidents_total", "days_since_last_serious", "attendances_trend"):
        assert f"| `{name}` |" in text
    assert "| `serious_history.threshold_days` | 365 |" in text
    assert (
        "| `score_serious_history` | weight 1 × (points by the largest harm on record: "
        "at_least 365 → 4; at_least 1095 → 6; at_least 2555 → 10; plus 3 per serious incident "
        "beyond the first), at most 16 before the weight; a serious incident has harm ≥ 365 "
        "CHI days" in text
    )
    changed = s.with_changes({"serious_history": {"threshold_days": 1095, "weight": 2}})
    other = render_transparency(changed, RESULTS)
    assert "| `score_serious_history` | weight 2 ×" in other and "harm ≥ 1095 CHI days" in other
    # A nested section's settings are read at their depth (governance.retention.*).
    assert "| `governance.retention.violent_or_sexual_years` | 10 |" in text


def test_record_shows_the_learned_models_place_and_the_calibration_evidence() -> None:
    """Issue 13: the learned model is advice beside the score (never the sole
    basis, never deciding cohort membership), and the calibration's out-of-time
    evidence and the calibrated settings' backtest are in the record."""
    text = render_transparency(default_settings(), RESULTS)
    assert "advice beside the RFG score, not a decision" in text
    assert "never the sole basis" in text and "no cohort" in text.replace("\n", " ")
    assert "Sex is read only by its fairness audit" in text
    assert "Calibration evidence" in text
    assert "| calibrated |" in text and "| learned |" in text
    assert "goes live only when a second person approves it" in text
