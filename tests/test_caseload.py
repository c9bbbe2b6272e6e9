"""Caseloads (issue 14, item 2): who an officer manages, plan reviews due,
actions, new incidents since the last contact, management ended with an exit
state, and the outcome panel for the whole cohort.

Pure views on hand-built frames, each answer reasoned out in the test; the
store on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import insert

from adapt.core.settings import default_settings
from adapt.db import app_store, connect
from adapt.db.caseload import scores_on_dates
from adapt.db.models import person_redirects
from adapt.db.scores import store_score_run
from adapt.evaluation.cohort_outcomes import (
    change_words,
    cohort_outcomes,
    first_adoptions,
    suspect_harm,
)
from adapt.features import compute_features
from adapt.scoring.score import rank
from adapt.views import caseload as v
from tests.histories import HistoryBuilder

TODAY = date(2026, 12, 5)
LABELS = {"P1": "Ann Able", "P2": "Bob Best", "P3": "Cy Cole"}


def _decisions(*rows: tuple) -> pd.DataFrame:
    """(person, decision, author, decided_at[, exit_state]) in id order."""
    return pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "person_id": [r[0] for r in rows],
            "decision": [r[1] for r in rows],
            "author": [r[2] for r in rows],
            "reason": ["r"] * len(rows),
            "decided_at": pd.to_datetime([r[3] for r in rows]),
            "as_of": pd.to_datetime([r[3] for r in rows]).date,
            "exit_state": [r[4] if len(r) > 4 else None for r in rows],
        }
    )


def _plan(*rows: dict) -> pd.DataFrame:
    base = {"pathway": None, "text": "t", "owner": None, "due_date": None, "status": "open",
            "author": "amy", "version": 1}  # fmt: skip
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], format="ISO8601")
    return frame


NO_PLAN = pd.DataFrame(
    columns=["person_id", "entry_key", "version", "pathway", "kind", "text", "owner", "due_date",
             "status", "author", "recorded_at"]
)  # fmt: skip


# ------------------------------------------------------------ who is managed
def test_managed_means_the_latest_decision_is_an_adoption() -> None:
    decisions = _decisions(
        ("P1", "adopted", "amy", "2026-10-01"),
        ("P2", "adopted", "amy", "2026-10-01"),
        ("P2", "ended", "amy", "2026-11-01", "moved away"),  # ended: not managed
        ("P3", "adopted", "bob", "2026-09-01"),
        ("P3", "ended", "bob", "2026-10-01", "in custody"),
        ("P3", "adopted", "bob", "2026-11-15"),  # adopted again after custody: managed
        ("P4", "declined", "amy", "2026-10-01"),
    )
    managed = v.managed_people(decisions)
    assert managed["person_id"].tolist() == ["P1", "P3"]
    assert managed.set_index("person_id").loc["P3", "adopted_on"] == pd.Timestamp("2026-11-15")
    ended = v.ended_managements(decisions, LABELS)
    assert ended["Exit state"].tolist() == ["In custody", "Moved away"]  # newest first
    assert ended["Name"].tolist() == ["Cy Cole", "Bob Best"]
    assert v.managed_people(decisions.iloc[:0]).empty


def test_caseload_is_who_the_officer_adopted_or_owns_an_open_entry_of() -> None:
    managed = v.managed_people(
        _decisions(
            ("P1", "adopted", "amy", "2026-10-01"),
            ("P2", "adopted", "bob", "2026-10-01"),
            ("P3", "adopted", "bob", "2026-10-01"),
        )
    )
    plan = _plan(
        {"person_id": "P2", "entry_key": "a", "kind": "action", "owner": "amy",
         "recorded_at": "2026-10-02"},
        # amy's action on P3 is done: P3 is not on her caseload for it
        {"person_id": "P3", "entry_key": "b", "kind": "action", "owner": "amy",
         "recorded_at": "2026-10-02"},
        {"person_id": "P3", "entry_key": "b", "kind": "action", "owner": "amy", "status": "done",
         "version": 2, "recorded_at": "2026-10-09"},
    )  # fmt: skip
    amy = v.caseload_people(managed, plan, "amy")
    assert amy["person_id"].tolist() == ["P1", "P2"]
    assert amy["on_caseload"].tolist() == ["adopted", "owner of an open plan entry"]
    team = v.caseload_people(managed, plan, None)
    assert team["on_caseload"].tolist() == ["adopted by amy", "adopted by bob", "adopted by bob"]


# -------------------------------------------------------------- reviews due
def test_plan_review_due_from_adoption_or_the_last_review_held() -> None:
    people = v.caseload_people(
        v.managed_people(
            _decisions(
                ("P1", "adopted", "amy", "2026-11-01"),  # due 29 Nov: overdue by 6 days
                ("P2", "adopted", "amy", "2026-10-01"),  # reviewed 20 Nov: due 18 Dec
                ("P3", "adopted", "amy", "2026-11-07"),  # due 5 Dec: today
            )
        ),
        NO_PLAN,
        "amy",
    )
    plan = _plan(
        {"person_id": "P2", "entry_key": "r", "kind": "review", "status": "done",
         "recorded_at": "2026-11-20 15:00"},
        # an open review entry (planned, not held) does not count
        {"person_id": "P1", "entry_key": "q", "kind": "review", "recorded_at": "2026-11-30"},
    )  # fmt: skip
    out = v.review_status(people, plan, TODAY, 28).set_index("person_id")
    assert out.loc["P1", "review_due"] == pd.Timestamp("2026-11-29")
    assert out.loc["P1", "review"] == "overdue by 6 days"
    assert out.loc["P1", "review_state"] == "overdue"
    assert out.loc["P2", "review_due"] == pd.Timestamp("2026-12-18")
    assert (out.loc["P2", "review"], out.loc["P2", "review_state"]) == ("due in 13 days",
                                                                        "not yet due")  # fmt: skip
    assert (out.loc["P3", "review"], out.loc["P3", "review_state"]) == ("due today", "due today")
    # a longer interval: P1 falls due in 22 days (1 Nov + 56 = 27 Dec)
    assert (
        v.review_status(people, plan, TODAY, 56).set_index("person_id").loc["P1", "review"]
        == "due in 22 days"
    )


# ----------------------------------------------- new incidents, actions, words
def test_new_incidents_count_from_the_last_contact_or_the_day_after_adoption() -> None:
    people = v.caseload_people(
        v.managed_people(
            _decisions(
                ("P1", "adopted", "amy", "2026-10-01"), ("P2", "adopted", "amy", "2026-10-01")
            )
        ),
        NO_PLAN,
        None,
    )
    plan = _plan(
        {"person_id": "P1", "entry_key": "n", "kind": "note", "recorded_at": "2026-11-10 09:00"},
        {"person_id": "P1", "entry_key": "r", "kind": "review", "status": "done",
         "recorded_at": "2026-11-20"},  # a review is not a contact
    )  # fmt: skip
    incidents = pd.DataFrame(
        {
            "person_id": ["P1", "P1", "P2", "P2", "P3"],
            "incident_id": ["I1", "I2", "I3", "I4", "I5"],
            "occurred_at": pd.to_datetime(
                ["2026-11-09", "2026-11-12", "2026-10-01 22:00", "2026-10-02 08:00", "2026-11-30"],
                format="ISO8601",
            ),
            "offence": ["abh", "common_assault", "harassment", "gbh", "abh"],
            "harm": [365.0, 10.0, 10.0, 1095.0, 365.0],
        }
    )
    new = v.new_incidents(people, plan, incidents)
    # P1: only I2 (after the note of 10 Nov); P2: no contact, so from 2 Oct:
    # I4, not I3 (on the adoption day); P3 is not managed
    assert new["incident_id"].tolist() == ["I4", "I2"]
    words = v.new_incidents_table(new, LABELS)
    assert words["Offence"].tolist() == ["GBH (grievous bodily harm)", "Common assault"]
    assert words["Counted since"].tolist() == ["2 Oct 2026", "10 Nov 2026"]
    table = v.caseload_table(people, plan, incidents, LABELS, TODAY, 28).set_index("person_id")
    assert table.loc["P1", "new_incidents"] == 1 and table.loc["P2", "new_incidents"] == 1
    assert table.loc["P1", "last_contact"] == "10 Nov 2026"
    assert table.loc["P2", "last_contact"] == "not recorded"
    assert table.loc["P1", "review"] == "due in 13 days"  # the review of 20 Nov
    assert "person has" not in v.summary_sentence(table.reset_index(), "You manage")
    assert v.summary_sentence(table.reset_index(), "You manage").startswith(
        "You manage 2 people: 1 plan review overdue"
    )


def test_open_actions_by_owner_then_due_date_in_plain_words() -> None:
    people = v.caseload_people(
        v.managed_people(
            _decisions(
                ("P1", "adopted", "amy", "2026-10-01"), ("P2", "adopted", "amy", "2026-10-01")
            )
        ),
        NO_PLAN,
        None,
    )
    plan = _plan(
        {"person_id": "P1", "entry_key": "a", "kind": "action", "owner": "bob",
         "due_date": date(2026, 12, 1), "text": "Housing referral", "recorded_at": "2026-10-02"},
        {"person_id": "P2", "entry_key": "b", "kind": "action", "owner": "amy",
         "due_date": None, "text": "Call GP", "recorded_at": "2026-10-02"},
        {"person_id": "P2", "entry_key": "c", "kind": "action", "owner": "amy",
         "due_date": date(2026, 12, 20), "text": "Course", "recorded_at": "2026-10-02"},
        {"person_id": "P1", "entry_key": "d", "kind": "action", "owner": None,
         "due_date": date(2026, 12, 5), "text": "Check bail", "recorded_at": "2026-10-02"},
        {"person_id": "P1", "entry_key": "e", "kind": "action", "owner": "amy",
         "status": "cancelled", "text": "Dropped", "recorded_at": "2026-10-02"},
        {"person_id": "P1", "entry_key": "f", "kind": "note", "text": "Met", "owner": "amy",
         "recorded_at": "2026-10-02"},
    )  # fmt: skip
    acts = v.open_actions(people, plan, LABELS, TODAY)
    assert acts["Action"].tolist() == ["Course", "Call GP", "Housing referral", "Check bail"]
    assert acts["Owner"].tolist() == ["amy", "amy", "bob", "no owner"]
    assert acts["Due"].tolist() == ["20 Dec 2026", "not recorded", "1 Dec 2026", "5 Dec 2026"]
    assert acts["When"].tolist() == ["to come", "no due date", "overdue", "due today"]
    assert acts["Name"].tolist() == ["Bob Best", "Bob Best", "Ann Able", "Ann Able"]
    table = v.caseload_table(
        people,
        plan,
        pd.DataFrame(columns=["person_id", "incident_id", "occurred_at", "offence", "harm"]),
        LABELS,
        TODAY,
        28,
    )
    for frame in (acts, table):  # no None, nan or NaT anywhere
        assert not frame.astype(str).isin(["None", "nan", "NaT", "<NA>"]).any().any()


def test_words_for_dates_and_offences() -> None:
    assert v.date_words(pd.Series([pd.Timestamp("2026-01-05"), pd.NaT])).tolist() == [
        "5 Jan 2026", "not recorded",
    ]  # fmt: skip
    assert v.offence_words(pd.Series(["threats_to_kill", "abh", None])).tolist() == [
        "Threats to kill", "ABH (actual bodily harm)", "",
    ]  # fmt: skip
    assert v.person_choices(
        pd.DataFrame({"person_id": ["P1", "P9"], "name": ["Ann Able", ""]})
    ) == {"P1": "Ann Able (P1)", "P9": "P9"}
    assert v.summary_sentence(pd.DataFrame(columns=["review_state", "new_incidents"]),
                              "You manage") == "You manage nobody at the moment."  # fmt: skip


# ---------------------------------------------------------------- outcomes
def _outcome_history():  # type: ignore[no-untyped-def]
    """A adopted on the data date 31 Jan 2026; the data ends 31 Jul 2026, so
    the months after are 1 Feb - 31 Jul (181 days). The year before is
    1 Feb 2025 - 31 Jan 2026.

    * A: two common assaults before (20 days, 2 incidents), one after (10).
    * B, C: never adopted, 20 days in 2 incidents before (same bands as A):
      B nothing after, C an ABH after (365).
    * D: an ABH before (365 days: another harm band): not a comparison.
    * E: like B before, but adopted on 15 Jul 2026 (16 days of data after:
      too recent) and so never a comparison either.
    """
    b = HistoryBuilder()
    for who in ("A", "B", "E"):
        b.incident("2025-06-01", "common_assault", suspect=who, victim=f"V{who}")
        b.incident("2025-12-01", "common_assault", suspect=who, victim=f"V{who}")
    b.incident("2025-06-01", "harassment", suspect="C", victim="VC")
    b.incident("2025-12-01", "stalking", suspect="C", victim="VC")
    b.incident("2025-12-01", "abh", suspect="D", victim="VD")
    b.incident("2026-03-01", "common_assault", suspect="A", victim="VA")
    b.incident("2026-04-01", "abh", suspect="C", victim="VC")
    b.incident("2026-07-31", "verbal_argument", suspect="D", victim="VD")
    b.incident("2025-01-31", "gbh", suspect="A", victim="VA")  # before the year: not counted
    decisions = _decisions(("A", "adopted", "amy", "2026-01-31"),
                           ("E", "adopted", "amy", "2026-07-15"),
                           ("A", "ended", "amy", "2026-05-01", "completed"))  # fmt: skip
    return b.build(), decisions


def test_outcome_against_similar_people_not_adopted_over_the_same_dates() -> None:
    history, decisions = _outcome_history()
    adoptions = first_adoptions(decisions)  # A's ending does not remove the adoption
    assert adoptions["person_id"].tolist() == ["A", "E"]
    result = cohort_outcomes(suspect_harm(history, "cambridge_chi_v1"), adoptions,
                             history.last_date)  # fmt: skip
    row = result.per_person.set_index("person_id").loc["A"]
    assert row["follow_up_days"] == 181
    assert (row["harm_before"], row["harm_after"]) == (20.0, 10.0)
    assert row["comparisons"] == 2  # B and C; not D (band), not E (adopted)
    assert (row["comp_harm_before"], row["comp_harm_after"]) == (20.0, 182.5)
    assert (result.adopted, result.too_recent, result.matched, result.unmatched) == (2, 1, 1, 0)
    assert result.comparison_people == 2 and not result.by_score
    table = result.table()
    assert table["Change in harm"].tolist() == ["down 50%", "up 812%"]
    assert table["People"].tolist() == [1, 2]
    assert result.chart_frame().iloc[1].tolist() == [10.0, 182.5]
    assert result.sentence().startswith("1 adopted person with a comparison: their harm went "
                                        "from 20 days")  # fmt: skip
    caveat = result.caveat()
    for words in ("not a causal estimate", "regression to the mean", "Only 1 adopted person",
                  "not on score", "1 person adopted too recently to judge is left"):  # fmt: skip
        assert words in caveat


def test_outcome_matches_on_score_band_when_a_run_gives_scores() -> None:
    history, decisions = _outcome_history()
    scores = pd.DataFrame({"as_of": [date(2026, 1, 31)] * 3, "person_id": ["A", "B", "C"],
                           "score": [45.0, 42.0, 61.0]})  # fmt: skip
    result = cohort_outcomes(suspect_harm(history, "cambridge_chi_v1"),
                             first_adoptions(decisions), history.last_date, scores)  # fmt: skip
    row = result.per_person.set_index("person_id").loc["A"]
    assert row["comparisons"] == 1 and row["comp_harm_after"] == 0.0  # only B: band 40-50
    assert result.by_score and "score band" in result.caveat()


def test_outcome_without_adoptions_or_follow_up_says_so() -> None:
    history, decisions = _outcome_history()
    si = suspect_harm(history, "cambridge_chi_v1")
    none = cohort_outcomes(si, first_adoptions(decisions.iloc[:0]), history.last_date)
    assert none.sentence() == "Nobody has been adopted yet, so there is no outcome to show."
    recent = cohort_outcomes(si, first_adoptions(decisions.iloc[1:2]), history.last_date)
    assert recent.sentence().startswith("No outcome to show yet: 1 of 1 adopted person was")
    # an adopted person with no one alike (a rape before: a band of their own)
    b = HistoryBuilder()
    b.incident("2025-06-01", "rape", suspect="F", victim="VF")
    b.incident("2026-07-31", "verbal_argument", suspect="G", victim="VG")
    lonely = b.build()
    result = cohort_outcomes(suspect_harm(lonely, "cambridge_chi_v1"),
                             first_adoptions(_decisions(("F", "adopted", "amy", "2026-01-31"))),
                             lonely.last_date)  # fmt: skip
    assert (result.matched, result.unmatched) == (0, 1)
    assert "1 had no similar person" in result.sentence()
    assert change_words(0, 0) == "no change" and change_words(0, 3) == "up from none"


# ------------------------------------------------------------------ store
@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    eng = connect(db_url)
    yield eng
    eng.dispose()


def _adopt(engine, person: str, author: str = "amy") -> None:  # type: ignore[no-untyped-def]
    app_store.record_decision(engine, person_id=person, decision="adopted", author=author,
                              reason="serial", as_of=date(2026, 6, 30), settings_name="default",
                              settings_version="3", snapshot={"score": 51.5})  # fmt: skip


def test_ending_management_is_a_decision_with_its_exit_state_and_audited(engine) -> None:  # type: ignore[no-untyped-def]
    _adopt(engine, "P1")
    with pytest.raises(ValueError, match="exit state"):
        app_store.end_management(engine, person_id="P1", exit_state="escaped", author="amy",
                                 reason="x")  # fmt: skip
    with pytest.raises(ValueError, match="reason"):
        app_store.end_management(engine, person_id="P1", exit_state="deceased", author="amy",
                                 reason="  ")  # fmt: skip
    with pytest.raises(ValueError, match="not managed"):  # never adopted
        app_store.end_management(engine, person_id="P2", exit_state="completed", author="amy",
                                 reason="done")  # fmt: skip
    app_store.end_management(engine, person_id="P1", exit_state="transferred", author="bob",
                             reason=" To the Leeds IOM team ", on=date(2026, 12, 1))  # fmt: skip
    with pytest.raises(ValueError, match="not managed"):  # already ended
        app_store.end_management(engine, person_id="P1", exit_state="completed", author="amy",
                                 reason="again")  # fmt: skip
    decisions = app_store.decisions_frame(engine, "P1")
    ended = decisions.iloc[0]
    assert (ended["decision"], ended["exit_state"], ended["author"]) == ("ended", "transferred",
                                                                         "bob")  # fmt: skip
    assert ended["reason"] == "To the Leeds IOM team"
    assert pd.Timestamp(ended["as_of"]) == pd.Timestamp("2026-12-01")
    assert (ended["score"], ended["settings_version"]) == (51.5, "3")  # the adoption's snapshot
    assert pd.isna(decisions.iloc[1]["exit_state"])  # the adoption has none
    assert v.managed_people(app_store.decisions_frame(engine)).empty
    audit = app_store.audit_frame(engine, actions=("management_ended",))
    assert audit["detail"].tolist() == ["transferred: To the Leeds IOM team"]
    assert audit["person_id"].tolist() == ["P1"] and audit["username"].tolist() == ["bob"]
    assert app_store.verify_chain(engine).intact
    _adopt(engine, "P1")  # adopted again: managed again
    assert v.managed_people(app_store.decisions_frame(engine))["person_id"].tolist() == ["P1"]


def test_plan_versions_and_scores_for_the_caseload(engine) -> None:  # type: ignore[no-untyped-def]
    key = app_store.save_plan_entry(engine, person_id="P1", author="amy", kind="action",
                                    text="Housing", owner="amy")  # fmt: skip
    app_store.save_plan_entry(engine, person_id="P1", author="amy", kind="action", text="Housing",
                              owner="amy", status="done", entry_key=key)  # fmt: skip
    app_store.save_plan_entry(engine, person_id="P2", author="amy", kind="note", text="Met")
    app_store.save_plan_entry(engine, person_id="P3", author="amy", kind="note", text="Other")
    plan = app_store.plan_entries_frame(engine, ["P1", "P2"])
    assert sorted(plan["person_id"].tolist()) == ["P1", "P1", "P2"]  # every version, not P3
    assert v.current_plan(plan).set_index("entry_key").loc[key, "status"] == "done"
    assert app_store.plan_entries_frame(engine, []).empty

    history, _ = _outcome_history()
    settings = default_settings()
    table = rank(compute_features(history, "2026-01-31", settings), settings)
    for _ in range(2):  # the latest run on the date is read
        store_score_run(engine, table, date(2026, 1, 31), settings, 0)
    scores = scores_on_dates(engine, [date(2026, 1, 31), date(2026, 2, 1)])
    assert sorted(scores["person_id"]) == sorted(table["person_id"])
    assert (
        scores.set_index("person_id")["score"].round(6).to_dict()
        == table.set_index("person_id")["score"].round(6).to_dict()
    )
    assert scores_on_dates(engine, []).empty


def test_an_ending_of_a_merged_id_lands_on_the_current_person(engine) -> None:  # type: ignore[no-untyped-def]
    """An ending is a cohort decision, so an identity merge moves it with the
    adoption (tested in test_case_continuity.py); one recorded about an id
    merged since the page was drawn lands on the person it merged into."""
    _adopt(engine, "P8")
    with engine.begin() as conn:
        conn.execute(insert(person_redirects).values(person_id="P7", current_person_id="P8",
                                                     run_id=1))  # fmt: skip
    app_store.end_management(engine, person_id="P7", exit_state="deceased", author="amy",
                             reason="Death notified")  # fmt: skip
    assert app_store.decisions_frame(engine, "P8")["decision"].tolist() == ["ended", "adopted"]
    assert app_store.decisions_frame(engine, "P7").empty
