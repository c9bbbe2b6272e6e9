"""What the MARAC check page calls: the name search (and its audit: the term
and everyone shown), the check on one person under the settings in force,
display labels and the meeting summary PDF (with the protective marking of
the settings in force)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from adapt.services import data, session
from adapt.services.data import hide_table_downloads
from adapt.services.settings import settings_in_force
from adapt.views.marac import SIDES, MaracCheck, marac_check, result_person, summary_pdf
from adapt.views.marac import labels as _labels
from adapt.views.marac import search as _search
from adapt.views.text import md_escape

SEARCH_TERM_CHARS = 200  # of the search text kept in each audit entry

__all__ = [
    "SIDES",
    "MaracCheck",
    "check",
    "hide_table_downloads",
    "labels",
    "md_escape",
    "prepare",
    "protective_marking",
    "record_search",
    "result_person",
    "search",
    "summary_pdf",
]


def prepare() -> None:
    """Read the history and build the name index now (when the page opens), so
    a search answers without waiting for them."""
    data.history()
    data.name_index()


def search(text: str, *, date_of_birth: date | None, side: str) -> pd.DataFrame:
    """People matching a name (typos allowed), a reference or referral id, and
    a date of birth, on the side asked for."""
    return _search(data.name_index(), data.history(), text, date_of_birth=date_of_birth, side=side)


def record_search(
    results: pd.DataFrame,
    text: str,
    *,
    date_of_birth: date | None,
    side: str,
    purpose: str,
) -> None:
    """Audit a search as the consultation it is (DPA 2018 s.62): one
    ``marac_search`` entry per person shown, each with the search term (and
    date of birth and side) and its place in the list, so the log answers
    both "what was searched for" and "who saw this person's record"; one
    entry naming nobody when no one matched."""
    term = f"search {text.strip()[:SEARCH_TERM_CHARS]!r}"
    if date_of_birth is not None:
        term += f", born {date_of_birth:%d/%m/%Y}"
    term += f", {side.lower()}"
    shown = results["person_id"].astype(str).tolist()
    if not shown:
        session.audit("marac_search", purpose=purpose, detail=f"{term}: nobody shown")
        return
    for n, person_id in enumerate(shown, start=1):
        session.audit("marac_search", person_id=person_id, purpose=purpose,
                      detail=f"{term}: {n} of {len(shown)} shown")  # fmt: skip


def protective_marking() -> str:
    """The protective marking documents carry (``governance.protective_marking``
    of the settings in force)."""
    return settings_in_force().governance.protective_marking


def check(person_id: str) -> MaracCheck:
    """The MARAC check of one person as of the latest data, under the settings
    in force (their SafeLives repeat window)."""
    around = data.history_index()
    # only the rows around this person and the people with them: the same answer as on
    # the whole history, given the whole history's last date
    local = around.local(around.neighbours(person_id))
    return marac_check(
        local, person_id, as_of=data.history().last_date, settings=settings_in_force()
    )


def labels(person_ids: Iterable[object]) -> dict[str, str]:
    """``person_id -> "Name (P0000001)"`` for display."""
    return _labels(data.name_index(), person_ids)
