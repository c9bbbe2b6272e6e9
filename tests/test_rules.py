"""Each domain rule of adapt.rules on hand-reasoned cases: the expected values
are worked out from the rule as a police user would state it, not copied from
the code's output."""

from __future__ import annotations

import pandas as pd
import pytest

from adapt.core.harm import load_harm_table
from adapt.rules.addresses import (
    normalise_address,
    normalise_postcode,
    postcode_display,
    postcode_key,
    postcode_parts,
    split_trailing_postcode,
)
from adapt.rules.harm import incident_harm
from adapt.rules.names import fold_name, fold_names, forename_keys, latin1, surname_keys
from adapt.rules.pairs import incident_pairs
from adapt.rules.safelives import repeat_incidents, window_end


# ------------------------------------------------------------------ SafeLives
def _pairs(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["incident_id", "suspect_id", "victim_id", "occurred_at"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], format="ISO8601")
    return frame


def _referrals(*rows: tuple[str, str, str, str, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "referral_id", "perpetrator_person_id", "victim_person_id", "referral_date",
            "flagged_at",
        ],
    )  # fmt: skip
    frame["referral_date"] = pd.to_datetime(frame["referral_date"])
    frame["flagged_at"] = pd.to_datetime(frame["flagged_at"])
    return frame


# P1 against V1, referred on 1 Jan 2025 (flagged 1 Feb). 30 Jun 2025 is day
# 180 after the referral (Jan 30 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 30
# = 180), 1 Jul 2025 is day 181.
REFERRAL = ("R1", "P1", "V1", "2025-01-01", "2025-02-01")
ON_THE_DAY = ("I0", "P1", "V1", "2025-01-01")
DAY_180 = ("I180", "P1", "V1", "2025-06-30")
DAY_181 = ("I181", "P1", "V1", "2025-07-01")


def test_a_repeat_on_the_last_day_of_the_window_counts_and_the_day_after_does_not() -> None:
    found = repeat_incidents(_pairs(ON_THE_DAY, DAY_180, DAY_181), _referrals(REFERRAL), 180)
    assert list(found["incident_id"]) == ["I180"]
    assert list(found["days_after_referral"]) == [180]
    wider = repeat_incidents(_pairs(ON_THE_DAY, DAY_180, DAY_181), _referrals(REFERRAL), 365)
    assert list(wider["incident_id"]) == ["I180", "I181"]


def test_the_referrals_own_incident_is_not_a_repeat() -> None:
    # Same day, even later in the day than the referral was made.
    found = repeat_incidents(
        _pairs(("I0", "P1", "V1", "2025-01-01 23:00")), _referrals(REFERRAL), 365
    )
    assert found.empty
    # The next day is a repeat (day 1).
    found = repeat_incidents(_pairs(("I1", "P1", "V1", "2025-01-02")), _referrals(REFERRAL), 365)
    assert list(found["days_after_referral"]) == [1]


def test_the_flag_is_late_for_a_repeat_before_it_was_put_on() -> None:
    pairs = _pairs(
        ("I1", "P1", "V1", "2025-01-15"),  # flag put on 1 Feb: late
        ("I2", "P1", "V1", "2025-02-01 08:00"),  # the flag's own day: on
        ("I3", "P1", "V1", "2025-03-01"),  # after: on
        ("I4", "P2", "V2", "2025-03-01"),  # a referral never flagged: late
    )
    refs = _referrals(REFERRAL, ("R2", "P2", "V2", "2025-01-01", None))
    found = repeat_incidents(pairs, refs, 365).set_index("incident_id")
    assert found["late_flag"].to_dict() == {"I1": True, "I2": False, "I3": False, "I4": True}
    assert found["referral_id"].to_dict() == {"I1": "R1", "I2": "R1", "I3": "R1", "I4": "R2"}


def test_the_latest_earlier_referral_of_the_same_pair_counts() -> None:
    pairs = _pairs(
        ("I1", "P1", "V1", "2026-05-01"),  # 485 days after R1, 151 after R2
        ("I2", "P1", "V2", "2025-03-01"),  # V2 was never referred with P1
        ("I3", "P9", "V1", "2025-03-01"),  # V1 was referred, but not with P9
    )
    refs = _referrals(REFERRAL, ("R2", "P1", "V1", "2025-12-01", "2025-12-02"))
    found = repeat_incidents(pairs, refs, 365)
    assert list(found["incident_id"]) == ["I1"]
    assert list(found["referral_id"]) == ["R2"]
    assert list(found["days_after_referral"]) == [151]


def test_two_referrals_of_a_pair_on_one_day_give_one_answer_in_any_row_order() -> None:
    # R1 (flagged 1 Feb) and R1b (never flagged) refer P1 against V1 on the
    # same day; the repeat on 15 Feb is late under R1b, on time under R1. The
    # rule must not depend on the rows' order (the Spark engine feeds each
    # partition in its own order): the later referral id, R1b, counts.
    pairs = _pairs(("I1", "P1", "V1", "2025-02-15"))
    both = _referrals(REFERRAL, ("R1b", "P1", "V1", "2025-01-01", None))
    for refs in (both, both.iloc[::-1], pd.concat([both] * 3).iloc[[2, 0, 5, 1, 4, 3]]):
        found = repeat_incidents(pairs, refs.reset_index(drop=True), 365)
        assert list(found["referral_id"]) == ["R1b"]
        assert list(found["late_flag"]) == [True]


def test_referrals_without_both_people_and_other_columns() -> None:
    pairs = _pairs(("I1", "P1", "V1", "2025-02-01")).assign(offence="abh")
    refs = _referrals(("R1", None, "V1", "2025-01-01", None))  # perpetrator unknown
    found = repeat_incidents(pairs, refs, 365)
    assert found.empty and "offence" in found.columns
    found = repeat_incidents(pairs, _referrals(REFERRAL), 365)
    assert list(found["offence"]) == ["abh"]  # other columns of the pairs are kept


def test_the_window_ends_repeat_days_after_the_referral() -> None:
    ends = window_end(pd.Series(pd.to_datetime(["2025-01-01", "2024-03-01"])), 365)
    # 2024 is a leap year: 365 days after 1 March 2024 is 1 March 2025.
    assert list(ends) == [pd.Timestamp("2026-01-01"), pd.Timestamp("2025-03-01")]


# ---------------------------------------------------------------------- names
def test_names_fold_through_one_transliteration() -> None:
    assert fold_name("Æsa Œdipe Đurić") == "aesa oedipe duric"
    assert fold_name("José") == fold_name("Jose") == "jose"
    assert fold_name("Łukasz Wałęsa") == "lukasz walesa"
    assert fold_name("Straße") == "strasse"
    assert fold_name("O'Brien") == fold_name("O’Brien") == "obrien"
    assert fold_name("  Mary-Jane   St. John ") == "mary jane st john"
    assert fold_name("J0hn") == "j hn"  # a digit is not a letter
    assert fold_name(None) == "" and fold_name(pd.NA) == "" and fold_name("") == ""


def test_fold_names_keeps_the_index_and_missing_values() -> None:
    values = pd.Series(["José", None, "Jose", "ZOË"], index=[10, 11, 12, 13])
    out = fold_names(values)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.tolist() == ["jose", pd.NA, "jose", "zoe"]


def test_name_keys() -> None:
    forenames = pd.Series(["Mary-Jane", "J.", "  Zoë Ann", "123", None])
    assert forename_keys(forenames).tolist() == ["mary", "j", "zoe", pd.NA, pd.NA]
    surnames = pd.Series(["Smythe-Brown", "O'Brien", "de la Cruz", "--"])
    assert surname_keys(surnames).tolist() == ["smythebrown", "obrien", "delacruz", pd.NA]


def test_latin1_keeps_latin1_letters_and_transliterates_the_rest() -> None:
    assert latin1("Zoë Ñame") == "Zoë Ñame"  # both letters are latin-1
    assert latin1("Łukasz") == "Lukasz"
    assert latin1("山田") == "ShanTian"
    assert latin1("a — “b”") == 'a - "b"'
    assert latin1("Zoe\u0308") == "Zoë"  # a combining accent composes first
    assert all(ord(c) < 256 for c in latin1("Ørjan 😀 Đurić 山田"))


# ------------------------------------------------------------------ addresses
def test_postcodes_typed_differently_have_one_key() -> None:
    typed = pd.Series(["sw1a1aa", " SW1A 1AA ", "sw1a-1aa", "SW1A  1AA"])
    assert postcode_key(typed).tolist() == ["SW1A1AA"] * 4
    assert normalise_postcode(typed).tolist() == ["SW1A 1AA"] * 4
    assert postcode_display(pd.Series(["LE12AB", "M11AE"])).tolist() == ["LE1 2AB", "M1 1AE"]


def test_text_that_is_not_a_postcode_is_cleaned_not_spaced() -> None:
    out = normalise_postcode(pd.Series(["no fixed abode", "", None, "LE1"]))
    assert out.tolist() == ["NOFIXEDABODE", pd.NA, pd.NA, "LE1"]


def test_postcode_district_and_sector() -> None:
    parts = postcode_parts(pd.Series(["LE1 2AB", "SW1A 1AA"]))
    assert parts["district"].tolist() == ["LE1", "SW1A"]
    assert parts["sector"].tolist() == ["LE1 2", "SW1A 1"]


def test_addresses_normalise_to_one_key() -> None:
    out = normalise_address(
        pd.Series(["12 High St, Glenmoor", "12 HIGH STREET", "Flat 3, 12 Stanley Rd", "  ", None])
    )
    assert out["addr"].tolist() == [
        "12 high street glenmoor", "12 high street", "flat 3 12 stanley road", pd.NA, pd.NA,
    ]  # fmt: skip
    # The trailing town is dropped from the key; "Stanley" is not "Streetanley".
    assert out["addr_key"].tolist()[:3] == ["12 high street", "12 high street",
                                            "flat 3 12 stanley road"]  # fmt: skip
    assert out["addr_num"].tolist()[:3] == ["12", "12", "3 12"]


def test_a_postcode_typed_at_the_end_of_an_address_is_split_off() -> None:
    out = split_trailing_postcode(pd.Series(["12 High St, le1 2ab", "12 High St", None]))
    assert out["text"].tolist() == ["12 High St", "12 High St", pd.NA]
    assert out["postcode"].tolist() == ["le1 2ab", pd.NA, pd.NA]


# ----------------------------------------------------------------------- harm
def test_harm_per_incident() -> None:
    table = load_harm_table("cambridge_chi_v1")
    incidents = pd.DataFrame(
        {
            "offence": ["abh", "abh", "rape", "not_an_offence", "common_assault"],
            "is_crime": [True, False, True, True, None],
        },
        index=[5, 6, 7, 8, 9],
    )
    harm = incident_harm(incidents, "cambridge_chi_v1")
    assert list(harm.index) == [5, 6, 7, 8, 9]
    assert harm.tolist() == [
        table.offences["abh"],  # a crime: its offence's days
        table.non_crime_days,  # the same offence as a non-crime: the non-crime days
        table.offences["rape"],
        0.0,  # an offence the table does not know: no harm, not a missing value
        table.offences["common_assault"],  # unknown crime status is treated as a crime
    ]
    assert incident_harm(incidents, table).equals(harm)  # a loaded table works too


# ---------------------------------------------------------------------- pairs
def test_pairs_are_every_suspect_with_every_victim_but_not_themselves() -> None:
    inv = pd.DataFrame(
        [
            ("I1", "suspect", "P1", "intimate_partner"),
            ("I1", "suspect", "P2", "family"),
            ("I1", "victim", "V1", None),
            ("I1", "victim", "V2", None),
            ("I1", "witness", "W1", None),
            ("I2", "suspect", "P3", "ex_partner"),
            ("I2", "victim", "P3", None),  # the same person on both sides
            ("I2", "victim", "V3", None),
            ("I2", "victim", "V3", None),  # recorded twice
            ("I2", "victim", None, None),  # not resolved
            ("I3", "suspect", "P4", None),  # no victim
        ],
        columns=["incident_id", "role", "person_id", "relationship"],
    )
    pairs = incident_pairs(inv, ["relationship"])
    got = sorted(map(tuple, pairs[["incident_id", "suspect_id", "victim_id"]].values.tolist()))
    assert got == [
        ("I1", "P1", "V1"), ("I1", "P1", "V2"), ("I1", "P2", "V1"), ("I1", "P2", "V2"),
        ("I2", "P3", "V3"),
    ]  # fmt: skip
    relationship = pairs.set_index(["suspect_id", "victim_id"])["relationship"]
    assert relationship[("P2", "V1")] == "family"  # the suspect's row's relationship


@pytest.mark.parametrize("empty", [True, False])
def test_pairs_of_nothing(empty: bool) -> None:
    inv = pd.DataFrame({"incident_id": ["I1"], "role": ["witness"], "person_id": ["W1"]})
    pairs = incident_pairs(inv.iloc[:0] if empty else inv)
    assert pairs.empty and list(pairs.columns) == ["incident_id", "suspect_id", "victim_id"]
