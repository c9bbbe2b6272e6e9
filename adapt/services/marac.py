"""What the MARAC check page calls: the name search (and its audit: the term
and everyone shown), the check on one person under the settings in force,
display labels and tables in plain words, the meeting summary PDF (with the
protective marking of the settings in force), and the meeting list (built,
audited as the consultation it is, exported and printed)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
import streamlit as st

from adapt.core.settings import Settings
from adapt.db import app_store
from adapt.db.engine import writer
from adapt.exports import table_bytes
from adapt.services import data, session
from adapt.services.data import hide_table_downloads
from adapt.services.settings import settings_in_force
from adapt.views import marac_meeting
from adapt.views.marac import (
    SIDES,
    MaracCheck,
    addresses_table,
    counted,
    day_words,
    marac_check,
    referrals_table,
    repeats_table,
    result_person,
    results_table,
    summary_pdf,
    victims_table,
)
from adapt.views.marac import labels as _labels
from adapt.views.marac import search as _search
from adapt.views.marac_meeting import (
    SECTIONS,
    MeetingList,
    late_flags_table,
    serial_table,
    summary_words,
)
from adapt.views.marac_meeting import meeting_list_pdf as meeting_pdf
from adapt.views.marac_meeting import repeats_table as meeting_repeats_table
from adapt.views.text import md_escape

SEARCH_TERM_CHARS = 200  # of the search text kept in each audit entry

__all__ = [
    "SECTIONS",
    "SIDES",
    "MaracCheck",
    "MeetingList",
    "addresses_table",
    "audit_each",
    "check",
    "counted",
    "day_words",
    "default_meeting_date",
    "hide_table_downloads",
    "is_victim",
    "labels",
    "late_flags_table",
    "md_escape",
    "meeting_file",
    "meeting_list",
    "meeting_pdf",
    "meeting_repeats_table",
    "prepare",
    "previous_meeting",
    "protective_marking",
    "record_meeting_list",
    "record_search",
    "referrals_table",
    "repeats_table",
    "result_person",
    "results_table",
    "search",
    "serial_table",
    "summary_pdf",
    "summary_words",
    "victims_table",
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


def audit_each(action: str, entries: list[tuple[str | None, str]], purpose: str) -> None:
    """One audit entry per ``(person_id, detail)``, all in one write
    transaction (one commit instead of one per person shown)."""
    user = session.current_user()
    with writer(session.engine()) as conn:
        for person_id, detail in entries:
            app_store.record_in(
                conn, username=user["username"] if user else "anonymous",
                role=user["role"] if user else None, action=action, person_id=person_id,
                purpose=purpose, detail=detail,
            )  # fmt: skip


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
        audit_each("marac_search", [(None, f"{term}: nobody shown")], purpose)
        return
    audit_each(
        "marac_search",
        [(p, f"{term}: {n} of {len(shown)} shown") for n, p in enumerate(shown, start=1)],
        purpose,
    )


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


def is_victim(person_id: str) -> bool:
    """Whether the person was ever recorded as a victim (an incident or a referral)."""
    people = data.name_index().people
    return person_id in people.index and bool(people.at[person_id, "is_victim"])


# -------------------------------------------------------------- meeting list
def default_meeting_date() -> date:
    """The meeting date offered first: the date of the latest data."""
    return data.default_as_of()


def previous_meeting(meeting: date) -> date:
    """The previous meeting by default: one review interval before
    (``settings.cycle.review_interval_days``, four weeks)."""
    return marac_meeting.previous_meeting(meeting, settings_in_force()).date()


@st.cache_resource(show_spinner="Building the meeting list…", max_entries=8)
def _meeting_list(version: tuple, meeting: date, since: date, settings_json: str) -> MeetingList:
    settings = Settings.from_json(settings_json)
    return marac_meeting.meeting_list(data.history(), meeting, since, settings=settings)


def meeting_list(meeting: date, since: date) -> MeetingList:
    """The meeting list (:func:`adapt.views.marac_meeting.meeting_list`) under
    the settings in force; shared between sessions until the data change."""
    return _meeting_list(data.data_version(), meeting, since, settings_in_force().to_json())


def record_meeting_list(ml: MeetingList, purpose: str) -> None:
    """Audit the list as a consultation of everyone it names: one
    ``marac_meeting_list`` entry per person, with the meeting's dates; one
    naming nobody when the list is empty."""
    term = f"meeting list for {day_words(ml.meeting_date)}, since {day_words(ml.since)}"
    people = ml.people()
    if not people:
        audit_each("marac_meeting_list", [(None, f"{term}: nobody listed")], purpose)
        return
    audit_each("marac_meeting_list",
                [(p, f"{term}: {n} of {len(people)} listed") for n, p in enumerate(people, 1)],
                purpose)  # fmt: skip


def meeting_file(ml: MeetingList, names: dict[str, str], suffix: str) -> bytes:
    """The whole list as a formula-safe CSV or XLSX file."""
    return table_bytes(marac_meeting.export_table(ml, names), suffix, "MARAC meeting list")
