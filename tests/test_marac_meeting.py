"""The MARAC meeting list, the victim page and the MARAC PDFs, as pure
functions on hand-built histories (each case says why it is, or is not,
on the list)."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
import pytest

from adapt.core.settings import default_settings
from adapt.exports import table_bytes
from adapt.views import marac, marac_meeting, victim
from tests.histories import HistoryBuilder
from tests.test_views_marac_tuning_data import pdf_lines

MEETING, SINCE = "2026-03-31", "2026-03-03"  # four weeks apart: the default interval
DAYS = pd.Timestamp


def _words_only(table: pd.DataFrame) -> None:
    """Plain words: no cell reads None, nan, NaT or <NA>, no column is snake_case."""
    text = table.astype(str)
    for bad in ("None", "nan", "NaT", "<NA>"):
        assert not text.apply(lambda c, b=bad: c.str.contains(rf"\b{b}\b")).any().any(), bad
    assert not [c for c in table.columns if "_" in c]


def _history():
    """Four referred pairs and the cases around them (meeting 31 Mar 2026, last
    meeting 3 Mar 2026, 12-month repeat window):

    * P1 → V1, referred 1 Oct 2025 and flagged the next day. Incidents on 2 and
      3 Mar (repeats, but not after the last meeting), 10 Mar and 20 Mar (ABH)
      (repeats since the last meeting, flag on: no late flag), 5 Apr (after the
      meeting: not known yet).
    * P2 → V2, referred 5 Mar 2026, flag on only on 25 Mar. Incidents on 5 Mar
      (the referral's own incident: not a repeat), 12 Mar (a repeat the late
      flag missed: 13 days before the flag), 28 Mar (a repeat, flag on).
    * P3 → V3, referred 1 Dec 2024. An incident on 15 Mar 2026 is 469 days
      later: outside the window, not a repeat. A referral on 2 Apr 2026 is
      after the meeting and ignored.
    * P4 → V4, referred 10 Jan 2026 and never flagged. An incident on 20 Mar is
      a repeat missed by the (missing) flag; the pair was referred again on
      22 Mar.
    * Serial: P1 is also named on V5's referral (25 Mar 2026) → two referred
      victims, new since the last meeting. P2 was a suspect against V6 in 2025,
      and V6 was referred (with P9 named) → P2 has two referred victims and
      incidents since. P5 has two referred victims (V7, V8) but nothing since
      the last meeting: not listed. P9 has one: not listed.
    """
    b = HistoryBuilder()
    b.incident("2026-03-02", suspect="P1", victim="V1")
    b.incident("2026-03-03", suspect="P1", victim="V1")
    b.incident("2026-03-10", "harassment", suspect="P1", victim="V1")
    b.incident("2026-03-20", "abh", suspect="P1", victim="V1")
    b.incident("2026-04-05", "gbh", suspect="P1", victim="V1")
    b.marac("2025-10-01", victim="V1", perpetrator="P1", flagged_at="2025-10-02")
    b.incident("2026-03-05", suspect="P2", victim="V2")
    late = b.incident("2026-03-12", "threats_to_kill", suspect="P2", victim="V2")
    b.incident("2026-03-28", "verbal_argument", suspect="P2", victim="V2", is_crime=False)
    b.marac("2026-03-05", victim="V2", perpetrator="P2", flagged_at="2026-03-25")
    b.incident("2026-03-15", suspect="P3", victim="V3")
    b.marac("2024-12-01", victim="V3", perpetrator="P3", flagged_at="2024-12-01")
    b.marac("2026-04-02", victim="V3", perpetrator="P3", flagged_at=None)
    never = b.incident("2026-03-20", "stalking", suspect="P4", victim="V4")
    b.marac("2026-01-10", victim="V4", perpetrator="P4", flagged_at=None)
    b.marac("2026-03-22", victim="V4", perpetrator="P4", flagged_at="2026-03-22")
    b.marac("2026-03-25", victim="V5", perpetrator="P1", flagged_at="2026-03-26")
    b.incident("2025-07-01", suspect="P2", victim="V6")
    b.marac("2025-06-01", victim="V6", perpetrator="P9", flagged_at="2025-06-01")
    b.incident("2024-02-01", suspect="P5", victim="V7")
    b.incident("2024-03-01", suspect="P5", victim="V8")
    b.marac("2024-02-02", victim="V7", perpetrator="P5", flagged_at="2024-02-02")
    b.marac("2024-03-02", victim="V8", perpetrator="P5", flagged_at="2024-03-02")
    return b.build(), late, never


def _list(**changes):  # type: ignore[no-untyped-def]
    history, _, _ = _history()
    settings = default_settings().with_changes(changes) if changes else default_settings()
    return marac_meeting.meeting_list(history, MEETING, SINCE, settings=settings)


def test_repeats_since_the_last_meeting() -> None:
    ml = _list()
    cases = ml.repeats.set_index(["perpetrator_id", "victim_id"])
    # P3/V3 (outside the window) is not a case; P1, P2 and P4 are
    assert sorted(cases.index) == [("P1", "V1"), ("P2", "V2"), ("P4", "V4")]
    p1 = cases.loc[("P1", "V1")]
    # 2 and 3 March are repeats but not after the last meeting; 5 April is after this one
    assert p1["repeat_incidents"] == 2
    assert (p1["first_repeat_at"], p1["last_repeat_at"]) == (DAYS("2026-03-10"), DAYS("2026-03-20"))
    assert p1["most_serious_offence"] == "abh"
    assert p1["late_flag_missed"] == 0 and pd.isna(p1["referred_again_on"])
    p2 = cases.loc[("P2", "V2")]
    # the referral's own incident (5 March) is not a repeat of it
    assert p2["repeat_incidents"] == 2 and p2["late_flag_missed"] == 1
    assert p2["referral_id"] == "M0002" and p2["flagged_at"] == DAYS("2026-03-25")
    p4 = cases.loc[("P4", "V4")]
    assert p4["referred_again_on"] == DAYS("2026-03-22")  # the pair came back
    table = marac_meeting.repeats_table(ml, {"V1": "Vera One (V1)"})
    assert table["Victim"].iloc[list(ml.repeats["victim_id"]).index("V1")] == "Vera One (V1)"
    assert set(table["Referred again"]) >= {"not yet", "22/03/2026"}
    assert "Actual bodily harm (ABH)" in set(table["Most serious"])
    _words_only(table)


def test_incidents_a_late_flag_missed() -> None:
    history, late, never = _history()
    ml = marac_meeting.meeting_list(history, MEETING, SINCE, settings=default_settings())
    flags = ml.late_flags.set_index("incident_id")
    # P2's 12 March incident: flag put on 13 days later; P4's: no flag was ever recorded.
    # P2's 28 March incident is a repeat with the flag on: not here.
    assert sorted(flags.index) == sorted([late, never])
    assert flags.loc[late, "flag_days_after_incident"] == 13
    assert pd.isna(flags.loc[never, "flag_days_after_incident"])
    table = marac_meeting.late_flags_table(ml, {})
    assert set(table["Flag on"]) == {"25/03/2026", "not recorded"}
    assert set(table["Offence"]) == {"Threats to kill", "Stalking"}
    _words_only(table)


def test_perpetrators_with_more_than_one_referred_victim() -> None:
    ml = _list()
    serial = ml.serial.set_index("perpetrator_id")
    # P1: V1 and V5 (named on V5's referral); P2: V2, and V6 as a suspect against her.
    # P5 has two referred victims but nothing since the last meeting; P9 only one.
    assert sorted(serial.index) == ["P1", "P2"]
    assert serial.loc["P1", "victim_ids"] == ["V1", "V5"]
    assert serial.loc["P1", "referrals_since"] == 1  # V5's on 25 March
    assert serial.loc["P2", "victim_ids"] == ["V2", "V6"]
    assert serial.loc["P2", "incidents_since"] == 3  # 5, 12 and 28 March
    assert serial.loc["P2", "referrals_since"] == 1  # V2's on 5 March
    table = marac_meeting.serial_table(ml, {"V5": "Vi Five (V5)"})
    assert "V1; Vi Five (V5)" in set(table["Victims"])
    _words_only(table)
    # with the last meeting a year earlier, P5 (referrals in 2024) is still not new;
    # with it before February 2024 P5 is listed too
    history, _, _ = _history()
    early = marac_meeting.meeting_list(history, MEETING, "2024-01-01", settings=default_settings())
    assert "P5" in set(early.serial["perpetrator_id"])


def test_window_dates_and_defaults() -> None:
    history, _, _ = _history()
    # the default last meeting is one review interval (28 days) before
    default = marac_meeting.meeting_list(history, MEETING, settings=default_settings())
    assert default.since == DAYS(SINCE)
    fortnight = default_settings().with_changes({"cycle": {"review_interval_days": 14}})
    assert marac_meeting.meeting_list(history, MEETING, settings=fortnight).since == DAYS(
        "2026-03-17"
    )
    # the repeat window comes from the settings in force: in 60 days P1's March incidents
    # (160 days after the October referral) are no longer repeats
    short = _list(windows={"marac_repeat_days": 60})
    assert "V1" not in set(short.repeats["victim_id"])
    assert short.repeat_days == 60
    with pytest.raises(ValueError, match="before this meeting"):
        marac_meeting.meeting_list(history, MEETING, MEETING, settings=default_settings())
    # a meeting with nothing new: empty sections, typed, and an empty export
    quiet = marac_meeting.meeting_list(history, "2023-06-01", settings=default_settings())
    assert quiet.empty and quiet.people() == []
    assert list(marac_meeting.export_table(quiet, {}).columns)[:2] == ["section", "victim"]


def test_the_export_is_one_table_with_the_section_in_words() -> None:
    ml = _list()
    names = {"V1": "Vera One (V1)", "P1": "Paul One (P1)"}
    out = marac_meeting.export_table(ml, names)
    assert len(out) == len(ml.repeats) + len(ml.late_flags) + len(ml.serial)
    assert set(out["section"]) == set(marac_meeting.SECTIONS.values())
    first = out[(out["section"] == marac_meeting.SECTIONS["repeats"]) & (out["victim_id"] == "V1")]
    assert first["victim"].iloc[0] == "Vera One" and first["perpetrator"].iloc[0] == "Paul One"
    assert first["last_repeat"].iloc[0] == DAYS("2026-03-20")  # dates stay dates
    csv = table_bytes(out, ".csv").decode("utf-8-sig")
    assert "Incident a late flag missed" in csv and "2026-03-12" in csv
    assert "nan" not in csv and "NaT" not in csv and "None" not in csv
    assert set(ml.people()) >= {"P1", "V1", "P2", "V2", "P4", "V4", "V5", "V6"}
    assert "P1" not in ml.victims() and "V6" in ml.victims()


# ------------------------------------------------------------------ victim page
def test_a_victim_page_on_a_hand_built_history() -> None:
    """V2: P2's incidents (one a repeat the late flag missed), one incident with
    no suspect recorded, a referral naming P7 who has no incident with her;
    P2's other victim V6 (an incident) and P7's other victim V9 (a referral only).
    V2 was also a suspect once (against P2)."""
    b = HistoryBuilder()
    b.incident("2026-03-05", suspect="P2", victim="V2")
    b.incident("2026-03-12", "threats_to_kill", suspect="P2", victim="V2")
    b.incident("2026-03-14", "criminal_damage", victim="V2")
    b.incident("2026-03-16", suspect="V2", victim="P2")
    b.incident("2025-07-01", suspect="P2", victim="V6")
    b.marac("2026-03-05", victim="V2", perpetrator="P2", flagged_at="2026-03-25")
    b.marac("2026-01-05", victim="V2", perpetrator="P7", flagged_at=None)
    b.marac("2025-01-05", victim="V9", perpetrator="P7", flagged_at="2025-01-05")
    view = victim.victim_view(b.build(), "V2", "2026-03-31", settings=default_settings())

    assert view.incidents["incident_id"].nunique() == 3 and view.as_suspect == 1
    no_suspect = view.incidents[view.incidents["perpetrator_id"].isna()]
    assert list(no_suspect["offence"]) == ["criminal_damage"]
    repeat = view.incidents[view.incidents["repeat_of"].notna()]
    assert list(repeat["repeat_of"]) == ["M0001"] and list(repeat["late_flag"]) == [True]
    perps = view.perpetrators.set_index("perpetrator_id")
    assert list(perps.index) == ["P7", "P2"]  # first seen first: P7's referral in January
    assert perps.loc["P2", "incidents"] == 2 and perps.loc["P7", "incidents"] == 0
    assert perps.loc["P2", "late_flag_missed"] == 1 and perps.loc["P7", "referrals"] == 1
    others = view.other_victims.set_index(["perpetrator_id", "victim_id"])
    assert sorted(others.index) == [("P2", "V6"), ("P7", "V9")]
    assert others.loc[("P2", "V6"), "incidents"] == 1
    assert others.loc[("P7", "V9"), "referrals"] == 1
    assert sorted(view.people()) == ["P2", "P7", "V6", "V9"]

    names = {"P2": "Pat Two (P2)"}
    timeline = victim.timeline_table(view, names)
    assert list(timeline["Date"])[:3] == ["05/01/2026", "05/03/2026", "05/03/2026"]
    assert "Incident: Criminal damage" in set(timeline["What"])
    assert "no suspect recorded" in set(timeline["Perpetrator"])
    assert any("late flag" in d for d in timeline["Details"])
    assert any("flag on not recorded" in d for d in timeline["Details"])
    _words_only(timeline)
    _words_only(victim.perpetrators_table(view, names))
    _words_only(victim.other_victims_table(view, names, "P7"))
    words = victim.summary_words(view)
    assert "3 incidents as a victim" in words and "suspect in 1 incident." in words
    assert len(victim.timeline_figure(view, names).data) >= 3  # two perpetrators' marks + none


# ------------------------------------------------------------------- the PDFs
def test_the_meeting_list_pdf_wraps_and_counts_what_it_cuts() -> None:
    b = HistoryBuilder()
    long_name = "Bartholomew-Maximilian " * 6 + "Featherstonehaugh"
    for n in range(70):  # 70 repeats the missing flag missed, one pair each
        b.incident(f"2026-03-{10 + n % 15:02d}", suspect=f"S{n:03d}", victim=f"W{n:03d}")
        b.marac("2026-02-01", victim=f"W{n:03d}", perpetrator=f"S{n:03d}", flagged_at=None)
    ml = marac_meeting.meeting_list(b.build(), MEETING, SINCE, settings=default_settings())
    assert len(ml.late_flags) == 70
    names = {"W014": f"{long_name} (W014)"}  # on the latest day: near the top
    pdf = marac_meeting.meeting_list_pdf(
        ml, names, generated_by="A Chair", generated_at=datetime(2026, 3, 30, 9, 0),
        purpose="MARAC meeting", recipient="Meeting", marking="OFFICIAL-SENSITIVE",
    )  # fmt: skip
    lines = pdf_lines(pdf)
    text = "\n".join(lines)
    # sections are cut at 60 rows and say how many more, and where they are
    assert "… and 10 more incidents (all of them are in the CSV or XLSX export)" in text
    assert "… and 10 more cases" in text
    # the long name wraps onto a second line instead of running off the page
    wrapped = [ln for ln in lines if "Featherstonehaugh" in ln]
    assert wrapped and all(len(ln) < 120 for ln in lines)
    assert any("Bartholomew" in ln for ln in lines if "Featherstonehaugh" not in ln)
    assert re.search(r"Page 1 of \s*\d+", text)  # the total is drawn as a piece of its own
    assert "OFFICIAL-SENSITIVE" in text
    assert "Nothing since the last meeting." in text and "None" not in text


def test_the_check_pdf_says_and_n_more_for_every_cut() -> None:
    b = HistoryBuilder()
    for n in range(9):  # P1 has nine victims; six are printed
        b.incident(f"2025-0{1 + n % 9}-10", suspect="P1", victim=f"V{n}",
                   address=f"{n} Long Road")  # fmt: skip
        b.marac(f"2025-0{1 + n % 9}-11", victim=f"V{n}", perpetrator="P1", flagged_at=None)
    for n in range(40):  # and V0 was a victim of forty more perpetrators: the page fills
        b.incident("2025-10-01", suspect=f"Q{n:02d}", victim="V0")
    history = b.build()
    check = marac.marac_check(history, "V0", settings=default_settings())
    pdf = marac.summary_pdf(
        check, {}, generated_by="A Chair", generated_at=datetime(2026, 1, 2, 3, 4),
        purpose="MARAC meeting", recipient="Meeting", marking="OFFICIAL",
    )  # fmt: skip
    assert b"/Count 1" in pdf  # still one page
    text = "\n".join(pdf_lines(pdf))
    assert "… and 3 more victims (see the MARAC check on screen)" in text
    assert "… and 7 more addresses" in text  # nine incident addresses and a home: 3 shown
    assert "… and 5 more earlier referrals" in text
    assert re.search(r"… and .*\d+ more perpetrators: no room on this sheet", text)
    assert "flag on not recorded" in text
    assert "None" not in text and "nan" not in text and "NaT" not in text


def test_empty_histories_and_a_victim_known_only_from_a_referral() -> None:
    b = HistoryBuilder()
    b.incident("2025-01-01", suspect="P1", victim="V1")
    b.marac("2025-02-01", victim="V2", perpetrator=None, flagged_at=None)
    history = b.build()
    referral_only = victim.victim_view(history, "V2", "2025-03-01", settings=default_settings())
    timeline = victim.timeline_table(referral_only, {})
    assert list(timeline["What"]) == ["MARAC referral"]
    assert list(timeline["Perpetrator"]) == ["not recorded"]
    assert referral_only.perpetrators.empty and referral_only.people() == []
    _words_only(timeline)
    nobody = victim.victim_view(history, "P9", "2025-03-01", settings=default_settings())
    assert victim.timeline_table(nobody, {}).empty
    assert victim.summary_words(nobody).startswith("0 incidents as a victim; 0 perpetrators")
    empty = HistoryBuilder()
    empty.incident("2020-01-01", suspect="P1", victim="V1")
    ml = marac_meeting.meeting_list(empty.build(), "2026-01-01", settings=default_settings())
    assert ml.empty
    pdf = marac_meeting.meeting_list_pdf(
        ml, {}, generated_by="A", generated_at=datetime(2026, 1, 1), purpose="MARAC meeting",
        recipient="r", marking="OFFICIAL",
    )  # fmt: skip
    assert "\n".join(pdf_lines(pdf)).count("Nothing since the last meeting.") == 3
