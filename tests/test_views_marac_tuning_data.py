"""The pure view functions behind the MARAC check, Tuning, Data and Audit pages."""

from __future__ import annotations

import re
import zlib
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from adapt.core.settings import SettingsError, default_settings
from adapt.views import audit as audit_view
from adapt.views import data as data_view
from adapt.views import marac, tuning
from tests.histories import HistoryBuilder


def _name_rows() -> pd.DataFrame:
    rows = [
        ("P1", "suspect", "John", "Smith", "1980-01-02", "NM001", "I00001"),
        ("P1", "suspect", "Johnny", "Smith", "1980-01-02", None, "I00002"),
        ("P2", "victim", "Jane", "Doe", "1985-04-02", "NM002", "I00001"),
        ("P3", "victim", "Zoë", "Smythe-Brown", "1990-07-07", None, "I00003"),
        ("P4", "suspect", "Mark", "Jones", None, None, "I00003"),
        ("P5", "victim", "Joan", "Smart", "1979-03-03", None, "I00004"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["person_id", "role", "forename", "surname", "date_of_birth", "person_ref",
                 "source_id"],
    )  # fmt: skip
    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"])
    return frame


def _repeat_case():
    """P1 abuses V1; referral on 1 Mar 2025 flagged on 20 Mar. Incidents on
    the referral day (not a repeat), 10 Mar (a repeat the late flag missed),
    1 Jun (a repeat, flagged), and 5 Mar 2026 (more than 12 months: not one).
    P1 also had V2 in 2023 (a past victim)."""
    b = HistoryBuilder()
    b.incident("2023-05-01", suspect="P1", victim="V2", address="2 Old Road")
    b.incident("2025-03-01", suspect="P1", victim="V1", address="1 New Street")
    b.incident("2025-03-10", suspect="P1", victim="V1", address="1 New Street")
    b.incident("2025-06-01", suspect="P1", victim="V1", address="1 New Street")
    b.incident("2026-03-05", suspect="P1", victim="V1", address="1 New Street")
    b.marac("2025-03-01", victim="V1", perpetrator="P1", flagged_at="2025-03-20")
    return b.build()


def test_name_search_tolerates_typos_and_surname_only() -> None:
    index = marac.build_name_index(_name_rows())
    history = _repeat_case()
    found = marac.search(index, history, "Jon Smyth")
    assert found["person_id"].iloc[0] == "P1"
    assert marac.search(index, history, "Smith John")["person_id"].iloc[0] == "P1"
    surname = marac.search(index, history, "smith")
    assert "P1" in set(surname["person_id"]) and "P2" not in set(surname["person_id"])
    assert "P3" in set(marac.search(index, history, "Zoe Smythe Brown")["person_id"])
    assert marac.search(index, history, "Jon Smyth", side="Victim").empty
    assert list(marac.search(index, history, "nm002")["person_id"]) == ["P2"]
    assert list(marac.search(index, history, "", date_of_birth=date(1985, 4, 2))["person_id"]) == [
        "P2"
    ]
    # Referral M0001 names V1 and P1; only P1 has name rows, so only P1 is found.
    refs = marac.search(marac.build_name_index(_name_rows()), history, "M0001")
    assert list(refs["person_id"]) == ["P1"]
    assert marac.result_person(found, [0]) == "P1"
    assert marac.result_person(found, [99]) is None


def test_repeat_dates_on_a_hand_built_case() -> None:
    history = _repeat_case()
    check = marac.marac_check(history, "V1", as_of="2026-03-31", settings=default_settings())
    assert check.perpetrators == ["P1"]
    victims = check.victims.set_index("victim_id")
    assert set(victims.index) == {"V1", "V2"}
    assert victims.loc["V1", "current"] and not victims.loc["V2", "current"]
    reps = check.repeat_incidents
    assert [d.strftime("%Y-%m-%d") for d in reps["occurred_at"]] == ["2025-03-10", "2025-06-01"]
    assert list(reps["late_flag"]) == [True, False]
    assert list(reps["days_after_referral"]) == [9, 92]
    status = check.repeat_status.iloc[0]
    assert status["repeat"] and status["repeat_incidents"] == 2 and status["late_flag_missed"] == 1
    assert status["repeat_window_ends"] == pd.Timestamp("2026-03-01")
    assert not status["window_open"]
    assert len(check.late_flag_missed) == 1
    assert set(check.addresses["address"]) == {"1 New Street", "2 Old Road", "1 Some Street"}
    assert check.referrals["flag_lag_days"].tolist() == [19]


def test_a_perpetrator_check_lists_their_victims() -> None:
    check = marac.marac_check(_repeat_case(), "P1", settings=default_settings())
    assert check.perpetrators == ["P1"]
    assert set(check.victims["victim_id"]) == {"V1", "V2"}


def test_the_marac_check_uses_the_repeat_window_in_force() -> None:
    # The 2025-06-01 repeat is 92 days after the 2025-03-01 referral: a
    # 90-day window leaves only the 10 March repeat.
    short = default_settings().with_changes({"windows": {"marac_repeat_days": 90}})
    check = marac.marac_check(_repeat_case(), "V1", as_of="2026-03-31", settings=short)
    assert [d.strftime("%Y-%m-%d") for d in check.repeat_incidents["occurred_at"]] == ["2025-03-10"]
    assert check.repeat_status.iloc[0]["repeat_window_ends"] == pd.Timestamp("2025-05-30")
    assert check.repeat_days == 90


def _inflate(body: bytes) -> bytes:
    found = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, flags=re.S)
    if not found:
        return b""
    try:
        return zlib.decompress(found.group(1))
    except zlib.error:
        return found.group(1)


def _unescape(literal: bytes) -> bytes:
    """A PDF string literal's bytes (backslash escapes undone)."""
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(m: re.Match) -> bytes:
        esc = m.group(1)
        if esc[:1].isdigit():
            return bytes([int(esc, 8) & 0xFF])
        return simple.get(esc, esc)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def pdf_lines(pdf: bytes) -> list[str]:
    """The text a PDF reader extracts, one string per text-showing operator:
    each font's glyph ids mapped back to Unicode through its /ToUnicode CMap
    (what pypdf does; fpdf2 writes Unicode fonts as two-byte glyph ids)."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S)}
    cmaps: dict[bytes, dict[int, str]] = {}
    for resource, ref in re.findall(rb"/(F\d+) (\d+) 0 R", pdf):
        font = objects[int(ref)]
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", font)
        if to_unicode is None:
            continue
        cmap = _inflate(objects[int(to_unicode.group(1))])
        cmaps[resource] = {  # the Unicode side is UTF-16BE (a surrogate pair above U+FFFF)
            int(code, 16): bytes.fromhex(uni.decode()).decode("utf-16-be")
            for code, uni in re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>", cmap)
        }
    lines: list[str] = []
    for body in objects.values():
        content = _inflate(body)
        if b" Tj" not in content:
            continue
        font = b""
        for op in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", content, re.S):
            if op.group(1):
                font = op.group(1)
                continue
            raw = _unescape(op.group(2))
            ids = [int.from_bytes(raw[k : k + 2], "big") for k in range(0, len(raw), 2)]
            lines.append("".join(cmaps[font].get(g, "\ufffd") for g in ids))
    return lines


def test_pdf_is_one_page_and_prints_names_as_written() -> None:
    check = marac.marac_check(_repeat_case(), "V1", settings=default_settings())
    names = {"V1": "Łukasz Żółć 😀 (V1)", "P1": "Ørjan “Smith” — 山田 (P1)"}
    pdf = marac.summary_pdf(
        check, names, generated_by="Chair Ñame", generated_at=datetime(2026, 1, 2, 3, 4),
        purpose="MARAC meeting", recipient="Meeting 😀", marking="OFFICIAL [test marking]",
    )  # fmt: skip
    assert pdf.startswith(b"%PDF")
    assert b"/Count 1" in pdf  # one page
    assert b"DejaVuSans" in pdf  # the Unicode font is embedded (a subset)
    text = "\n".join(pdf_lines(pdf))
    # Every letter DejaVu Sans has prints as written (the core fonts printed "?"
    # or "Lukasz"); what it lacks (CJK) is transliterated, never "?".
    assert "Subject: Łukasz Żółć" in text
    assert "Perpetrator: Ørjan “Smith” — ShanTian (P1)" in text
    assert "Generated by Chair Ñame at 02/01/2026 03:04 — OFFICIAL [test marking]" in text
    assert "OFFICIAL-SENSITIVE" not in text  # the marking is the one passed in, not a constant
    assert "missed by a late flag" in text  # a long line wraps rather than running off the page
    assert "?" not in text and "\ufffd" not in text


def test_tuning_edits_diff_and_cohort_changes() -> None:
    base = default_settings()
    assert ("gravity", "weight") in dict(tuning.scalar_settings(base))
    assert tuning.setting_label(("gravity", "weight")) == "Gravity weight"
    assert tuning.is_integer_setting(base, ("cohort", "min_attendances"))
    edited = tuning.apply_edits(
        base, {("gravity", "weight"): 2.0}, {"recency": tuning.bands_json(base, "recency")}
    )
    diff = tuning.settings_diff(base, edited)
    assert diff["setting"].tolist() == ["gravity.weight"]
    with pytest.raises(SettingsError, match="bands"):
        tuning.apply_edits(base, {}, {"gravity": "[{"})
    with pytest.raises(SettingsError, match="gravity"):
        tuning.apply_edits(base, {}, {"gravity": '[{"at_least": 5, "points": 1}, '
                                                 '{"at_least": 1, "points": 2}]'})  # fmt: skip
    saved = pd.DataFrame({"person_id": ["A", "B", "C"], "rank": [1, 2, 3],
                          "score": [9.0, 5.0, 1.0], "in_cohort": [True, True, False],
                          "reason": ["x", "y", "z"]})  # fmt: skip
    new = saved.assign(in_cohort=[True, False, True])
    moved = tuning.cohort_changes(saved, new)
    assert moved["entering"]["person_id"].tolist() == ["C"]
    assert moved["leaving"]["person_id"].tolist() == ["B"]
    versions = pd.DataFrame({"name": ["default", "default", "x"], "version": ["1", "3", "9"]})
    assert tuning.next_version(versions, "default") == "4"


def test_backtest_date_needs_two_years() -> None:
    assert tuning.backtest_as_of(_repeat_case()) == date(2025, 3, 5)
    b = HistoryBuilder()
    b.incident("2025-01-01", suspect="P1", victim="V1")
    b.incident("2025-06-01", suspect="P1", victim="V1")
    assert tuning.backtest_as_of(b.build()) is None


def test_data_quality_figures_and_quarantine_filter(tmp_path: Path) -> None:
    history = _repeat_case()
    lag = data_view.flag_lag(history)
    assert lag == {"referrals": 1, "median_flag_lag_days": 19.0, "never_flagged_share": 0.0}
    figures = data_view.data_quality(history, {"rows": 10, "no_person_ref": 4}).set_index("figure")
    assert figures.loc["Involvement rows with no person reference", "value"] == "40%"
    q = pd.DataFrame({"source_file": ["a.csv", "b.csv"], "source_row": [2, 3],
                      "column": ["date_of_birth", "offence"], "value": ["x", "y"],
                      "reason": ["not a date", "unknown offence"], "raw": ["", ""]})  # fmt: skip
    assert data_view.filter_quarantine(q, "DATE")["source_row"].tolist() == [2]
    assert data_view.filter_quarantine(q, "", ["b.csv"])["source_row"].tolist() == [3]
    assert data_view.write_uploads([("incidents.csv", b"a\n")], tmp_path) == ["incidents.csv"]
    with pytest.raises(ValueError):
        data_view.write_uploads([("../evil.sh", b"")], tmp_path)


def test_audit_filters() -> None:
    frame = pd.DataFrame({
        "id": [1, 2, 3], "at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
        "username": ["officer", "chair", "officer"], "role": [None] * 3,
        "action": ["view_person", "marac_pdf", "sign_in"], "person_id": ["P1", "P1", None],
        "purpose": [None] * 3, "detail": [None] * 3,
    })  # fmt: skip
    out = audit_view.filter_audit(frame, person_id="p1")
    assert out["id"].tolist() == [2, 1]
    assert out["kind"].tolist() == ["Disclosed or exported", "Consulted a record"]
    assert audit_view.filter_audit(frame, users=["officer"], since=date(2026, 1, 2))[
        "action"
    ].tolist() == ["sign_in"]
