"""Settings (validation, JSON round trip) and the score, ranking and cohort rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapt.core.settings import Settings, SettingsError, default_settings
from adapt.features import compute_features
from adapt.scoring.score import COHORT_COLUMNS, PARTS, rank, score_parts
from tests.histories import HistoryBuilder

S = default_settings()
T = "2026-06-30"


def test_settings_round_trip_through_json_and_a_file(tmp_path: Path) -> None:
    changed = S.with_changes(
        {"gravity": {"weight": 1.5}, "cohort": {"min_attendances": 4, "min_score": None}},
        name="north", version="2", author="analyst.a", reason="trial of a higher gravity weight",
    )  # fmt: skip
    assert Settings.from_json(changed.to_json()) == changed
    path = tmp_path / "north.json"
    path.write_text(changed.to_json(), encoding="utf-8")
    again = Settings.from_file(path)
    assert again == changed and again != S
    assert (again.name, again.version, again.author) == ("north", "2", "analyst.a")
    assert again.gravity.weight == 1.5 and again.cohort.min_score is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"windows": {"window_days": 10}}, "windows.window_days"),
        ({"gravity": {"bands": [{"at_least": 10, "points": 1}, {"at_least": 5, "points": 2}]}},
         "strictly increasing"),
        ({"recency": {"weight": -1}}, "recency.weight"),
        ({"cohort": {"min_attendances": None, "min_score": None}}, "min_attendances, min_score"),
        ({"cohort": {"exclude_statuses": ["probation"]}}, "cohort.exclude_statuses[0]"),
        ({"harm_table": "no_such_table"}, "unknown harm table"),
        ({"surprise": 1}, "surprise"),
    ],
)  # fmt: skip
def test_invalid_settings_are_refused_naming_the_setting(change: dict, message: str) -> None:
    with pytest.raises(SettingsError) as err:
        S.with_changes(change)
    assert message in str(err.value)


def test_settings_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "mine.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"mine\.json: not valid JSON \(line 1"):
        Settings.from_file(bad)
    missing = json.loads(S.to_json())
    del missing["author"]
    bad.write_text(json.dumps(missing), encoding="utf-8")
    with pytest.raises(SettingsError, match=r"mine\.json: author: Field required"):
        Settings.from_file(bad)


def _one_person(**feature_values: object) -> pd.DataFrame:
    b = HistoryBuilder()
    b.incident("2026-06-01", "common_assault", suspect="P", victim="V")
    feats = compute_features(b.build(), T, S)
    for name, value in feature_values.items():
        feats[name] = value
    return feats


@pytest.mark.parametrize(
    ("days", "points"), [(0, 10), (30, 10), (31, 7), (90, 7), (180, 4), (365, 2), (366, 0)]
)
def test_recency_bands_include_their_limit(days: int, points: float) -> None:
    assert score_parts(_one_person(days_since_last=days), S)["score_recency"].iloc[0] == points


@pytest.mark.parametrize(
    ("attendances", "points"), [(0, 0), (1, 2), (2, 5), (3, 8), (4, 8), (7, 16), (50, 20)]
)
def test_frequency_bands_reached_at_their_threshold(attendances: int, points: float) -> None:
    parts = score_parts(_one_person(attendances_window=attendances), S)
    assert parts["score_frequency"].iloc[0] == points


def test_score_is_the_sum_of_its_parts_and_weights_scale_parts() -> None:
    feats = _one_person(harm_window=400.0, serial=True, victims_serial_window=5)
    table = rank(feats, S)
    assert table.loc[0, "score"] == pytest.approx(table.loc[0, list(PARTS)].sum())
    assert table.loc[0, "score_gravity"] == 10  # 400 days reaches the 365 band
    assert table.loc[0, "score_serial"] == 9  # 4 extra victims x 3 = 12, capped at 9
    heavier = S.with_changes({"gravity": {"weight": 2.0}})
    assert rank(feats, heavier).loc[0, "score_gravity"] == 20
    assert list(table.columns[: len(COHORT_COLUMNS)]) == COHORT_COLUMNS


def _cohort_history() -> pd.DataFrame:
    b = HistoryBuilder()
    for day in ("2026-02-01", "2026-03-01", "2026-04-01"):  # 3 attendances: meets the rule
        b.incident(day, "common_assault", suspect="THREE", victim="V1")
    b.incident("2026-05-01", "rape", suspect="ONE_GRAVE", victim="V2")  # 1 attendance, high harm
    b.incident("2026-05-02", "verbal_argument", suspect="ONE_MINOR", victim="V3", is_crime=False)
    for day in ("2025-01-01", "2025-02-01", "2025-03-01"):  # 3, but more than a year ago
        b.incident(day, "common_assault", suspect="STALE", victim="V4")
    return compute_features(b.build(), T, S)


def test_cohort_rule_by_attendances_or_score_with_reasons() -> None:
    table = rank(_cohort_history(), S).set_index("person_id")
    assert table.loc["THREE", "in_cohort"]
    assert table.loc["THREE", "reason"].startswith("In cohort: 3 attendances in 12 months")
    assert not table.loc["ONE_MINOR", "in_cohort"]
    assert "1 attendance in 12 months (rule: at least 3)" in table.loc["ONE_MINOR", "reason"]
    assert not table.loc["STALE", "in_cohort"]
    # Rape is 2,555 days: gravity 18 + recency 7 + frequency 2 = 27, and the rape is a serious
    # incident on record (history of serious harm: the 2,555 band, 10): 37 < 40.
    assert table.loc["ONE_GRAVE", "score_serious_history"] == 10
    assert table.loc["ONE_GRAVE", "score"] == 37 and not table.loc["ONE_GRAVE", "in_cohort"]
    assert table.loc["ONE_GRAVE", "reason"].endswith(
        "; history: a serious incident (harm 2555 days) 2 months ago"
    )
    by_score = S.with_changes({"cohort": {"min_attendances": None, "min_score": 25}})
    table2 = rank(_cohort_history(), by_score).set_index("person_id")
    assert table2.loc["ONE_GRAVE", "in_cohort"]
    assert table2.loc["ONE_GRAVE", "reason"] == (
        "In cohort: score 37.0 (rule: at least 25); "
        "history: a serious incident (harm 2555 days) 2 months ago"
    )
    # THREE scores 8 + 7 + 3 (30 days of harm) = 18 < 25: now out.
    assert not table2.loc["THREE", "in_cohort"]


def test_stale_person_meeting_the_count_is_out_with_the_reason() -> None:
    feats = _cohort_history()
    old = S.with_changes({"windows": {"window_days": 730}})
    feats_old = compute_features(_history_for_stale(), T, old)
    table = rank(feats_old, old).set_index("person_id")
    assert table.loc["STALE", "attendances_window"] == 3
    assert not table.loc["STALE", "in_cohort"]
    assert "last incident" in table.loc["STALE", "reason"]
    assert "STALE" in feats.index


def _history_for_stale():  # type: ignore[no-untyped-def]
    b = HistoryBuilder()
    for day in ("2025-01-01", "2025-02-01", "2025-03-01"):
        b.incident(day, "common_assault", suspect="STALE", victim="V4")
    return b.build()


def _three_over_two_years() -> object:
    b = HistoryBuilder()
    # Two incidents more than 12 months before T, one 121 days before it.
    for day in ("2024-09-01", "2025-03-01", "2026-03-01"):
        b.incident(day, "common_assault", suspect="P", victim="V")
    return b.build()


def test_reason_names_the_window_the_settings_give() -> None:
    history = _three_over_two_years()
    # 730 days back from the end of T (2026-07-01) is 2024-07-01: all three count.
    two_years = S.with_changes({"windows": {"window_days": 730}})
    table = rank(compute_features(history, T, two_years), two_years).set_index("person_id")
    assert table.loc["P", "attendances_window"] == 3
    assert table.loc["P", "reason"] == "In cohort: 3 attendances in 24 months (rule: at least 3)"
    # Default (365 days, from 2025-07-01): only 2026-03-01 counts. Score: recency 4
    # (121 days) + frequency 2 (1 attendance) + gravity 3 (10 days) = 9.
    table = rank(compute_features(history, T, S), S).set_index("person_id")
    assert table.loc["P", "reason"] == (
        "Not in cohort: 1 attendance in 12 months (rule: at least 3)"
        " and score 9.0 (rule: at least 40)"
    )
    # 180 days is not a whole number of months: said in days.
    half = S.with_changes({"windows": {"window_days": 180}})
    table = rank(compute_features(history, T, half), half).set_index("person_id")
    assert table.loc["P", "reason"].startswith("Not in cohort: 1 attendance in 180 days (rule")


def test_ranking_is_best_first_with_deterministic_ties() -> None:
    table = rank(_cohort_history(), S)
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert np.all(np.diff(table["score"].to_numpy()) <= 0)
    again = rank(_cohort_history().sample(frac=1, random_state=3), S)
    pd.testing.assert_frame_equal(table, again)


def test_changing_a_weight_reorders_without_recomputing_features() -> None:
    feats = _cohort_history()
    base = rank(feats, S)
    # ONE_GRAVE: recency 7 + frequency 2 + gravity 18 + serious history 10 (the rape) = 37;
    # THREE: 7 + 8 + 3 = 18.
    assert base.loc[0, "person_id"] == "ONE_GRAVE"
    # Frequency x 5: THREE 7 + 40 + 3 = 50 against ONE_GRAVE 7 + 10 + 18 + 10 = 45.
    reranked = rank(feats, S.with_changes({"frequency": {"weight": 5.0}}))
    assert reranked.loc[0, "person_id"] == "THREE"
    assert reranked.set_index("person_id").loc["THREE", "score"] == 50
