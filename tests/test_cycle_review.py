"""Reviews of the cohort (issue 14, item 1).

The diff between two reviews on hand-built people (each test says why each
person is or is not listed and with what words), the export's one row per
person, the choice of reviews, and ``adapt review`` / ``adapt export review``
end to end on both databases, audited."""

from __future__ import annotations

import os
import pwd
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from typer.testing import CliRunner

from adapt.cli import app
from adapt.core.settings import default_settings
from adapt.db import connect, reviews
from adapt.db.app_store import audit_frame
from adapt.db.erasure import erase_person
from adapt.db.models import review_people as review_people_table
from adapt.db.subject_access import subject_access_tables
from adapt.scoring.cycle import (
    CHANGES,
    change_counts,
    changes_by_person,
    missing_before,
    pick_reviews,
    review_changes,
)
from adapt.scoring.score import PARTS
from adapt.views import cohort as cv
from tests.extracts import incident, involvement, write_extract

BEFORE_AS_OF = date(2026, 10, 1)


def _settings(step: float = 5, min_score: float | None = 25, min_attendances: int | None = 3):
    base = default_settings()
    cohort = base.cohort.model_copy(
        update={"min_score": min_score, "min_attendances": min_attendances}
    )
    cycle = base.cycle.model_copy(update={"score_change_step": step})
    return base.model_copy(update={"cohort": cohort, "cycle": cycle})


def _person(person_id: str, **over: object) -> dict:
    row: dict = {
        "person_id": person_id, "rank": 1, "score": 10.0, **dict.fromkeys(PARTS, 0.0),
        "attendances_window": 1, "days_since_last": 30, "incidents_total": 1,
        "in_cohort": False, "alert_new_partner": False, "alert_marac_repeat": False,
        "alert_frequency": False, "alert_severity": False,
        "last_incident_at": pd.Timestamp("2026-09-01"), "new_partner_first_at": pd.NaT,
        "last_marac_repeat_at": pd.NaT, "already_managed": None, "decision": None,
        "exit_state": None, "reason": "",
    }  # fmt: skip
    row.update(over)
    return row


def _people(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=reviews.PEOPLE_COLUMNS)
    for col in ("person_id", "already_managed", "decision", "exit_state", "reason"):
        frame[col] = frame[col].astype("string")
    for col in ("last_incident_at", "new_partner_first_at", "last_marac_repeat_at"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def _only(changes: pd.DataFrame, change: str) -> dict[str, str]:
    picked = changes[changes["change"] == change]
    return dict(zip(picked["person_id"], picked["reason"], strict=True))


# ------------------------------------------------------------- entered and left
def test_entering_says_which_part_of_the_rule_was_met() -> None:
    before = _people(
        _person("A", score=20.0),  # below both; now a score of 31 brings them in
        _person("B", attendances_window=2),  # a third attendance brings them in
        _person("C", in_cohort=True, score=40.0),  # in both times: not entered
        _person(
            "D",
            already_managed="iom",
            reason="Not in cohort: already managed (iom)",
            attendances_window=4,
        ),  # IOM ended in the records: in again
    )
    now = _people(
        _person("A", score=31.0, in_cohort=True),
        _person("B", attendances_window=3, in_cohort=True, rank=2),
        _person("C", in_cohort=True, score=41.0, rank=3),
        _person("D", attendances_window=4, in_cohort=True, rank=4),
        _person("E", attendances_window=5, score=30.0, in_cohort=True, rank=5),  # new: both
    )
    entered = _only(review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF), "entered")
    assert entered == {
        "A": "score 31 reached the cohort rule (≥ 25)",
        "B": "3 attendances in 12 months reached the cohort rule (at least 3)",
        "D": "4 attendances in 12 months reached the cohort rule (at least 3); "
        "no longer managed (IOM)",
        "E": "5 attendances in 12 months and score 30 reached the cohort rule "
        "(at least 3 attendances or a score of at least 25)",
    }


def test_leaving_says_why_in_words() -> None:
    inside = {"in_cohort": True, "attendances_window": 3, "score": 30.0}
    before = _people(*[_person(p, **inside) for p in "ABCDE"])
    now = _people(
        # 380 days without an incident: past the rule's 365 days
        _person("A", attendances_window=0, days_since_last=380, score=12.0,
                reason="Not in cohort: last incident 380 days ago (rule: within 365)"),
        # managed by IOM in the force's records now
        _person("B", **{**inside, "in_cohort": False}, already_managed="iom",
                reason="Not in cohort: already managed (iom)"),
        # fell below both parts of the rule
        _person("C", attendances_window=2, score=22.5),
        # the other party of a counter-allegation was judged the aggressor
        _person("D", attendances_window=0, days_since_last=-1, score=0.0),
        # E is not scored any more (merged away or erased)
    )  # fmt: skip
    left = _only(review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF), "left")
    assert left["A"] == "no incident for 12 months"
    assert left["B"] == "now managed (IOM)"
    assert left["C"] == (
        "2 attendances in 12 months and score 22.5, below the cohort rule "
        "(at least 3 attendances or a score of at least 25)"
    )
    assert left["D"].startswith("no incident attributed any more")
    assert left["E"] == "no longer scored (merged into another person, or erased)"


def test_a_settings_change_is_named_on_entering_and_leaving() -> None:
    before = _people(_person("A", in_cohort=True, attendances_window=3))
    now = _people(_person("A", attendances_window=3, score=20.0))
    changes = review_changes(
        before, now, _settings(min_attendances=4), before_as_of=BEFORE_AS_OF,
        settings_changed="default v1 → force v2",
    )  # fmt: skip
    assert _only(changes, "left") == {
        "A": "3 attendances in 12 months and score 20, below the cohort rule (at least 4 "
        "attendances or a score of at least 25); the settings changed since the last review "
        "(default v1 → force v2)"
    }


# ------------------------------------------------------------------- alerts
def test_only_alerts_raised_since_the_last_review_are_new_in_or_out_of_the_cohort() -> None:
    before = _people(
        _person("A"),
        _person("B", alert_new_partner=True),  # the same alert both times: not new
        _person("C", alert_severity=True),  # severity before, MARAC repeat new
    )
    now = _people(
        _person("A", alert_new_partner=True, new_partner_first_at=pd.Timestamp("2026-10-15")),
        _person("B", alert_new_partner=True, new_partner_first_at=pd.Timestamp("2026-06-01")),
        _person("C", alert_severity=True, alert_marac_repeat=True,
                last_marac_repeat_at=pd.Timestamp("2026-10-20")),
        _person("D", alert_frequency=True, alert_severity=True),  # first scored now
    )  # fmt: skip
    changes = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    assert _only(changes, "new alert") == {
        "A": "new partner (first incident with the new partner 2026-10-15)",
        "C": "MARAC repeat (repeat referral 2026-10-20)",
        "D": "frequency escalation; severity escalation",
    }
    # nobody here is in the cohort: alerts are listed whatever the cohort says
    listed = changes[changes["change"] == "new alert"].set_index("person_id")
    assert not listed["in_cohort_now"].any()
    assert listed.loc["C", "alerts"] == "MARAC repeat; severity escalation"


# ------------------------------------------------------------- score changes
def test_score_changes_of_the_step_or_more_in_the_cohort_or_adopted() -> None:
    parts = list(PARTS)
    inside = {"in_cohort": True}
    before = _people(
        _person("A", **inside, score=40.0, **{parts[0]: 10.0, parts[1]: 5.0}),
        _person("B", **inside, score=40.0),  # +4: under the step
        _person("C", score=10.0),  # +10 but out of the cohort, not adopted: not listed
        _person("D", score=10.0, decision="adopted"),  # adopted: listed
        _person("E", **inside, score=50.0),  # −5 exactly: listed
    )
    now = _people(
        _person("A", **inside, score=46.0, **{parts[0]: 8.0, parts[1]: 13.0}),
        _person("B", **inside, score=44.0),
        _person("C", score=20.0),
        _person("D", score=20.0, decision="adopted"),
        _person("E", **inside, score=45.0),
    )
    changes = review_changes(before, now, _settings(step=5), before_as_of=BEFORE_AS_OF)
    moved = _only(changes, "score change")
    assert moved == {
        "A": "score 40 → 46 (+6): recency −2, frequency +8",
        "D": "score 10 → 20 (+10)",
        "E": "score 50 → 45 (−5)",
    }
    # a step of 0 turns score changes off
    off = review_changes(before, now, _settings(step=0), before_as_of=BEFORE_AS_OF)
    assert "score change" not in set(off["change"])


# ------------------------------------------------- adopted people and endings
def test_new_incidents_of_adopted_people_since_the_last_review() -> None:
    adopted = {"decision": "adopted"}
    before = _people(
        _person("A", **adopted, incidents_total=5),
        _person("B", **adopted, incidents_total=5),
        _person("C", incidents_total=5),  # not adopted: not listed
        _person("D", **adopted, incidents_total=5),
    )
    now = _people(
        _person("A", **adopted, incidents_total=7, last_incident_at=pd.Timestamp("2026-10-20")),
        # on the previous review's own date: it was in that review already
        _person("B", **adopted, last_incident_at=pd.Timestamp("2026-10-01 23:00")),
        _person("C", incidents_total=6, last_incident_at=pd.Timestamp("2026-10-20")),
        _person("D", **adopted, incidents_total=6, last_incident_at=pd.Timestamp("2026-10-02")),
    )  # fmt: skip
    changes = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    assert _only(changes, "new incident while adopted") == {
        "A": "2 new incidents since the last review (latest 2026-10-20)",
        "D": "1 new incident since the last review (latest 2026-10-02)",
    }


def test_management_ended_by_an_exit_state_a_decline_or_the_force_records() -> None:
    before = _people(
        _person("A", decision="adopted"),
        _person("B", decision="adopted"),
        _person("C", already_managed="iom;in_custody"),
        _person("D", decision="adopted"),  # still adopted: not listed
        _person("E", already_managed="in_custody"),  # custody is not management: not listed
    )
    now = _people(
        _person("A", decision="ended", exit_state="moved away"),
        _person("B", decision="declined"),
        _person("C", already_managed="in_custody"),
        _person("D", decision="adopted"),
        _person("E"),
    )
    changes = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    assert _only(changes, "management ended") == {
        "A": "ended: moved away",
        "B": "declined after being adopted",
        "C": "IOM management ended in the force's records",
    }
    assert changes.set_index("person_id").loc["A", "decision"] == "ended (moved away)"


def test_the_first_review_lists_its_cohort_as_entered_and_its_alerts_as_new() -> None:
    now = _people(
        _person("A", in_cohort=True, attendances_window=3, decision="adopted"),
        _person("B", alert_severity=True, rank=2),
        _person("C", rank=3),
    )
    changes = review_changes(None, now, _settings())
    assert change_counts(changes) == {
        "entered": 1, "left": 0, "new alert": 1, "new incident while adopted": 0,
        "management ended": 0, "score change": 0,
    }  # fmt: skip


def test_nothing_changed_is_an_empty_frame_with_the_columns() -> None:
    same = _people(_person("A", in_cohort=True, attendances_window=3))
    changes = review_changes(same, same, _settings(), before_as_of=BEFORE_AS_OF)
    assert changes.empty and "reason" in changes.columns
    export = changes_by_person(
        changes, pd.DataFrame({"person_id": [], "label": []}), review_as_of=date(2026, 10, 29),
        previous_as_of=BEFORE_AS_OF,
    )  # fmt: skip
    assert export.empty and list(export.columns[:4]) == ["person_id", "name", "change", "reason"]


def test_changes_are_ordered_by_kind_then_rank() -> None:
    before = _people(_person("A", in_cohort=True, attendances_window=3), _person("B"),
                     _person("C"))  # fmt: skip
    now = _people(
        _person("C", rank=1, in_cohort=True, attendances_window=3),
        _person("B", rank=2, in_cohort=True, attendances_window=4, alert_severity=True),
        _person("A", rank=3, attendances_window=1),
    )
    changes = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    assert list(zip(changes["change"], changes["person_id"], strict=True)) == [
        ("entered", "C"), ("entered", "B"), ("left", "A"), ("new alert", "B"),
    ]  # fmt: skip
    assert set(changes["change"]) <= set(CHANGES)


# ----------------------------------------------------------------- the export
def test_the_export_has_one_row_per_person_with_every_change_named() -> None:
    before = _people(_person("A"), _person("B", in_cohort=True, attendances_window=3))
    now = _people(
        _person("A", in_cohort=True, score=30.0, alert_new_partner=True,
                new_partner_first_at=pd.Timestamp("2026-10-15")),
        _person("B", attendances_window=1, rank=2),
    )  # fmt: skip
    changes = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    names = pd.DataFrame({"person_id": ["A", "B"], "label": ["Sam Smith", "Jo O'Neill"]})
    export = changes_by_person(
        changes, names, review_as_of=date(2026, 10, 29), previous_as_of=BEFORE_AS_OF
    )
    rows = export.set_index("person_id")
    assert list(export["person_id"]) == ["A", "B"]
    assert rows.loc["A", "name"] == "Sam Smith"
    assert rows.loc["A", "change"] == "entered; new alert"
    assert rows.loc["A", "reason"] == (
        "entered: score 30 reached the cohort rule (≥ 25); "
        "new alert: new partner (first incident with the new partner 2026-10-15)"
    )
    assert rows.loc["B", "change"] == "left"
    assert rows.loc["B", "reason"].startswith("1 attendance in 12 months and score 10, below")
    assert rows.loc["A", "review_as_of"] == "2026-10-29"
    assert rows.loc["A", "previous_review_as_of"] == "2026-10-01"
    assert rows.loc["A", "last_incident"] == "2026-09-01"


def test_pick_reviews_takes_the_one_on_or_before_the_date_and_the_one_before_it() -> None:
    stored = pd.DataFrame(
        {
            "review_id": [1, 2, 3, 4],
            "as_of": [date(2026, 9, 1), date(2026, 9, 29), date(2026, 9, 29), date(2026, 10, 27)],
        }
    )
    assert pick_reviews(stored, None) == (4, 3)
    assert pick_reviews(stored, date(2026, 10, 1)) == (3, 2)  # the same day: made later
    assert pick_reviews(stored, date(2026, 9, 1)) == (1, None)
    assert pick_reviews(stored, date(2026, 8, 1)) == (None, None)
    assert pick_reviews(stored.iloc[0:0], None) == (None, None)


# --------------------------------------------------------- on the database, CLI
runner = CliRunner()
REAL_USER = pwd.getpwuid(os.getuid()).pw_name


def _month_extract(folder: Path) -> Path:
    """Person 1 is a suspect once a month from January to March 2024 (victim
    101 twice, then a new partner, 102, in March): 2 attendances at the end
    of February, 3 at the end of March. Person 2 once in January."""
    dates = {1: "2024-01-10T21:00", 2: "2024-02-12T21:00", 3: "2024-03-15T21:00",
             4: "2024-01-20T21:00"}  # fmt: skip
    incs = [incident(n, occurred_at=d) for n, d in dates.items()]
    invs = [
        involvement(1, "suspect", 1), involvement(1, "victim", 101),
        involvement(2, "suspect", 1), involvement(2, "victim", 101),
        involvement(3, "suspect", 1), involvement(3, "victim", 102),
        involvement(4, "suspect", 2), involvement(4, "victim", 103),
    ]  # fmt: skip
    return write_extract(folder, incs, invs)


def test_review_then_export_review_on_the_database_audited(db_url: str, tmp_path: Path) -> None:
    folder = _month_extract(tmp_path / "extract")
    assert runner.invoke(app, ["run", str(folder), "--db", db_url]).exit_code == 0
    out = tmp_path / "review.csv"
    # no review yet: one clear line, nothing written
    nothing = runner.invoke(app, ["export", "review", "--out", str(out), "--purpose", "IOM panel",
                                  "--db", db_url])  # fmt: skip
    assert nothing.exit_code == 2 and "no review is stored" in nothing.stderr
    assert not out.exists()

    first = runner.invoke(app, ["review", "--as-of", "2024-02-29", "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "as of 2024-02-29: 0 in the cohort of 2 people scored" in first.output
    assert "next review is due on 2024-03-28" in first.output
    second = runner.invoke(app, ["review", "--as-of", "2024-03-31", "--db", db_url])
    assert second.exit_code == 0, second.output
    assert "1 in the cohort of 2 people scored" in second.output

    done = runner.invoke(app, ["export", "review", "--out", str(out), "--purpose",
                               "Offender management", "--db", db_url])  # fmt: skip
    assert done.exit_code == 0, done.output
    exported = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(exported.columns[:4]) == ["person_id", "name", "change", "reason"]
    assert len(exported) == 1
    row = exported.iloc[0]
    assert row["name"] == "Alex Patel"  # person_ref P0001's name in tests/extracts.py
    assert row["change"] == "entered; new alert"
    assert row["reason"].startswith(
        "entered: 3 attendances in 12 months reached the cohort rule (at least 3); new alert: "
        "new partner (first incident with the new partner 2024-03-15)"
    )
    assert row["previous_review_as_of"] == "2024-02-29"

    engine = connect(db_url)
    try:
        log = audit_frame(engine)
        created = log[log["action"] == "review_created"]
        assert len(created) == 2 and set(created["username"]) == {REAL_USER}
        assert created["detail"].str.contains("as of 2024-03-31").any()
        export = log[log["action"] == "export"].iloc[0]
        assert export["username"] == REAL_USER
        assert export["detail"].startswith("review: 1 rows, review 2 as of 2024-03-31, against")
        assert export["purpose"] == "Offender management"
        stored = reviews.reviews_frame(engine)
        assert list(stored["in_cohort"]) == [0, 1]
        people = reviews.review_people_frame(engine, int(stored["review_id"].iloc[1]))
        assert people["in_cohort"].dtype == bool and int(people["in_cohort"].sum()) == 1
        assert np.isclose(people["score"].iloc[0], people[list(PARTS)].iloc[0].sum())
        # what a change can be about: person 1 (in the cohort, an alert); not person 2
        few = reviews.review_people_frame(
            engine, int(stored["review_id"].iloc[1]), may_change_only=True
        )
        assert list(few["person_id"]) == [people["person_id"].iloc[0]]
        other = people["person_id"].iloc[1]
        by_key = reviews.review_people_frame(
            engine, int(stored["review_id"].iloc[1]), person_ids=[other, "P9999999"]
        )
        assert list(by_key["person_id"]) == [other]
        # the export of the first review alone: everyone in its cohort entered (nobody)
        as_of_first = runner.invoke(app, ["export", "review", "--out", str(out), "--as-of",
                                          "2024-03-01", "--purpose", "IOM panel", "--db",
                                          db_url])  # fmt: skip
        assert as_of_first.exit_code == 0, as_of_first.output
        # a subject access request shows the person's place in both reviews
        person = str(people["person_id"].iloc[0])
        _, held = subject_access_tables(engine, person)
        assert list(held["reviews"]["review_as_of"].astype(str)) == ["2024-02-29", "2024-03-31"]
        assert list(held["reviews"]["in_cohort"].astype(bool)) == [False, True]
        # an erasure deletes the person's rows in every review; the reviews' counts stay
        erased = erase_person(engine, person, reason="MoPI review: dispose", erased_by="dpo")
        assert erased.counts["review_people"] == 2
        with engine.connect() as conn:
            left = conn.execute(
                select(review_people_table.c.person_id).where(
                    review_people_table.c.person_id == person
                )
            ).all()
        assert left == [] and list(reviews.reviews_frame(engine)["people"]) == [2, 2]
    finally:
        engine.dispose()


# ------------------------------------------------------------ the page's words
def _view(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "rank": list(range(1, n + 1)), "person_id": [f"P{i}" for i in range(n)],
        "name": [f"Name {i}" for i in range(n)], "score": [10.0] * n, "area": [""] * n,
        "in_cohort": [True] * n, "already_managed": [""] * n, "escalating": [False] * n,
        "alerts": [""] * n, "decision_status": [""] * n,
        "last_incident": [pd.Timestamp("2026-10-01")] * n, "frequency_trend": ["steady"] * n,
        "severity_trend": ["steady"] * n, "marac_status": [""] * n,
    }  # fmt: skip
    base.update(columns)
    return pd.DataFrame(base)


def test_an_adopted_person_with_an_alert_passes_every_filter() -> None:
    view = _view(
        in_cohort=[True, False, False],
        alerts=["", "new partner", "new partner"],
        decision_status=["", "adopted", ""],
    )
    # P1 is adopted with an alert: kept whatever the filters say; P2 is not adopted
    assert list(cv.filter_cohort(view, in_cohort=True)["person_id"]) == ["P0", "P1"]
    assert list(cv.filter_cohort(view, alerts=False)["person_id"]) == ["P0", "P1"]
    assert list(cv.filter_cohort(view, in_cohort=True, keep_adopted_alerts=False)["person_id"]) == [
        "P0"
    ]


def test_the_ranked_table_in_words_and_the_rank_gaps_explained() -> None:
    view = _view(
        already_managed=["iom;in_custody", pd.NA],
        last_incident=[pd.Timestamp("2026-10-01"), pd.NaT],
        alerts=[pd.NA, "new partner"],
    )
    shown = cv.display_frame(view.assign(model_probability=[0.123, None]))
    assert list(shown["already_managed"]) == ["IOM, in custody", ""]
    assert list(shown["last_incident"]) == ["2026-10-01", "not recorded"]
    assert list(shown["alerts"]) == ["", "new partner"]
    assert shown["model_probability"].iloc[0] == 12.3 and shown["model_probability"].isna().iloc[1]
    assert list(cv.percent(pd.Series([0.123, 0.004, None]))) == ["12%", "0.4%", ""]
    assert cv.rank_words(73, 2070) == (
        "Rank is the place among all 2,070 people scored; where the ranks skip a number, "
        "the people in between are left out by the filters (1,997 in all)."
    )
    assert cv.rank_words(10, 10) == "Rank is the place among all 10 people scored."


def test_review_groups_have_a_name_beside_every_id_and_nothing_missing_shown() -> None:
    before = _people(_person("A", in_cohort=True, attendances_window=3), _person("B"))
    now = _people(_person("B", in_cohort=True, attendances_window=3, score=30.0))
    changes = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    labels = pd.DataFrame({"person_id": ["B"], "label": ["Jo O'Neill"]})
    groups = cv.review_groups(changes, labels)
    assert list(groups) == list(CHANGES)
    assert groups["entered"][
        ["name", "person_id", "score", "rank", "in_cohort"]
    ].values.tolist() == [["Jo O'Neill", "B", "30", "1", "Yes"]]
    left = groups["left"].iloc[0]  # A is not scored now: no score, no rank, no name known
    assert (left["name"], left["score"], left["rank"], left["in_cohort"]) == ("A", "", "", "No")
    assert groups["score change"].empty
    assert cv.review_summary({"new alert": 1, "score change": 1}, 5).endswith(
        "1 new alert, 0 adopted with new incidents, 0 whose management ended, "
        "1 score change of 5 points or more."
    )
    assert cv.review_summary(change_counts(changes), 5) == (
        "1 entered the cohort, 1 left it, 0 new alerts, 0 adopted with new incidents, "
        "0 whose management ended, 0 score changes of 5 points or more."
    )


def test_people_who_cannot_change_may_be_left_out_of_the_previous_review() -> None:
    """The page reads only the previous review's people a change can be about
    (adapt.db.reviews.review_people_frame(may_change_only=True)): the same changes."""
    before = _people(
        _person("A", in_cohort=True, attendances_window=3),
        _person("B", score=20.0),  # nothing: may be left out
        _person("C", already_managed="mappa"),
        _person("D", decision="adopted"),
    )
    now = _people(
        _person("A"), _person("B", score=40.0, in_cohort=True), _person("C"),
        _person("D", decision="ended", exit_state="completed"),
    )  # fmt: skip
    few = before[before["person_id"] != "B"]
    # B is in the cohort now: the page reads B's row of the previous review by key
    assert missing_before(few, now) == ["B"]
    again = pd.concat([few, before[before["person_id"] == "B"]], ignore_index=True)
    full = review_changes(before, now, _settings(), before_as_of=BEFORE_AS_OF)
    pd.testing.assert_frame_equal(
        full, review_changes(again, now, _settings(), before_as_of=BEFORE_AS_OF)
    )
    assert set(full["change"]) == {"entered", "left", "management ended"}
    assert full.set_index("change").loc["entered", "score_before"] == 20.0


def test_alerts_left_out_by_the_filters_are_counted_by_kind() -> None:
    view = _view(
        in_cohort=[True, False, False, False],
        alerts=["new partner", "new partner; late-flag repeat", "new partner", ""],
        decision_status=["", "", "adopted", ""],
    )
    shown = cv.filter_cohort(view, in_cohort=True)  # P0, and P2 (adopted, with an alert)
    assert list(shown["person_id"]) == ["P0", "P2"]
    assert cv.hidden_alerts(view, shown) == "1 person (new partner 1, late-flag repeat 1)"
    assert cv.hidden_alerts(view, view) == ""
