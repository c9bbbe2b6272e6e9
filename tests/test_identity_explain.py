"""Explanations a police user reads: each link in words, records named as a
user knows them, the waterfall of the match weight, the review queue as
people. Hand-reasoned cases; the words are checked whole."""

from __future__ import annotations

import pandas as pd
import pytest

from adapt.db import connect
from adapt.db.identity import record_decision
from adapt.db.search import decided_pairs, records_by_key
from adapt.identity.explain import explain, link_parts
from adapt.views.identity import (
    dob_difference,
    link_lines,
    link_sentence,
    record_description,
    review_view,
    side_by_side,
    waterfall_figure,
)

BOB = {"forename": "Bob", "surname": "Hart", "date_of_birth": "1980-02-13",
       "home_postcode": "LE15 6AB"}  # fmt: skip
ROBERT = {"forename": "Robert", "surname": "Hart", "date_of_birth": "1980-02-13",
          "home_postcode": "le156ab"}  # fmt: skip


# ------------------------------------------------------------------ words
def test_the_briefs_example_reads_as_written() -> None:
    levels = {"forename": "nickname", "surname": "missing", "dob": "exact",
              "home": "same address", "gender": "exact"}  # fmt: skip
    # dob first, then forename; a missing surname and an agreeing gender unsaid;
    # the district from the (normalised) postcode
    assert link_sentence(levels, BOB, ROBERT) == (
        "same date of birth; forename Bob is a nickname of Robert; same address in LE15"
    )
    # whichever side the nickname is on
    assert link_sentence(levels, ROBERT, BOB) == (
        "same date of birth; forename Bob is a nickname of Robert; same address in LE15"
    )


@pytest.mark.parametrize(
    ("a", "b", "words"),
    [
        ("1980-02-13", "1980-02-18", "dates of birth differ by one digit"),
        ("1980-02-13", "1980-02-11", "dates of birth differ by one digit"),
        ("1980-03-12", "1980-03-21", "dates of birth differ by two digits swapped"),
        ("1980-02-13", "1908-02-13", "dates of birth differ by two digits swapped"),
        ("1980-04-05", "1980-05-04", "dates of birth have day and month swapped"),
    ],
)
def test_a_date_of_birth_slip_is_named_from_the_dates(a: str, b: str, words: str) -> None:
    assert dob_difference(a, b) == words
    left, right = {"date_of_birth": a}, {"date_of_birth": b}
    # whatever the model's level is called (others may name new levels)
    for level in ("one part differs", "one digit", "typo"):
        assert link_sentence({"dob": level}, left, right) == words


def test_dates_of_birth_that_truly_differ() -> None:
    assert dob_difference("1980-02-13", "1991-07-30") is None
    assert dob_difference("1980-02-13", "1980-02-13") is None
    assert dob_difference(None, "1980-02-13") is None
    far = ({"date_of_birth": "1980-02-13"}, {"date_of_birth": "1981-08-30"})
    assert link_sentence({"dob": "within 2 years"}, *far) == (
        "dates of birth within two years of each other"
    )
    assert link_sentence({"dob": "different"}, *far) == "different dates of birth"
    # a level this module does not know, with no dates to read: said as it is
    assert link_sentence({"dob": "near"}) == "date of birth: near"


def test_names_addresses_and_references_in_words() -> None:
    jon = {"forename": "Jon", "surname": "Smyth", "home_postcode": "LE1 2AB"}
    john = {"forename": "John", "surname": "Smith", "home_postcode": "LE1 9ZZ"}
    assert link_sentence({"forename": "typo", "surname": "typo"}, jon, john) == (
        "forename Jon is a near spelling of John; surname Smyth is a near spelling of Smith"
    )
    assert link_sentence({"forename": "initial"}, {"forename": "J"}, john) == (
        "forename initial J fits John"
    )
    assert link_sentence({"home": "same postcode district"}, jon, john) == (
        "home postcodes in the same district (LE1)"
    )
    assert link_sentence({"person_ref": "exact", "gender": "different"}) == (
        "same person reference; different recorded genders"
    )
    assert link_sentence({"forename": "different", "surname": "exact"}) == (
        "different forenames; same surname"
    )


def test_context_and_decisions_in_words() -> None:
    levels = {"surname": "exact"}
    assert link_sentence(levels, context="suspect against the same victim") == (
        "same surname; suspects against the same victim"
    )
    both = "suspect against the same victim; same address in the same month"
    assert link_sentence(levels, context=both) == (
        "same surname; suspects against the same victim; "
        "same role at incidents at the same address in the same month"
    )
    assert link_sentence(levels, decision="guard: dates of birth differ") == (
        "same surname; kept apart by a guard: dates of birth differ"
    )
    assert link_sentence({}, decision="analyst: same") == (
        "an analyst decided they are the same person"
    )
    assert link_sentence({"dob": "missing", "forename": None}) == (
        "no comparison could be made (details missing)"
    )


# ---------------------------------------------------------------- records
def test_records_are_named_by_incident_and_date_not_row_key() -> None:
    when = pd.Timestamp("2025-02-03 21:10")
    inv = {"row_key": "involvements:17", "kind": "involvement", "role": "suspect",
           "record": "IR25-0000-000123", "occurred_at": when}  # fmt: skip
    marac = {"row_key": "marac_referrals:5:perpetrator", "kind": "marac",
             "role": "perpetrator", "record": "MR-9", "occurred_at": "2025-03-12"}  # fmt: skip
    mgmt = {"row_key": "management:3", "kind": "management", "role": "iom",
            "record": "NM1|iom|2025-04-01", "occurred_at": "2025-04-01"}  # fmt: skip
    assert record_description(inv) == "suspect, incident IR25-0000-000123 of 03 Feb 2025"
    assert record_description(marac) == "MARAC referral of 12 Mar 2025 (perpetrator)"
    assert record_description(mgmt) == "management record (iom) from 01 Apr 2025"
    compared = side_by_side({**inv, **BOB}, {**marac, **ROBERT})
    assert list(compared.columns) == ["field", "first record", "second record", "same"]
    row = compared.set_index("field")
    assert row.at["forename", "same"] == "no" and row.at["surname", "same"] == "yes"
    assert row.at["date of birth", "first record"] == "13 Feb 1980"


# ---------------------------------------------------------------- weights
def _links() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_key_l": ["involvements:1", "involvements:1", "involvements:2"],
            "row_key_r": ["involvements:2", "involvements:3", "involvements:9"],
            "match_weight": [10.5, 3.0, 2.0],
            "match_probability": [0.9993, 0.889, 0.8],
            "context_weight": [4.0, 0.0, 0.0],
            "final_weight": [14.5, 3.0, 2.0],
            "accepted": [True, True, True],
            "decision": ["auto", "auto", "auto"],
            "context": ["suspect against the same victim", "", ""],
            "lbl_forename": ["nickname", "exact", "exact"],
            "mw_forename": [5.5, 6.0, 6.0],
            "lbl_dob": ["exact", "missing", "missing"],
            "mw_dob": [17.0, 0.0, 0.0],
        }
    )


def test_the_waterfall_has_the_prior_each_comparison_and_the_total() -> None:
    parts = link_parts(_links().head(1))
    # prior = match weight - comparisons = 10.5 - 22.5
    assert parts["weight"].tolist() == [-12.0, 5.5, 17.0, 4.0]
    fig = waterfall_figure(parts, 0.9993)
    bar = fig.data[0]
    assert list(bar.x) == ["start (two random records)", "forename", "date of birth",
                           "incident context", "final weight"]  # fmt: skip
    assert list(bar.measure) == ["relative"] * 4 + ["total"]
    assert bar.text[-1] == "+14.5"  # the final weight, context included
    assert "final weight +14.5" in fig.layout.title.text
    assert "0.999" in fig.layout.title.text
    # a comparison missing on a record, and no context, add nothing: no bars
    plain = waterfall_figure(link_parts(_links().iloc[[1]]))
    assert list(plain.data[0].x) == ["start (two random records)", "forename", "final weight"]
    assert plain.data[0].text[-1] == "+3.0"
    # an analyst's decision on an unscored pair has no weights to draw
    analyst = pd.DataFrame({"comparison": ["prior", "analyst"], "level": ["x", "analyst: same"],
                            "weight": [float("nan"), float("nan")]})  # fmt: skip
    assert waterfall_figure(analyst) is None


def test_link_parts_explain_a_link_that_was_not_accepted() -> None:
    links = _links().assign(accepted=False)
    assert explain(links, ["involvements:1", "involvements:2"]).empty
    parts = link_parts(links.head(1))
    assert parts["weight"].sum() == pytest.approx(14.5)


def test_link_lines_are_the_persons_joins_weakest_first_without_row_keys() -> None:
    records = pd.DataFrame(
        {
            "row_key": ["involvements:1", "involvements:2", "involvements:3"],
            "kind": "involvement",
            "role": ["suspect", "suspect", "victim"],
            "record": ["INC-1", "INC-2", "INC-3"],
            "occurred_at": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "forename": ["Bob", "Robert", "Robert"],
            "surname": "Hart",
            "date_of_birth": pd.to_datetime(["1980-02-13"] * 3),
            "home_postcode": None,
        }
    )
    keys = ["involvements:1", "involvements:2", "involvements:3"]  # not involvements:9
    lines = link_lines(_links(), records, keys)
    assert lines["first record"].tolist() == [
        "suspect, incident INC-1 of 01 Jan 2025",
        "suspect, incident INC-1 of 01 Jan 2025",
    ]
    assert lines["second record"].tolist() == [
        "victim, incident INC-3 of 01 Mar 2025",  # weight 3.0: the weakest first
        "suspect, incident INC-2 of 01 Feb 2025",
    ]
    assert lines["why"].tolist() == [
        "same forename",
        "same date of birth; forename Bob is a nickname of Robert; "
        "suspects against the same victim",
    ]


def test_the_review_view_shows_people_and_marks_decided_items() -> None:
    queue = pd.DataFrame(
        {
            "id": [7, 8],
            "run_id": 1,
            "kind": ["link", "cluster"],
            "priority": [0.7, 0.6],
            "person_id": ["P0000001", "P0000002"],
            "row_key_l": ["involvements:1", None],
            "row_key_r": ["involvements:2", None],
            "reason": ["possible missed merge", "three or more distinct surnames"],
        }
    )
    records = pd.DataFrame(
        {
            "row_key": ["involvements:1", "involvements:2"],
            "kind": "involvement",
            "role": "suspect",
            "record": ["INC-1", "INC-2"],
            "occurred_at": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "forename": ["Bob", "Robert"],
            "surname": "Hart",
            "date_of_birth": pd.to_datetime(["1980-02-13", None]),
            "person_id": ["P0000001", "P0000003"],
        }
    )
    labels = {"P0000001": "Bob Hart", "P0000002": "Ann Lee"}
    decided = pd.DataFrame({"row_key_l": ["involvements:1"], "row_key_r": ["involvements:2"],
                            "decision": ["not_same"], "author": ["analyst"]})  # fmt: skip
    view = review_view(queue, records, labels, decided, _links())
    assert view["person"].tolist() == ["Bob Hart (P0000001)", "Ann Lee (P0000002)"]
    assert view.at[0, "first record"] == (
        "Bob Hart, born 13 Feb 1980 · suspect, incident INC-1 of 01 Jan 2025 · P0000001"
    )
    assert view.at[0, "second record"] == (
        "Robert Hart · suspect, incident INC-2 of 01 Feb 2025 · P0000003"
    )
    assert view.at[0, "why"].startswith("same date of birth; forename Bob is a nickname")
    assert view["decided"].tolist() == ["not the same (analyst)", ""]
    assert view.at[1, "first record"] == "" and view.at[1, "why"] == ""


# ---------------------------------------------------------------- storage
def test_decided_pairs_and_records_by_key_on_the_database(db_url: str) -> None:
    engine = connect(db_url)
    record_decision(engine, "involvements:2", "involvements:10", "same", "analyst", "one man")
    record_decision(engine, "involvements:2", "involvements:10", "not_same", "admin", "twins")
    pairs = pd.DataFrame({"row_key_l": ["involvements:10", "involvements:3"],
                          "row_key_r": ["involvements:2", "involvements:4"]})  # fmt: skip
    found = decided_pairs(engine, pairs)
    assert found["decision"].tolist()[0] == "not_same"  # the later decision, either order
    assert found["author"].tolist()[0] == "admin"
    assert pd.isna(found["decision"].tolist()[1])
    # no stored records behind these keys: nothing found, nothing invented
    assert records_by_key(engine, ["involvements:2", "marac_referrals:1:victim"]).empty
    engine.dispose()
