"""Prediction blocks are capped, so the pairs grow with the rows, not their square.

Each capped rule is one key column of :func:`splink_adapter.splink_frame`: a
block of more than its cap rows is narrowed by one more part (or, for the
name-only rule, left out), and a narrowed block is kept however big it stays.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from adapt.core.person_rows import PERSON_ROW_COLUMNS
from adapt.identity import splink_adapter as sa
from adapt.identity.normalise import prepare_rows
from adapt.identity.resolve import resolve
from adapt.identity.runner import load_model

BROWNS = 105
ANN = slice(70 + BROWNS, 75 + BROWNS)
SURNAMES = [
    "Adams", "Baker", "Clarke", "Davies", "Evans", "Fisher", "Green", "Hughes", "Irving",
    "Jackson", "Khan", "Lewis", "Morgan", "Nolan", "Owen", "Patel", "Quinn", "Roberts",
    "Turner", "Underwood", "Vaughan", "Walker", "Young", "Zimmer", "Bell", "Carter",
    "Dixon", "Ellis", "Foster", "Grant", "Hardy", "Ingram", "Jordan", "Knight", "Lloyd",
    "Mason", "Norris", "Oakley", "Parker", "Reid",
]  # fmt: skip


def _rows(spec: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(spec)
    frame["row_key"] = [f"involvements:{i}" for i in range(len(frame))]
    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"])
    return prepare_rows(frame.reindex(columns=PERSON_ROW_COLUMNS))


def _population() -> pd.DataFrame:
    spec: list[dict[str, object]] = []
    # 40 different men born the same day with the same initial: one raw
    # "initial + date of birth" block of 40 (cap 20), each his own surname.
    for i, sn in enumerate(SURNAMES):
        spec.append(
            {
                "forename": "James",
                "surname": sn,
                "date_of_birth": "1980-02-01",
                "home_address": f"{i + 1} Mill Lane",
                "home_postcode": f"LE{i % 9 + 1} 1AA",
            }
        )
    # One prolific man: 30 rows, same name and date of birth, 30 addresses.
    for i in range(30):
        spec.append(
            {
                "forename": "Robert",
                "surname": "Smith",
                "date_of_birth": "1975-05-05",
                "home_address": f"{i + 1} Station Road",
                "home_postcode": f"NG{i % 7 + 1} 2BB",
            }
        )
    # 105 John Browns born on 105 different days (a common name, cap 100) and 5 Ann Lees.
    for i in range(BROWNS):
        born = pd.Timestamp("1940-01-03") + pd.Timedelta(days=181 * i)
        spec.append(
            {
                "forename": "John",
                "surname": "Brown",
                "date_of_birth": born.strftime("%Y-%m-%d"),
                "home_address": f"{i + 1} Park Road",
                "home_postcode": f"DE{i % 5 + 1} 3CC",
            }
        )
    for i in range(5):
        spec.append(
            {
                "forename": "Ann",
                "surname": "Lee",
                "date_of_birth": f"19{60 + i}-07-10",
                "home_address": f"{i + 1} Elm Close",
                "home_postcode": "LE5 4DD",
            }
        )
    return _rows(spec)


def _blocks(frame, column: str) -> pd.Series:
    return pd.Series(frame.column(column).to_pylist(), dtype="object")


def test_a_block_past_its_cap_is_narrowed_and_a_small_one_is_left_alone() -> None:
    rows = _population()
    frame = sa.splink_frame(rows, ids=np.arange(len(rows)))
    ik = _blocks(frame, "blk_ik")  # initial + date of birth, narrowed by surname sound
    james = ik.iloc[:40]
    # 40 > 20: narrowed; every James now has a block of his own
    assert james.notna().all() and james.nunique() == 40
    # the 5 Ann Lees (under the cap, born in five years) keep the plain key:
    # a block each, and no narrowed block of another rule's rows among them
    ann = ik.iloc[ANN]
    assert ann.notna().all() and ann.nunique() == 5
    assert not ann.isin(ik.drop(index=ik.index[ANN])).any()
    # the narrowing never makes a block bigger than it was, and never joins
    # rows the plain key kept apart
    raw = rows["fn_init"].astype("string") + "|" + rows["dob_key"].astype("string")
    assert ik.value_counts().max() <= raw.value_counts().max()
    assert (pd.DataFrame({"k": ik, "raw": raw}).groupby("k")["raw"].nunique() == 1).all()


def test_a_narrowed_block_is_kept_however_big_it_stays() -> None:
    rows = _population()
    frame = sa.splink_frame(rows, ids=np.arange(len(rows)))
    fd = _blocks(frame, "blk_fd")  # forename + date of birth, narrowed by surname sound
    robert = fd.iloc[40:70]
    # 30 > 20, narrowed by the surname's sound, still 30 rows: one block, not left out
    assert robert.notna().all() and robert.nunique() == 1
    # ... a narrowed key: nobody outside Robert's rows shares it
    assert not fd.drop(index=fd.index[40:70]).isin(robert).any()


def test_rows_missing_the_narrowing_part_keep_a_block_of_their_own() -> None:
    """25 rows at one postcode with one initial (cap 20): narrowed by year of
    birth; the 5 with no date of birth stay in one block together, not out."""
    spec = [
        {
            "forename": "Jo",
            "surname": s,
            "date_of_birth": None if i < 5 else f"19{60 + i}-01-15",
            "home_address": f"{i + 1} Long Row",
            "home_postcode": "LE1 1AA",
        }
        for i, s in enumerate(SURNAMES[:25])
    ]
    rows = _rows(spec)
    pi = _blocks(sa.splink_frame(rows, ids=np.arange(len(rows))), "blk_pi")
    assert pi.notna().all()
    assert pi.iloc[:5].nunique() == 1
    assert pi.iloc[5:].nunique() == 20  # 20 years of birth, a block each
    assert not pi.iloc[5:].isin(pi.iloc[:5]).any()


def test_the_name_only_rule_leaves_out_a_common_name_past_its_cap() -> None:
    rows = _population()
    frame = sa.splink_frame(rows, ids=np.arange(len(rows)))
    name = _blocks(frame, "blk_name")
    # 105 John Browns > 100: no name-only block (their birth dates differ, nothing else
    # is shared)
    assert name.iloc[70 : 70 + BROWNS].isna().all()
    # 30 Robert Smiths: kept; 5 Ann Lees kept
    assert name.iloc[40:70].nunique() == 1 and name.iloc[40:70].notna().all()
    assert name.iloc[ANN].nunique() == 1 and name.iloc[ANN].notna().all()


def test_capped_rules_make_fewer_pairs_than_the_plain_rules() -> None:
    rows = _population()
    frame = sa.splink_frame(rows, ids=np.arange(len(rows)))
    con = duckdb.connect()
    con.register("t", frame)
    capped = sa.block_pairs(con, "t", 'l."blk_ik" = r."blk_ik"')
    plain = sa.block_pairs(con, "t", 'l."fn_init" = r."fn_init" AND l."dob_key" = r."dob_key"')
    # plain: the 40 Jameses (780 pairs) + Robert's 30 rows (435); capped: Robert's 435 only
    assert plain == 780 + 435
    assert capped == 435


def test_keys_sized_over_the_population_agree_with_the_whole_frame() -> None:
    """An incremental run sizes the blocks over existing + new rows (score_new)."""
    rows = _population()
    whole = sa.splink_frame(rows, ids=np.arange(len(rows)))
    part = rows.iloc[30:75].reset_index(drop=True)
    sized = sa.splink_frame(part, ids=np.arange(len(part)), population=rows)
    for b in sa.CAPPED_BLOCKS:
        assert sized.column(b.column).to_pylist() == whole.column(b.column).to_pylist()[30:75]
    # sized over the part alone, the ten Jameses are under the cap: plain keys
    alone = sa.splink_frame(part, ids=np.arange(len(part)))
    assert _blocks(alone, "blk_ik").iloc[:10].nunique() == 1


def test_the_caps_change_no_one_here(monkeypatch) -> None:
    """On this population every pair the caps leave out is a pair the model
    would not join: the same people with the caps as with none."""
    import dataclasses

    rows = _population()
    capped = resolve(rows, load_model()).clusters["cluster"].to_numpy()
    lifted = tuple(dataclasses.replace(b, cap=10**9) for b in sa.CAPPED_BLOCKS)
    monkeypatch.setattr(sa, "CAPPED_BLOCKS", lifted)
    plain = resolve(rows, load_model()).clusters["cluster"].to_numpy()
    assert pd.crosstab(capped, plain).gt(0).sum().eq(1).all()  # each plain person one capped
    assert len(set(capped)) == len(set(plain))
    assert len(set(capped[:40])) == 40  # 40 different Jameses stay apart
    assert len(set(capped[70 : 70 + BROWNS])) == BROWNS  # so do John Browns born on 105 days


def test_frame_keeps_row_order_and_pandas_term_frequencies() -> None:
    """The frame's rows are in ``rows``' order; each row's tf is its value's
    share of the non-missing values exactly as pandas counts it; ``names``
    is forename|surname, missing if either is."""
    rows = _population()
    rows.loc[3, "sn"] = None  # a missing surname: no tf, no names
    frame = sa.splink_frame(rows, ids=np.arange(len(rows)))
    assert frame.column("row_key").to_pylist() == list(range(len(rows)))
    for c in sa.TF_COLUMNS:
        share = rows[c].value_counts(normalize=True)
        want = rows[c].map(share).astype("float64").to_numpy(na_value=np.nan)
        got = frame.column(f"tf_{c}").to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(got, want)  # bit for bit: the same division
    names = frame.column("names").to_pylist()
    assert names[3] is None
    assert names[0] == f"{rows.loc[0, 'fn']}|{rows.loc[0, 'sn']}"
    # a row missing a part of a key has no block for it (no surname: no
    # surname + date of birth block, no name-only block)
    assert frame.column("blk_sk")[3].as_py() is None
    assert frame.column("blk_name")[3].as_py() is None
