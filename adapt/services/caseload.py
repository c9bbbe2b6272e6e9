"""What the Caseload page calls: an officer's caseload (the people they
manage, plan reviews due, actions, new incidents since the last contact),
the endings of management, a plan review or contact recorded, and the outcome
panel for the whole cohort (cached by the data version and the adoptions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from adapt.core.settings import Settings
from adapt.db import app_store
from adapt.db import caseload as caseload_store
from adapt.evaluation.cohort_outcomes import (
    CohortOutcome,
    cohort_outcomes,
    first_adoptions,
    suspect_harm,
)
from adapt.services import data, session
from adapt.services import settings as saved_settings
from adapt.views import caseload as views
from adapt.views.text import md_escape

EXIT_STATES = app_store.EXIT_STATES
EXIT_STATE_WORDS = views.EXIT_STATE_WORDS
#: The exit states in words, as the page offers them -> the stored state.
EXIT_STATE_CHOICES = {words: state for state, words in EXIT_STATE_WORDS.items()}
CASELOAD_LABELS = views.CASELOAD_LABELS
CASELOAD_COLUMNS = views.CASELOAD_COLUMNS
SOON_DAYS = views.SOON_DAYS

__all__ = [
    "CASELOAD_COLUMNS",
    "CASELOAD_LABELS",
    "EXIT_STATES",
    "EXIT_STATE_CHOICES",
    "EXIT_STATE_WORDS",
    "SOON_DAYS",
    "Caseload",
    "end_management",
    "ended",
    "load",
    "md_escape",
    "officers",
    "outcome",
    "record_contact",
]


@dataclass(frozen=True)
class Caseload:
    """Everything the page draws about a caseload, in words."""

    table: pd.DataFrame  # views.caseload_table
    reviews_due: pd.DataFrame
    actions: pd.DataFrame
    new_incidents: pd.DataFrame
    summary: str
    choices: dict[str, str]  # person_id -> "Name (id)"
    review_days: int


def _settings() -> Settings:
    return saved_settings.settings_in_force()


@st.cache_resource(show_spinner=False, max_entries=2)
def _names(version: tuple) -> pd.Series:
    labels = data.labels().drop_duplicates("person_id")
    index = pd.Index(labels["person_id"].astype(str).to_numpy(dtype=object), dtype=object)
    return pd.Series(labels["label"].astype(str).to_numpy(dtype=object), index=index)


def names() -> pd.Series:
    """person id -> name, for every resolved person (cached by the data version)."""
    return _names(data.data_version())


@st.cache_resource(show_spinner="Reading the incidents…", max_entries=2)
def _suspect_incidents(version: tuple, harm_table: str) -> pd.DataFrame:
    return suspect_harm(data.history(), harm_table)


def suspect_incidents(harm_table: str) -> pd.DataFrame:
    """Every (incident, suspect) with its harm (cached by the data version;
    the caseload and the outcome panel share it)."""
    return _suspect_incidents(data.data_version(), harm_table)


def load(officer: str | None, viewer: str | None = None, today: date | None = None) -> Caseload:
    """``officer``'s caseload (the whole team's when None) on ``today``, as
    ``viewer`` (the signed-in user) reads it ("You manage" when it is theirs)."""
    engine = session.engine()
    today = today or date.today()
    settings = _settings()
    labels = names()
    decisions = app_store.decisions_frame(engine)
    managed = views.managed_people(decisions)
    plan_versions = app_store.plan_entries_frame(engine, managed["person_id"].tolist())
    people = views.caseload_people(managed, plan_versions, officer)
    every = suspect_incidents(settings.harm_table)
    incidents = every[every["person_id"].isin(people["person_id"].astype(str).tolist())]
    days = settings.cycle.plan_review_days
    table = views.caseload_table(people, plan_versions, incidents, labels, today, days)
    new = views.new_incidents(people, plan_versions, incidents)
    if officer is None:
        whose = "The team manages"
    else:
        whose = "You manage" if officer == viewer else f"{officer} manages"
    return Caseload(
        table=table,
        reviews_due=views.reviews_due(table),
        actions=views.open_actions(people, plan_versions, labels, today),
        new_incidents=views.new_incidents_table(new, labels),
        summary=views.summary_sentence(table, whose),
        choices=views.person_choices(table),
        review_days=days,
    )


def officers() -> list[str]:
    """Who adopted the people managed now (the admin's choice of caseload)."""
    managed = views.managed_people(app_store.decisions_frame(session.engine()))
    return sorted(managed["adopted_by"].dropna().astype(str).unique().tolist())


def ended() -> pd.DataFrame:
    """Every ending of management, newest first, in words."""
    return views.ended_managements(app_store.decisions_frame(session.engine()), names())


def end_management(user: dict, person_id: str, exit_state: str, reason: str) -> None:
    """End the management of a person the officer may end (re-checked here;
    audited ``management_ended`` by the store)."""
    if not session.allowed("caseload", "end_management"):
        raise PermissionError("your role may not end management")
    app_store.end_management(
        session.engine(),
        person_id=person_id,
        exit_state=exit_state,
        author=user["username"],
        reason=reason,
    )


def record_contact(user: dict, person_id: str, review: bool, text: str) -> None:
    """Record a plan review held (a ``review`` entry, done) or a contact (a
    ``note``); audited ``plan_change`` by the store."""
    if not session.allowed("caseload", "edit_plan"):
        raise PermissionError("your role may not edit plans")
    app_store.save_plan_entry(
        session.engine(),
        person_id=person_id,
        author=user["username"],
        kind="review" if review else "note",
        text=text,
        owner=user["username"],
        status="done" if review else "open",
    )


# --------------------------------------------------------------- outcome
@st.cache_resource(show_spinner="Comparing outcomes…", max_entries=4)
def _outcome(version: tuple, adoptions_key: tuple, harm_table: str) -> CohortOutcome:
    engine = session.engine()
    adoptions = first_adoptions(app_store.decisions_frame(engine))
    scores = caseload_store.scores_on_dates(engine, adoptions["adopted_as_of"].tolist())
    return cohort_outcomes(
        _suspect_incidents(version, harm_table), adoptions, data.history().last_date, scores
    )


def outcome() -> CohortOutcome:
    """The outcome panel for the whole cohort (cached until the data or the
    adoptions change)."""
    adoptions = first_adoptions(app_store.decisions_frame(session.engine()))
    key = tuple(
        zip(
            adoptions["person_id"].astype(str).tolist(),
            adoptions["adopted_as_of"].astype(str).tolist(),
            strict=True,
        )
    )
    return _outcome(data.data_version(), key, _settings().harm_table)
