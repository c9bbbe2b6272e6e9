"""What the Person pathway page calls: who this is and why the rows were
joined, an analyst's split (recorded at once; the identity run that applies it
is a background job), the timeline, victims and addresses, the network, the
management plan and the outcome after adoption."""

from __future__ import annotations

from datetime import date

import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.db import app_store, people
from adapt.db import identity as identity_store
from adapt.services import data, model_advice, review, session
from adapt.services.model_advice import ADVICE_WORDS, PersonAdvice
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
    person_periods,
    person_victims,
    plain_table,
    plan_by_pathway,
    score_parts_shown,
    score_summary,
    signals_shown,
    timeline_figure,
)
from adapt.views.person import join_reasons as _join_reasons
from adapt.views.person import model_parts_shown as _model_parts_shown
from adapt.views.person import person_options as _person_options
from adapt.views.text import md_escape

IOM_PATHWAYS = app_store.IOM_PATHWAYS
PLAN_KINDS = app_store.PLAN_KINDS
PLAN_STATUSES = app_store.PLAN_STATUSES

__all__ = [
    "ADVICE_WORDS",
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
    "model_parts",
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
    "plain_table",
    "plan",
    "plan_history",
    "record_choices",
    "rows",
    "save_plan_entry",
    "score_parts",
    "signals",
    "split",
    "timeline_figure",
]


def person_options(
    labels: pd.DataFrame, query: str = "", current: str | None = None
) -> tuple[list[str], int]:
    """The people the "Person" box offers for a search (accents folded, typos
    forgiven as on the MARAC check: the same name index), and how many match."""
    names = data.name_index() if (query or "").strip() else None
    return _person_options(labels, query, current, PERSON_OPTIONS, names)


def score_parts(
    person_id: str, as_of: date, settings: Settings
) -> tuple[dict[str, object] | None, pd.DataFrame]:
    """The person's place in the ranking (``rank, people, score, in_cohort,
    reason``; None when not ranked) and their score parts in words (``part, points``)."""
    ranked = data.ranked(as_of, settings)
    return score_summary(ranked, person_id), score_parts_shown(ranked, person_id)


def model_parts(
    person_id: str, as_of: date, settings: Settings
) -> tuple[PersonAdvice | None, pd.DataFrame]:
    """The learned model's advice for the person (None: no model trained on
    this force, or not a suspect by then) and its largest contributions in words."""
    advice = model_advice.person_advice(person_id, as_of, settings)
    if advice is None:
        return None, pd.DataFrame()
    return advice, _model_parts_shown(advice.parts)


def signals(person_id: str, as_of: date, settings: Settings) -> pd.DataFrame:
    """The escalation signals in words (``signal, value``)."""
    return signals_shown(escalation_signals(data.features(as_of, settings), person_id))


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
