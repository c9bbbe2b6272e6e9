"""Stable person ids: a re-run keeps ids; merges and splits keep the id of the
larger part and record where the rest went."""

from __future__ import annotations

import pandas as pd

from adapt.identity.ids import assign_ids

EMPTY = pd.DataFrame({"row_key": pd.Series(dtype=str), "person_id": pd.Series(dtype=str)})


def _clusters(groups: list[list[str]]) -> pd.DataFrame:
    # Labels deliberately unrelated to previous ids (a re-run relabels clusters).
    return pd.DataFrame(
        [(key, 100 - i) for i, group in enumerate(groups) for key in group],
        columns=["row_key", "cluster"],
    )


def _ids(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(zip(result.assignments.row_key, result.assignments.person_id, strict=True))


def _lineage(result) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    return sorted(map(tuple, result.lineage.values.tolist()))


def test_first_run_numbers_people_in_row_key_order() -> None:
    result = assign_ids(_clusters([["b", "c"], ["a"]]), EMPTY, next_number=1)
    assert _ids(result) == {"a": "P0000001", "b": "P0000002", "c": "P0000002"}
    assert result.created == ["P0000001", "P0000002"]
    assert result.lineage.empty


def test_rerun_with_same_grouping_keeps_every_id() -> None:
    first = assign_ids(_clusters([["a", "b"], ["c"], ["d", "e", "f"]]), EMPTY, 1)
    again = assign_ids(_clusters([["d", "e", "f"], ["a", "b"], ["c"]]), first.assignments, 4)
    assert _ids(again) == _ids(first)
    assert again.created == [] and again.lineage.empty


def test_merge_keeps_the_larger_persons_id_and_records_the_other() -> None:
    previous = pd.DataFrame(
        {"row_key": ["a", "b", "c"], "person_id": ["P0000005", "P0000005", "P0000009"]}
    )
    result = assign_ids(_clusters([["a", "b", "c"]]), previous, 10)
    assert set(_ids(result).values()) == {"P0000005"}
    assert _lineage(result) == [("merged", "P0000009", "P0000005", 1)]


def test_merge_of_equal_sizes_keeps_the_oldest_id() -> None:
    previous = pd.DataFrame({"row_key": ["a", "b"], "person_id": ["P0000007", "P0000003"]})
    result = assign_ids(_clusters([["a", "b"]]), previous, 10)
    assert set(_ids(result).values()) == {"P0000003"}
    assert _lineage(result) == [("merged", "P0000007", "P0000003", 1)]


def test_split_keeps_the_id_on_the_larger_part_and_numbers_the_rest_anew() -> None:
    previous = pd.DataFrame({"row_key": list("abc"), "person_id": ["P0000002"] * 3})
    result = assign_ids(_clusters([["a", "b"], ["c"]]), previous, next_number=40)
    assert _ids(result) == {"a": "P0000002", "b": "P0000002", "c": "P0000040"}
    assert _lineage(result) == [("split", "P0000002", "P0000040", 1)]


def test_new_rows_join_existing_people_or_become_new_people() -> None:
    previous = pd.DataFrame({"row_key": ["a"], "person_id": ["P0000001"]})
    result = assign_ids(_clusters([["a", "x"], ["y"]]), previous, next_number=2)
    assert _ids(result) == {"a": "P0000001", "x": "P0000001", "y": "P0000002"}
    assert result.lineage.empty


def test_ids_are_never_reused() -> None:
    # P0000002 was merged away in an earlier run; the next new id is 3, not 2.
    previous = pd.DataFrame({"row_key": ["a"], "person_id": ["P0000001"]})
    result = assign_ids(_clusters([["a"], ["z"]]), previous, next_number=3)
    assert _ids(result)["z"] == "P0000003"


def test_a_swap_of_rows_between_two_people_records_both_moves() -> None:
    previous = pd.DataFrame(
        {"row_key": list("abcdef"), "person_id": ["P0000001"] * 3 + ["P0000002"] * 3}
    )
    # c moves from person 1 to person 2.
    result = assign_ids(_clusters([["a", "b"], ["c", "d", "e", "f"]]), previous, 3)
    ids = _ids(result)
    assert ids["a"] == ids["b"] == "P0000001"
    assert ids["c"] == ids["f"] == "P0000002"
    assert _lineage(result) == [("split", "P0000001", "P0000002", 1)]
