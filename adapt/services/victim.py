"""What the Victim page calls: the victims to choose from, a victim's page
(:mod:`adapt.views.victim`) under the settings in force, display labels, and
the audit of opening it (``view_person``, with the purpose, as the Person
page does; and one entry for each other person the page shows)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from adapt.core.settings import Settings
from adapt.services import data
from adapt.services.marac import audit_each, counted
from adapt.services.marac import labels as labels
from adapt.services.settings import settings_in_force
from adapt.views.person import PERSON_OPTIONS, person_options
from adapt.views.text import md_escape
from adapt.views.victim import (
    VictimView,
    other_victims_table,
    perpetrators_of,
    perpetrators_table,
    summary_words,
    timeline_figure,
    timeline_table,
    victim_view,
)

__all__ = [
    "PERSON_OPTIONS",
    "VictimView",
    "counted",
    "labels",
    "md_escape",
    "other_victims_table",
    "perpetrators_table",
    "record_view",
    "summary_words",
    "timeline_figure",
    "timeline_table",
    "victim",
    "victim_options",
]


@st.cache_resource(show_spinner=False, max_entries=2)
def _victims(version: tuple) -> pd.DataFrame:
    """``person_id, label`` of everyone ever recorded as a victim."""
    people = data.name_index().people
    ids = people.index[people["is_victim"].astype(bool).to_numpy()]
    frame = data.labels()
    return frame[frame["person_id"].isin(ids)].reset_index(drop=True)


def victim_options(query: str, current: str | None) -> tuple[list[str], int]:
    """The victims the page's box offers for ``query`` (part of a name, accents
    folded, or of an id), and how many match (:func:`adapt.views.person.person_options`)."""
    return person_options(_victims(data.data_version()), query, current)


@st.cache_resource(show_spinner="Reading the victim's history…", max_entries=16)
def _victim(version: tuple, victim_id: str, settings_json: str) -> VictimView:
    around = data.history_index()
    perps = perpetrators_of(around.local([victim_id]), victim_id)
    near = around.local([victim_id, *perps])
    others = near.involvements["person_id"].dropna().astype(str).tolist()
    others += near.marac["victim_person_id"].dropna().astype(str).tolist()
    # the rows around the victim, their perpetrators and the perpetrators' other victims:
    # the same answer as on the whole history, given its last date
    local = around.local([victim_id, *perps, *others])
    settings = Settings.from_json(settings_json)
    return victim_view(local, victim_id, data.history().last_date, settings=settings)


def victim(victim_id: str) -> VictimView:
    """The victim page of ``victim_id`` as of the latest data, under the settings in force."""
    return _victim(data.data_version(), victim_id, settings_in_force().to_json())


def record_view(view: VictimView, purpose: str) -> None:
    """Audit opening the page: ``view_person`` for the victim ("victim page"),
    and for each perpetrator and other victim it shows, in one transaction."""
    shown = view.people()
    audit_each(
        "view_person",
        [(view.victim_id, f"victim page; {len(shown)} other people shown"),
         *[(p, f"shown on the victim page of {view.victim_id}") for p in shown]],
        purpose,
    )  # fmt: skip
