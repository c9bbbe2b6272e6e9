"""Features on hand-built histories, each answer reasoned out in the test.

As-of date throughout: 2026-06-30 (end of day). Default settings: the window
is the 365 days from 2025-07-01; the recent half-window starts 2025-12-31, the
prior half-window runs 2025-07-02 .. 2025-12-30; the serial window starts
2023-07-02; a new partner counts from 2026-04-02 (90 days).
"""

from __future__ import annotations

import pandas as pd
import pytest

from adapt.core.settings import default_settings
from adapt.features import FEATURES, compute_features
from adapt.scoring.score import rank
from tests.histories import HistoryBuilder

T = "2026-06-30"
S = default_settings()


def _features(b: HistoryBuilder, as_of: str = T) -> pd.DataFrame:
    return compute_features(b.build(), as_of, S)


def test_escalating_perpetrator_frequency_rises_severity_does_not() -> None:
    b = HistoryBuilder()
    b.incident("2025-09-01", "common_assault", suspect="P", victim="V")
    for month in ("01", "02", "03", "04", "05", "06"):
        b.incident(f"2026-{month}-10", "common_assault", suspect="P", victim="V")
    f = _features(b).loc["P"]
    assert f["attendances_window"] == 7
    assert f["recent_half"] == 6 and f["prior_half"] == 1
    # Under equal rates, recent | total ~ Binomial(7, 1/2): P(X >= 6) = (7 + 1) / 128.
    assert f["frequency_p_value"] == pytest.approx(8 / 128)
    assert f["frequency_rate_ratio"] == pytest.approx(6.5 / 1.5)
    assert f["frequency_escalating"] and not f["frequency_deescalating"]
    # Common assault is 10 CHI days in both halves: no severity escalation.
    assert f["severity_recent"] == 10 and f["severity_prior"] == 10
    assert f["severity_ratio"] == pytest.approx(1.0)
    assert not f["severity_escalating"]
    assert f["harm_window"] == 70
    assert f["days_since_last"] == 20  # 2026-06-10 to the end of 2026-06-30


def test_de_escalating_perpetrator() -> None:
    b = HistoryBuilder()
    for day in ("2025-07-20", "2025-08-20", "2025-09-20", "2025-10-20", "2025-11-20", "2025-12-20"):
        b.incident(day, "verbal_argument", suspect="P", victim="V", is_crime=False)
    b.incident("2026-03-01", "verbal_argument", suspect="P", victim="V", is_crime=False)
    f = _features(b).loc["P"]
    assert (f["recent_half"], f["prior_half"]) == (1, 6)
    assert f["frequency_deescalating"] and not f["frequency_escalating"]
    assert f["frequency_rate_ratio"] == pytest.approx(1.5 / 6.5)
    # Non-crimes are attendances with no harm.
    assert f["attendances_window"] == 7 and f["non_crimes_window"] == 7 and f["harm_window"] == 0


def test_severity_escalation_without_frequency_escalation() -> None:
    b = HistoryBuilder()
    b.incident("2025-08-01", "verbal_argument", suspect="P", victim="V")  # 1 day as a crime
    b.incident("2025-10-01", "verbal_argument", suspect="P", victim="V")
    b.incident("2026-02-01", "abh", suspect="P", victim="V", injury="minor")  # 365 days
    b.incident("2026-05-01", "abh", suspect="P", victim="V", injury="minor")
    f = _features(b).loc["P"]
    assert (f["recent_half"], f["prior_half"]) == (2, 2)
    assert not f["frequency_escalating"]  # P(X >= 2 | Bin(4, 1/2)) = 11/16
    assert f["frequency_p_value"] == pytest.approx(11 / 16)
    assert f["severity_ratio"] == pytest.approx((365 + 1) / (1 + 1))
    assert f["severity_escalating"]


def test_serial_perpetrator_with_three_partners_and_a_new_partner_alert() -> None:
    b = HistoryBuilder()
    b.incident("2024-03-01", "common_assault", suspect="P", victim="V1")
    b.incident("2024-05-01", "harassment", suspect="P", victim="V1", relationship="ex_partner")
    b.incident("2025-02-01", "abh", suspect="P", victim="V2")
    b.incident("2026-05-01", "common_assault", suspect="P", victim="V3")
    f = _features(b).loc["P"]
    assert f["victims_serial_window"] == 3 and f["incidents_serial_window"] == 4
    assert f["serial"]
    assert f["victims_total"] == 3
    assert f["victims_window"] == 1 and f["new_victims_window"] == 1  # only V3 since 2025-07-01
    assert f["new_partner_alert"]
    assert f["new_partner_first_at"] == pd.Timestamp("2026-05-01")
    table = rank(compute_features(b.build(), T, S), S).set_index("person_id")
    # 3 points per victim beyond the first: 2 x 3 = 6 (under the cap of 9).
    assert table.loc["P", "score_serial"] == 6


def test_one_victim_many_incidents_is_repeat_not_serial() -> None:
    b = HistoryBuilder()
    for day in ("2025-08-01", "2025-09-01", "2025-10-01"):
        b.incident(day, "common_assault", suspect="P", victim="V")
    f = _features(b).loc["P"]
    assert not f["serial"] and f["victims_serial_window"] == 1
    assert f["max_incidents_one_victim_window"] == 3 and f["repeat_victims_window"] == 1
    # A first victim is not a "new partner": there is no earlier victim.
    assert not f["new_partner_alert"]


def test_counter_allegation_pair_secondary_party_not_ranked_on_those_incidents() -> None:
    b = HistoryBuilder()
    b.incident("2026-01-05", "abh", suspect="A", victim="B", injury="minor")
    b.incident("2026-03-05", "common_assault", suspect="A", victim="B", injury="none")
    b.incident("2026-03-06", "common_assault", suspect="B", victim="A", injury="none")
    feats = _features(b)
    a, bb = feats.loc["A"], feats.loc["B"]
    # A caused 365 + 10 days of harm and an injury; B caused 10 days and none.
    assert a["counter_role"] == "predominant" and bb["counter_role"] == "secondary"
    assert a["counter_allegation"] and bb["counter_allegation"]
    assert a["counter_parties"] == "B" and bb["counter_parties"] == "A"
    assert a["attendances_window"] == 2 and a["harm_window"] == 375
    # B's only incident as suspect was against the predominant aggressor: left out.
    assert bb["attendances_window"] == 0 and bb["incidents_total"] == 0
    assert bb["counter_excluded_incidents"] == 1
    table = rank(feats, S).set_index("person_id")
    assert table.loc["B", "score"] == 0 and not table.loc["B", "in_cohort"]
    assert "counter-allegation" in table.loc["B", "reason"]
    assert table.loc["A", "rank"] < table.loc["B", "rank"]


def test_counter_allegation_secondary_still_counts_against_other_victims() -> None:
    b = HistoryBuilder()
    # B's incident against another partner (C) is now evidence that B may be the
    # predominant aggressor (adapt.rules.counter, weight 2): A's abh needs its
    # injury and DASH grading on record to outweigh it (harm, injury, DASH, first).
    b.incident("2026-01-05", "abh", suspect="A", victim="B", injury="minor", dash_risk="high")
    b.incident("2026-03-06", "common_assault", suspect="B", victim="A")
    b.incident("2026-04-06", "common_assault", suspect="B", victim="C")
    f = _features(b).loc["B"]
    assert f["counter_role"] == "secondary"
    assert f["attendances_window"] == 1  # the incident against C counts, the one against A not
    assert f["counter_excluded_incidents"] == 1


def test_equal_counter_allegation_is_unclear_and_both_keep_their_incidents() -> None:
    b = HistoryBuilder()
    # Same day: who was the suspect first is evidence too (adapt.rules.counter),
    # so an equal pair has its two incidents on one day.
    b.incident("2026-01-05", "common_assault", suspect="A", victim="B")
    b.incident("2026-01-05", "common_assault", suspect="B", victim="A")
    feats = _features(b)
    assert feats.loc["A", "counter_role"] == "unclear" == feats.loc["B", "counter_role"]
    assert feats.loc["A", "attendances_window"] == 1 == feats.loc["B", "attendances_window"]


def test_marac_repeat_caught_only_because_the_flag_was_late() -> None:
    b = HistoryBuilder()
    b.incident("2026-01-10", "abh", suspect="P", victim="V")  # the referral's own incident
    b.marac("2026-01-12", victim="V", perpetrator="P", flagged_at="2026-02-20")
    b.incident("2026-02-01", "unwanted_contact", suspect="P", victim="V")  # before the flag
    b.incident("2026-03-01", "breach_of_order", suspect="P", victim="V")  # after the flag
    f = _features(b).loc["P"]
    # Both later incidents are within 12 months of the referral: SafeLives repeats.
    assert f["marac_repeats_total"] == 2 and f["marac_repeats_window"] == 2
    # Only the one on 2026-02-01 happened before the flag went on: a late flag missed it.
    assert f["late_flag_repeats_total"] == 1
    assert f["marac_referrals_total"] == 1 and f["marac_referrals_window"] == 1
    assert f["last_marac_repeat_at"] == pd.Timestamp("2026-03-01")


def test_incident_more_than_12_months_after_referral_is_not_a_repeat() -> None:
    b = HistoryBuilder()
    b.marac("2024-01-01", victim="V", perpetrator="P", flagged_at="2024-01-01")
    b.incident("2025-03-01", "common_assault", suspect="P", victim="V")
    b.incident("2025-09-01", "common_assault", suspect="P", victim="W")  # another victim
    f = _features(b).loc["P"]
    assert f["marac_repeats_total"] == 0 and f["late_flag_repeats_total"] == 0


def test_marac_flag_never_set_means_every_repeat_was_missed() -> None:
    b = HistoryBuilder()
    b.marac("2026-01-01", victim="V", perpetrator="P", flagged_at=None)
    b.incident("2026-02-01", "common_assault", suspect="P", victim="V")
    f = _features(b).loc["P"]
    assert f["marac_repeats_total"] == 1 and f["late_flag_repeats_total"] == 1


def test_person_in_custody_is_managed_and_out_of_the_cohort() -> None:
    b = HistoryBuilder()
    for day in ("2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01"):
        b.incident(day, "abh", suspect="P", victim="V")
        b.incident(day, "abh", suspect="Q", victim="W")
    b.managed("P", "in_custody", "2026-01-01")  # still in custody
    b.managed("Q", "iom", "2025-01-01", "2025-12-31")  # ended before the date
    feats = _features(b)
    assert feats.loc["P", "managed_status"] == "in_custody"
    assert pd.isna(feats.loc["Q", "managed_status"])
    table = rank(feats, S).set_index("person_id")
    assert not table.loc["P", "in_cohort"]
    assert table.loc["P", "reason"] == "Not in cohort: already managed (in_custody)"
    assert table.loc["Q", "in_cohort"]  # 4 attendances >= 3
    # As of a date before custody began, P was not managed.
    assert pd.isna(_features(b, "2025-12-15").loc["P", "managed_status"])


def test_nothing_after_the_as_of_date_is_used() -> None:
    def base() -> HistoryBuilder:
        b = HistoryBuilder()
        b.incident("2025-09-01", "common_assault", suspect="P", victim="V")
        b.incident("2026-02-01", "abh", suspect="P", victim="V", weapon=True)
        b.marac("2026-02-03", victim="V", perpetrator="P", flagged_at=None)
        b.incident("2026-03-01", "common_assault", suspect="P", victim="V")
        b.incident("2026-04-01", "common_assault", suspect="V", victim="P")
        return b

    before = _features(base())
    later = base()
    # Everything below happens after the as-of date.
    later.incident("2026-07-01", "rape", suspect="P", victim="V")
    later.incident("2026-07-02", "gbh", suspect="P", victim="NEW")
    later.incident("2026-07-03", "homicide", suspect="V", victim="P")
    later.incident("2026-08-01", "abh", suspect="Z", victim="V")
    later.marac("2026-07-05", victim="V", perpetrator="P", flagged_at="2026-07-05")
    later.managed("P", "iom", "2026-07-01")
    after = _features(later)
    pd.testing.assert_frame_equal(before, after)
    assert "Z" not in after.index


def test_protected_columns_are_not_read() -> None:
    b = HistoryBuilder()
    b.incident("2026-01-05", "abh", suspect="A", victim="B", area="North", postcode="LE1 1AA")
    b.incident("2026-02-05", "abh", suspect="A", victim="C", area="South", postcode="LE2 2BB")
    history = b.build()
    plain = compute_features(history, T, S)
    inv = history.involvements.assign(
        gender="X", date_of_birth=pd.NaT, home_address=pd.NA, home_postcode=pd.NA
    )
    inc = history.incidents.assign(area=pd.NA, postcode=pd.NA, address=pd.NA)
    blanked = compute_features(type(history).build(inc, inv), T, S)
    pd.testing.assert_frame_equal(plain, blanked)


def test_columns_and_people_in_scope() -> None:
    b = HistoryBuilder()
    b.incident("2026-01-05", "common_assault", suspect="A", victim="B")
    b.incident("2026-01-06", "harassment", suspect=None, victim="C")  # no suspect recorded
    feats = _features(b)
    assert list(feats.columns) == list(FEATURES)
    assert list(feats.index) == ["A"]  # only people who were suspects
