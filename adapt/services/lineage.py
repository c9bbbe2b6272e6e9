"""What the Person pathway calls for case continuity: the person's lineage in
words (merges and splits, when and why), what hangs on the person (cohort
decisions, plan entries), and the analyst's choice, after a split, of which
part those items go with.

After a merge the absorbed id's items follow it on their own (in the identity
run's transaction); after a split they stay, by default, with the part that
keeps the id (the larger part), and :func:`move_case_items` moves any of them
to the other part (audited, with a reason).
"""

from __future__ import annotations

import pandas as pd

from adapt.db import continuity
from adapt.services import session
from adapt.views import lineage as words

__all__ = ["case_items", "current_person_id", "lineage_lines", "move_case_items", "split_parts"]


def lineage_lines(person_id: str) -> list[str]:
    """The person's merges and splits and the moves of their items, one
    sentence each, oldest first ([] when there were none), e.g. "Merged with
    P0006775 on 4 December 2026 (identity run 7), because an analyst decided
    they are the same: same PNC number. Its 1 cohort decision moved here." """
    engine = session.engine()
    events = continuity.lineage_events(engine, person_id)
    moves = continuity.manual_moves(engine, person_id)
    return words.lineage_lines(events, moves, person_id)


def current_person_id(person_id: str) -> str:
    """Where ``person_id`` lives now (the id it was merged into, else itself)."""
    return continuity.current_person_id(session.engine(), person_id)


def case_items(person_id: str) -> pd.DataFrame:
    """The cohort decisions and plan entries on this person: item_id, kind,
    summary, recorded_at (item_id is what :func:`move_case_items` takes)."""
    return continuity.case_items(session.engine(), person_id)


def split_parts(person_id: str) -> list[str]:
    """The other ids this person's records were split off to, or split from
    (newest first, without repeats): where its items may go."""
    events = continuity.lineage_events(session.engine(), person_id)
    split = events[events["event"] == "split"].iloc[::-1]
    others = split["other_person_id"].where(split["person_id"] == person_id, split["person_id"])
    return list(dict.fromkeys(others.tolist()))


def move_case_items(user: dict, from_id: str, to_id: str, item_ids: list[str], reason: str) -> int:
    """Move the chosen items from one part of a split to the other (one
    transaction, audited by the store with the reason); returns how many moved."""
    return continuity.move_case_items(
        session.engine(), from_id, to_id, list(item_ids), user["username"], reason
    )
