"""What the Person pathway page calls: who this is and why the rows were
joined, an analyst's split (recorded at once; the identity run that applies it
is a background job), the timeline, victims and addresses, the network, the
management plan and the outcome after adoption."""

from __future__ import annotations

import pandas as pd

from adapt.core.history import History
from adapt.db import app_store, people
from adapt.db import identity as identity_store
from adapt.services import data, review, session
from adapt.services.review import (
    IDENTITY_RUN,
    explain_pair,
    link_summary,
    person_links,
    record_choices,
)
from adapt.views.person import (
    PERSON_OPTIONS,
    adoption_date,
    aliases,
    escalation_signals,
    identity_rows,
    network_figure,
    network_frames,
    outcome_before_after,
    person_addresses,
    person_events,
    person_incidents,
    person_options,
    person_periods,
    person_victims,
    plan_by_pathway,
    timeline_figure,
)
from adapt.views.person import join_reasons as _join_reasons
from adapt.views.text import md_escape

IOM_PATHWAYS = app_store.IOM_PATHWAYS
PLAN_KINDS = app_store.PLAN_KINDS
PLAN_STATUSES = app_store.PLAN_STATUSES

__all__ = [
    "IDENTITY_RUN",
    "IOM_PATHWAYS",
    "PERSON_OPTIONS",
    "PLAN_KINDS",
    "PLAN_STATUSES",
    "adoption_date",
    "aliases",
    "decisions",
    "escalation_signals",
    "explain_pair",
    "identity_rows",
    "join_reasons",
    "link_summary",
    "local_history",
    "md_escape",
    "network_figure",
    "network_frames",
    "outcome_before_after",
    "person_addresses",
    "person_events",
    "person_incidents",
    "person_links",
    "person_options",
    "person_periods",
    "person_victims",
    "plan",
    "plan_history",
    "record_choices",
    "rows",
    "save_plan_entry",
    "split",
    "timeline_figure",
]


def local_history(person_id: str) -> History:
    """Only the rows around this person: the views give the same answer as on
    the whole history (pass the whole history's last date where they ask)."""
    return data.history_index().local([person_id])


def rows(person_id: str) -> pd.DataFrame:
    """The stored rows joined into this person (:func:`adapt.db.people.person_rows`)."""
    return people.person_rows(session.engine(), person_id)


def join_reasons(person_rows: pd.DataFrame) -> pd.DataFrame:
    """Each accepted link between the person's rows, comparison by comparison."""
    keys = person_rows["row_key"]
    return _join_reasons(identity_store.stored_links(session.engine(), keys), keys)


def split(user: dict, person_id: str, row_a: str, row_b: str, reason: str) -> str:
    """Record that two rows are different people (audited), then re-resolve
    identities in the background; returns the identity run's job id.

    A run already waiting to start is reused: it will read this decision.
    """
    engine = session.engine()
    identity_store.record_decision(engine, row_a, row_b, "not_same", user["username"], reason)
    session.audit("identity_decision", person_id=person_id, detail=f"not_same {row_a} {row_b}")
    return review.submit_identity_run(user)


def plan(person_id: str) -> pd.DataFrame:
    """The current plan entries, by pathway."""
    return plan_by_pathway(app_store.plan_frame(session.engine(), person_id), IOM_PATHWAYS)


def plan_history(person_id: str) -> pd.DataFrame:
    """Every version of every plan entry."""
    return app_store.plan_frame(session.engine(), person_id, history=True)


def save_plan_entry(user: dict, person_id: str, **entry: object) -> None:
    """A new plan entry, or a new version of one (``entry_key``); audited by the store."""
    app_store.save_plan_entry(
        session.engine(), person_id=person_id, author=user["username"], **entry
    )


def decisions(person_id: str) -> pd.DataFrame:
    """The cohort decisions about this person, newest first."""
    return app_store.decisions_frame(session.engine(), person_id)
