"""A person's lineage in words, for the Person pathway's "Who this is": each
merge and split that touched the person (when, in which identity run, and
why: the analyst's decision and reason, else "automatic" with the guard that
kept records apart), and the cohort decisions and plan entries that moved.

Pure formatting of the frames :func:`adapt.db.continuity.lineage_events` and
:func:`adapt.db.continuity.manual_moves` read.
"""

from __future__ import annotations

import pandas as pd

ITEM_NAMES = {
    "cohort_decision": ("cohort decision", "cohort decisions"),
    "plan_entry": ("plan entry", "plan entries"),
}


def long_date(when: object) -> str:
    """ "4 December 2026".

    >>> long_date(pd.Timestamp("2026-12-04 23:10"))
    '4 December 2026'
    """
    stamp = pd.Timestamp(when)
    return f"{stamp.day} {stamp:%B %Y}"


def _count(n: int, kind: str) -> str:
    one, many = ITEM_NAMES[kind]
    return f"{n} {one if n == 1 else many}"


def _items(decisions: int, plans: int) -> str:
    """ "1 cohort decision and 2 plan entries" ('' when none)."""
    parts = [_count(n, k) for n, k in ((decisions, "cohort_decision"), (plans, "plan_entry")) if n]
    return " and ".join(parts)


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip().rstrip(".")


def why(event: pd.Series) -> str:
    """Why one lineage event happened, in words.

    >>> why(pd.Series({"cause": "same", "reason": "same custody photo."}))
    'because an analyst decided they are the same: same custody photo'
    >>> why(pd.Series({"cause": "guard: dates of birth differ", "reason": None}))
    'automatic (dates of birth differ)'
    >>> why(pd.Series({"cause": None, "reason": None}))
    'automatic'
    """
    cause = _text(event.get("cause"))
    if cause == "same":
        return f"because an analyst decided they are the same: {_text(event.get('reason'))}"
    if cause == "not_same":
        return f"because an analyst decided they are not the same: {_text(event.get('reason'))}"
    if cause == "same_revoked":
        reason = _text(event.get("revoke_reason"))
        return f"because an analyst withdrew the decision that they are the same: {reason}"
    if cause.startswith("guard:"):
        return f"automatic ({cause.removeprefix('guard:').strip()})"
    return "automatic"


def _joined(head: str, reason: str) -> str:
    # "…, because …" reads on; "…: automatic" is a label.
    return f"{head}, {reason}." if reason.startswith("because") else f"{head}: {reason}."


def event_line(event: pd.Series, person_id: str) -> str:
    """One merge or split, as the person ``person_id`` sees it.

    >>> e = pd.Series({"run_id": 7, "at": pd.Timestamp("2026-12-04"), "event": "merged",
    ...     "person_id": "P0006775", "other_person_id": "P0000251", "rows_moved": 3,
    ...     "cause": "same", "reason": "Same PNC number", "decisions_moved": 1,
    ...     "plans_moved": 2})
    >>> event_line(e, "P0000251")  # doctest: +NORMALIZE_WHITESPACE
    'Merged with P0006775 on 4 December 2026 (identity run 7), because an analyst decided
    they are the same: Same PNC number. Its 1 cohort decision and 2 plan entries moved here.'
    >>> event_line(e, "P0006775")  # doctest: +NORMALIZE_WHITESPACE
    'Merged into P0000251 on 4 December 2026 (identity run 7), because an analyst decided
    they are the same: Same PNC number. Its 1 cohort decision and 2 plan entries moved there.'
    >>> s = e.copy()
    >>> s["event"], s["cause"], s["rows_moved"] = "split", "guard: dates of birth differ", 2
    >>> event_line(s, "P0000251")
    'Split from P0006775 on 4 December 2026 (identity run 7): automatic (dates of birth differ).'
    >>> event_line(s, "P0006775")  # doctest: +NORMALIZE_WHITESPACE
    'Split: 2 records went to P0000251 on 4 December 2026 (identity run 7): automatic (dates
    of birth differ). Cohort decisions and plan entries stayed here unless an analyst moved them.'

    Records an analyst's "same" decision took from one person to another read as a move:

    >>> m = s.copy()
    >>> m["cause"], m["reason"], m["rows_moved"] = "same", "Same PNC number", 1
    >>> event_line(m, "P0000251")  # doctest: +NORMALIZE_WHITESPACE
    '1 record moved here from P0006775 on 4 December 2026 (identity run 7), because an
    analyst decided they are the same: Same PNC number.'
    """
    when = f"on {long_date(event['at'])} (identity run {int(event['run_id'])})"
    lost, got = event["person_id"], event["other_person_id"]
    reason = why(event)
    items = _items(int(event.get("decisions_moved", 0)), int(event.get("plans_moved", 0)))
    if event["event"] == "merged":
        if person_id == got:
            line = _joined(f"Merged with {lost} {when}", reason)
            return f"{line} Its {items} moved here." if items else line
        line = _joined(f"Merged into {got} {when}", reason)
        return f"{line} Its {items} moved there." if items else line
    records = int(event.get("rows_moved", 0))
    count = f"{records} record" + ("" if records == 1 else "s")
    if _text(event.get("cause")) == "same":
        # Records that left one person to join another because an analyst said
        # they are the same: a move, not a split, in the reader's words.
        if person_id == got:
            return _joined(f"{count} moved here from {lost} {when}", reason)
        line = _joined(f"{count} moved to {got} {when}", reason)
        return f"{line} Cohort decisions and plan entries stayed here unless an analyst moved them."
    if person_id == got:
        return _joined(f"Split from {lost} {when}", reason)
    line = _joined(f"Split: {count} went to {got} {when}", reason)
    return f"{line} Cohort decisions and plan entries stayed here unless an analyst moved them."


def move_line(move: pd.DataFrame, person_id: str) -> str:
    """One analyst's move of items (the rows of one move: same time, author,
    from and to), as ``person_id`` sees it."""
    first = move.iloc[0]
    counts = move["item_kind"].value_counts()
    items = _items(int(counts.get("cohort_decision", 0)), int(counts.get("plan_entry", 0)))
    when = long_date(first["moved_at"])
    reason = _text(first["reason"])
    if first["to_person_id"] == person_id:
        return (
            f"On {when}, {first['author']} moved {items} here from {first['from_person_id']}: "
            f"{reason}."
        )
    return f"On {when}, {first['author']} moved {items} to {first['to_person_id']}: {reason}."


def lineage_lines(events: pd.DataFrame, moves: pd.DataFrame, person_id: str) -> list[str]:
    """Every merge and split of ``person_id`` and every analyst's move of its
    items, in words, oldest first (empty: this person was never merged or
    split)."""
    dated: list[tuple[pd.Timestamp, int, str]] = []
    for _, event in events.iterrows():
        dated.append((pd.Timestamp(event["at"]), 0, event_line(event, person_id)))
    if len(moves):
        keys = ["moved_at", "author", "from_person_id", "to_person_id"]
        for _, move in moves.groupby(keys, sort=False):
            dated.append((pd.Timestamp(move["moved_at"].iloc[0]), 1, move_line(move, person_id)))
    return [line for _, _, line in sorted(dated, key=lambda d: (d[0], d[1]))]
