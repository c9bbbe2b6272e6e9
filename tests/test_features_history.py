"""Whole-history features and the history-of-serious-harm part, on hand-built
histories, each answer reasoned out in the test.

As-of date throughout: 2026-06-30 (end of day), so the cutoff is 2026-07-01
00:00. Default settings: the short window (90 days) starts 2026-04-02, the
main window (365 days) 2025-07-01, the long window (1,095 days) 2023-07-02;
the trend's baseline is the 1,095 days before the main window, 2022-07-02 ..
2025-06-30. A serious incident has harm of at least 365 CHI days (abh and
strangulation 365, gbh 1,095, rape 2,555; common assault 10).
"""

from __future__ import annotations

import pandas as pd
import pytest

from adapt.core.settings import default_settings
from adapt.features import FEATURES, compute_features
from adapt.scoring.export import cohort_export_frame
from adapt.scoring.score import COHORT_COLUMNS, PART_LABELS, PARTS, rank, score_parts
from tests.histories import HistoryBuilder

T = "2026-06-30"
S = default_settings()


def _old_rape_and_recent_assault() -> HistoryBuilder:
    b = HistoryBuilder()
    b.incident("2024-06-20", "rape", suspect="P", victim="V")  # 740 days before T
    b.incident("2026-05-01", "common_assault", suspect="P", victim="V")
    return b


def test_a_serious_incident_two_years_ago_counts_for_life_not_in_12_months() -> None:
    f = compute_features(_old_rape_and_recent_assault().build(), T, S).loc["P"]
    # Lifetime: both incidents, the rape serious (2,555 >= 365).
    assert f["incidents_total"] == 2 and f["victims_total"] == 1
    assert f["serious_incidents_total"] == 1
    assert f["max_harm_total"] == 2555 and f["harm_total"] == 2565
    assert f["last_serious_at"] == pd.Timestamp("2024-06-20")
    # 2024-06-20 to 2025-06-20 is 365 days, to 2026-06-20 730, to 2026-06-30 740.
    assert f["days_since_last_serious"] == 740
    # The last 12 months hold only the common assault (10 days).
    assert f["serious_incidents_window"] == 0
    assert f["attendances_window"] == 1 and f["harm_window"] == 10
    assert f["max_harm_window"] == 10
    # 3 years (from 2023-07-02) hold both; 90 days (from 2026-04-02) the assault only.
    assert f["attendances_long"] == 2 and f["harm_long"] == 2565
    assert f["attendances_short"] == 1 and f["harm_short"] == 10


def test_an_incident_after_the_as_of_date_counts_nowhere() -> None:
    before = compute_features(_old_rape_and_recent_assault().build(), T, S)
    later = _old_rape_and_recent_assault()
    later.incident("2026-07-01", "homicide", suspect="P", victim="V")  # the day after T
    later.incident("2026-09-01", "gbh", suspect="P", victim="W")
    after = compute_features(later.build(), T, S)
    pd.testing.assert_frame_equal(before, after)
    assert after.loc["P", "serious_incidents_total"] == 1
    assert after.loc["P", "max_harm_total"] == 2555  # not the homicide's 5,475
    # As of the homicide's own date it counts (the end of the day is included).
    on_the_day = compute_features(later.build(), "2026-07-01", S).loc["P"]
    assert on_the_day["serious_incidents_total"] == 2
    assert on_the_day["days_since_last_serious"] == 0
    assert on_the_day["max_harm_total"] == 5475


def test_window_edges_include_their_first_day() -> None:
    b = HistoryBuilder()
    b.incident("2023-07-01", "common_assault", suspect="P", victim="V")  # a day before 3 years
    b.incident("2023-07-02", "common_assault", suspect="P", victim="V")  # first day of 3 years
    b.incident("2026-04-01", "common_assault", suspect="P", victim="V")  # a day before 90 days
    b.incident("2026-04-02", "common_assault", suspect="P", victim="V")  # first day of 90 days
    f = compute_features(b.build(), T, S).loc["P"]
    assert f["attendances_short"] == 1 and f["harm_short"] == 10
    assert f["attendances_long"] == 3 and f["harm_long"] == 30
    assert f["incidents_total"] == 4 and f["harm_total"] == 40
    assert f["serious_incidents_total"] == 0 and f["days_since_last_serious"] == -1
    # Settings move the windows: 30 days (from 2026-06-01) hold none of them.
    narrow = S.with_changes({"windows": {"short_days": 30, "long_days": 365}})
    g = compute_features(b.build(), T, narrow).loc["P"]
    assert g["attendances_short"] == 0
    assert g["attendances_long"] == 2  # the long window is now the main one: the two of 2026


def test_trend_sets_the_last_12_months_against_the_yearly_average_before() -> None:
    b = HistoryBuilder()
    # Three common assaults in the 3 years before the window (2022-07-02 .. 2025-06-30),
    # one a year on average; four in the last 12 months.
    for day in ("2022-08-01", "2023-08-01", "2024-08-01"):
        b.incident(day, "common_assault", suspect="P", victim="V")
    for day in ("2025-08-01", "2025-11-01", "2026-02-01", "2026-05-01"):
        b.incident(day, "common_assault", suspect="P", victim="V")
    # Q: one incident before 2022-07-02 (outside the baseline span), none since.
    b.incident("2022-06-01", "abh", suspect="Q", victim="W")
    feats = compute_features(b.build(), T, S)
    p = feats.loc["P"]
    # (4 + 0.5) / (3 x 365/1095 + 0.5) = 4.5 / 1.5 = 3.
    assert p["attendances_trend"] == pytest.approx(3.0)
    # Harm: (40 + 1) / (30 x 365/1095 + 1) = 41 / 11.
    assert p["harm_trend"] == pytest.approx(41 / 11)
    q = feats.loc["Q"]
    # Nothing in the window and nothing in the baseline span: (0 + 0.5) / (0 + 0.5).
    assert q["attendances_trend"] == pytest.approx(1.0) and q["harm_trend"] == pytest.approx(1.0)
    # The abh four years ago is still on Q's lifetime record, and serious.
    assert q["serious_incidents_total"] == 1 and q["attendances_long"] == 0


def test_the_serious_harm_threshold_is_a_setting() -> None:
    b = HistoryBuilder()
    b.incident("2024-01-10", "rape", suspect="P", victim="V")
    b.incident("2024-03-10", "strangulation", suspect="P", victim="V")  # 365 days of harm
    b.incident("2025-01-10", "threats_to_kill", suspect="P", victim="V")  # 180
    assert compute_features(b.build(), T, S).loc["P", "serious_incidents_total"] == 2
    high = S.with_changes({"serious_history": {"threshold_days": 2555}})
    assert compute_features(b.build(), T, high).loc["P", "serious_incidents_total"] == 1
    low = S.with_changes({"serious_history": {"threshold_days": 100}})
    f = compute_features(b.build(), T, low).loc["P"]
    assert f["serious_incidents_total"] == 3
    # 2025-01-10 to 2026-01-10 is 365 days, to 2026-06-30 another 171: 536.
    assert f["days_since_last_serious"] == 536


def test_counter_allegation_secondary_party_has_no_serious_history_from_it() -> None:
    b = HistoryBuilder()
    b.incident("2026-01-05", "gbh", suspect="A", victim="B", injury="serious")
    b.incident("2026-01-06", "abh", suspect="B", victim="A", injury="minor")
    feats = compute_features(b.build(), T, S)
    # B is the secondary party: the abh against A is left out of every feature.
    assert feats.loc["B", "serious_incidents_total"] == 0
    assert feats.loc["B", "days_since_last_serious"] == -1
    assert feats.loc["A", "serious_incidents_total"] == 1


# --------------------------------------------------------------- the score part
def _issue_example() -> pd.DataFrame:
    """The issue's example: a man with a rape and a strangulation two years ago
    and two attendances this year, and a man with five verbal arguments this year."""
    b = HistoryBuilder()
    b.incident("2024-06-15", "rape", suspect="SERIOUS", victim="V1")
    b.incident("2024-07-20", "strangulation", suspect="SERIOUS", victim="V1")
    b.incident("2026-03-10", "common_assault", suspect="SERIOUS", victim="V1")
    b.incident("2026-06-01", "common_assault", suspect="SERIOUS", victim="V1")
    for month in ("02", "03", "04", "05", "06"):
        b.incident(f"2026-{month}-01", "verbal_argument", suspect="VERBAL", victim="V2",
                   is_crime=False)  # fmt: skip
    return compute_features(b.build(), T, S)


def test_the_issue_example_ranks_the_serious_history_first() -> None:
    feats = _issue_example()
    table = rank(feats, S).set_index("person_id")
    s, v = table.loc["SERIOUS"], table.loc["VERBAL"]
    # VERBAL: last argument 29 days ago (recency 10), 5 attendances (frequency 12), no harm
    # (non-crimes), all 5 in the recent half and none before: P = 1/32 <= 0.1, frequency
    # escalation 5. 27 in all.
    assert (v["score_recency"], v["score_frequency"], v["score_gravity"]) == (10, 12, 0)
    assert v["score_frequency_escalation"] == 5 and v["score_serious_history"] == 0
    assert v["score"] == 27
    # SERIOUS: recency 10 (29 days), frequency 5 (2 attendances), gravity 3 (20 days). Within
    # 12 months that is 18 and the old score ranked him below VERBAL. The serious history:
    # the rape reaches the 2,555 band (10) and the strangulation is a second serious incident
    # (+3): 13, under the cap of 16. 31 in all.
    assert (s["score_recency"], s["score_frequency"], s["score_gravity"]) == (10, 5, 3)
    assert s["score_serious_history"] == 13
    assert s["score"] == 31
    assert s["rank"] == 1 and v["rank"] == 2
    # Turn the part off and the order is the old one.
    off = rank(feats, S.with_changes({"serious_history": {"weight": 0}})).set_index("person_id")
    assert off.loc["SERIOUS", "score"] == 18 and off.loc["VERBAL", "rank"] == 1


def test_serious_history_part_bands_extra_incidents_cap_and_weight() -> None:
    feats = _issue_example().loc[["SERIOUS"]].copy()

    def points(settings=S, **values: object) -> float:  # type: ignore[no-untyped-def]
        f = feats.assign(**values)
        return float(score_parts(f, settings)["score_serious_history"].iloc[0])

    assert points(serious_incidents_total=0, max_harm_total=10.0) == 0
    assert points(serious_incidents_total=1, max_harm_total=365.0) == 4
    assert points(serious_incidents_total=1, max_harm_total=1095.0) == 6
    assert points(serious_incidents_total=1, max_harm_total=5475.0) == 10
    # 10 + 3 x 3 = 19, capped at 16.
    assert points(serious_incidents_total=4, max_harm_total=2555.0) == 16
    half = S.with_changes({"serious_history": {"weight": 0.5}})
    assert points(half, serious_incidents_total=4, max_harm_total=2555.0) == 8


def test_the_reason_says_the_serious_history_in_words() -> None:
    b = HistoryBuilder()
    b.incident("2024-06-20", "rape", suspect="ONE", victim="V")  # 740 days: 2 years
    for day in ("2026-04-01", "2026-05-01", "2026-06-01"):
        b.incident(day, "common_assault", suspect="ONE", victim="V")
    b.incident("2025-01-10", "gbh", suspect="TWO", victim="W")
    b.incident("2026-03-01", "abh", suspect="TWO", victim="W")  # 121 days: 4 months
    b.incident("2026-05-01", "common_assault", suspect="NONE", victim="X")
    table = rank(compute_features(b.build(), T, S), S).set_index("person_id")
    assert table.loc["ONE", "reason"] == (
        "In cohort: 3 attendances in 12 months (rule: at least 3); "
        "history: a serious incident (harm 2555 days) 2 years ago"
    )
    assert table.loc["TWO", "reason"].endswith(
        "; history: 2 serious incidents (largest harm 1095 days), the last 4 months ago"
    )
    assert "history" not in table.loc["NONE", "reason"]


def test_the_new_part_flows_through_the_registry() -> None:
    assert "score_serious_history" in PARTS and set(PART_LABELS) == set(PARTS)
    assert "score_serious_history" in COHORT_COLUMNS
    new = ("serious_incidents_total", "max_harm_total", "days_since_last_serious",
           "attendances_short", "attendances_long", "harm_total", "attendances_trend")  # fmt: skip
    assert set(new) <= set(FEATURES)
    exported = cohort_export_frame(rank(_issue_example(), S))
    assert list(exported.columns[: len(COHORT_COLUMNS)]) == COHORT_COLUMNS
    row = exported.set_index("person_id").loc["SERIOUS"]
    assert row["score_serious_history"] == 13 and row["serious_incidents_total"] == 2
