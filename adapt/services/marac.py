"""What the MARAC check page calls: the name search, the check on one person
under the settings in force, display labels and the meeting summary PDF."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from adapt.services import data
from adapt.services.settings import settings_in_force
from adapt.views.marac import SIDES, MaracCheck, marac_check, result_person, summary_pdf
from adapt.views.marac import labels as _labels
from adapt.views.marac import search as _search

__all__ = [
    "SIDES",
    "MaracCheck",
    "check",
    "labels",
    "prepare",
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
