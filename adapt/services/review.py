"""What the identity review queue (on the Data page) and the Person
pathway's link explanations call.

* :func:`queue`: the stored review queue as people (names, dates of birth,
  incident ids and dates), best first, with decisions made since the identity
  run marked; read once per data version.
* :func:`item` / :func:`explain_pair`: one item, or any two records, side by
  side with the explanation (a line in words, the waterfall of the match
  weight, and the internals for analysts).
* :func:`decide`: an analyst's "same" / "not the same" with a reason, stored
  through :func:`adapt.db.identity.record_decision` (author: the signed-in
  user), audited, then the identity run that applies it as a background job
  (:func:`submit_identity_run`, shared with the Person page's split).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from adapt import pipeline
from adapt.db import identity as identity_store
from adapt.db import people
from adapt.db.search import decided_pairs, records_by_key, review_queue_frame
from adapt.services import data, jobs, session
from adapt.views.identity import (
    item_title,
    levels_of,
    link_details,
    link_lines,
    link_sentence,
    link_summary,
    pick_link,
    record_description,
    record_name,
    review_view,
    side_by_side,
    waterfall_figure,
)
from adapt.views.text import md_escape

IDENTITY_RUN = "identity run"  # the kind of job a decision or a split submits
REVIEW_ROWS = 5000  # the stored queue is at most the engine's limit (500) anyway
DECISIONS: dict[str, str] = {"same": "Same person", "not_same": "Not the same person"}

__all__ = [
    "DECISIONS",
    "IDENTITY_RUN",
    "PairExplanation",
    "ReviewItem",
    "decide",
    "explain_pair",
    "identity_job",
    "item",
    "item_title",
    "link_summary",
    "md_escape",
    "person_links",
    "queue",
    "queue_run",
    "record_choices",
    "submit_identity_run",
]


@dataclass(frozen=True)
class PairExplanation:
    """Two records and why the resolver scored them as it did."""

    row_key_l: str
    row_key_r: str
    left: dict
    right: dict
    compared: pd.DataFrame  # side_by_side: field, first record, second record, same
    sentence: str  # one line in words ("" when no link between them is stored)
    figure: go.Figure | None  # the waterfall of the match weight, None without weights
    details: pd.DataFrame  # comparison, level, weight (for analysts)
    link: dict | None  # the stored link (weights, probability, decision), if any


@dataclass(frozen=True)
class ReviewItem:
    """One item of the review queue: a link to decide, or a person whose
    records look wrong together (``records``: pick two of them to decide on)."""

    item: int
    kind: str
    person_id: str | None
    reason: str
    title: str
    pair: PairExplanation | None = None
    records: pd.DataFrame = field(default_factory=pd.DataFrame)  # row_key, shown


# ---- the queue ----------------------------------------------------------------------------
def _records(keys: list[str] | pd.Series) -> pd.DataFrame:
    return records_by_key(session.engine(), list(keys))


@st.cache_resource(show_spinner=False, max_entries=2)
def _queue(version: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = session.engine()
    stored = review_queue_frame(engine, limit=REVIEW_ROWS)
    keys = pd.concat([stored["row_key_l"], stored["row_key_r"]]).dropna().unique().tolist()
    links = stored.dropna(subset=["row_key_l", "row_key_r"])
    decided = decided_pairs(engine, links) if len(links) else None
    stored_links = identity_store.stored_links(engine, keys) if keys else None
    records = records_by_key(engine, keys)
    shown = review_view(stored, records, data.label_map(), decided, stored_links)
    return stored, shown


def queue(*, include_decided: bool = False) -> pd.DataFrame:
    """The review queue as people, best first (:func:`adapt.views.identity.review_view`);
    items decided since the identity run are left out unless ``include_decided``."""
    shown = _queue(data.data_version())[1]
    if include_decided:
        return shown
    return shown[shown["decided"] == ""].reset_index(drop=True)


def queue_run() -> int | None:
    """The identity run the stored queue comes from (item ids are that run's)."""
    stored = _queue(data.data_version())[0]
    return int(stored["run_id"].max()) if len(stored) else None


# ---- one item -----------------------------------------------------------------------------
def explain_pair(row_key_l: str, row_key_r: str) -> PairExplanation:
    """Two records side by side with the stored link between them explained."""
    engine = session.engine()
    records = _records([row_key_l, row_key_r])
    by_key = {str(r["row_key"]): r for r in records.to_dict("records")}
    left, right = by_key.get(row_key_l, {}), by_key.get(row_key_r, {})
    links = identity_store.stored_links(engine, [row_key_l, row_key_r])
    one = pick_link(links, row_key_l, row_key_r)
    if one.empty:
        return PairExplanation(
            row_key_l, row_key_r, left, right, side_by_side(left, right), "", None,
            pd.DataFrame(columns=["comparison", "level", "weight"]), None,
        )  # fmt: skip
    link = one.iloc[0].to_dict()
    if str(link["row_key_l"]) != row_key_l:  # the stored order: levels read left to right
        left, right = right, left
        row_key_l, row_key_r = row_key_r, row_key_l
    details = link_details(one, row_key_l, row_key_r)
    sentence = link_sentence(
        levels_of(link), left, right, context=link.get("context"), decision=link.get("decision")
    )
    return PairExplanation(
        row_key_l=row_key_l,
        row_key_r=row_key_r,
        left=left,
        right=right,
        compared=side_by_side(left, right),
        sentence=sentence,
        figure=waterfall_figure(details, link.get("match_probability")),
        details=details,
        link=link,
    )


def item(item_id: int) -> ReviewItem | None:
    """One queue item with what a reviewer needs to decide it (None if the
    queue was replaced by a newer identity run). A person-level item's records
    start with the two of its weakest join."""
    stored, shown = _queue(data.data_version())
    hit = stored[stored["id"] == item_id]
    if hit.empty:
        return None
    row = hit.iloc[0]
    title = item_title(shown[shown["item"] == item_id].iloc[0].to_dict())
    person_id = None if pd.isna(row["person_id"]) else str(row["person_id"])
    base = {"item": int(item_id), "kind": str(row["kind"]), "person_id": person_id,
            "reason": str(row["reason"]), "title": title}  # fmt: skip
    if pd.notna(row["row_key_l"]) and pd.notna(row["row_key_r"]):
        return ReviewItem(**base, pair=explain_pair(str(row["row_key_l"]), str(row["row_key_r"])))
    if person_id is None:
        return ReviewItem(**base)
    keys = people.person_rows(session.engine(), person_id)["row_key"]
    records = _records(keys)
    # the weakest join first: the two records offered at first are the pair most worth checking
    weakest = link_lines(identity_store.stored_links(session.engine(), keys), records, list(keys))
    first = [weakest.at[0, "row_key_l"], weakest.at[0, "row_key_r"]] if len(weakest) else []
    order = list(dict.fromkeys([*first, *keys]))
    records = records.set_index("row_key").reindex(order).reset_index()
    shown_as = [f"{record_name(r)} · {record_description(r)}" for r in records.to_dict("records")]
    return ReviewItem(
        **base, records=pd.DataFrame({"row_key": records["row_key"], "shown": shown_as})
    )


# ---- deciding -----------------------------------------------------------------------------
def submit_identity_run(user: dict) -> str:
    """Re-resolve identities in the background (a run already waiting to start
    is reused: it will read every decision made before it starts)."""
    engine = session.engine()
    return jobs.runner().submit(
        IDENTITY_RUN,
        lambda progress: pipeline.resolve(engine, progress=progress),
        database=session.database_url(),
        label="Re-resolving identities",
        owner=user["username"],
        coalesce=True,
    )


def decide(
    user: dict,
    row_key_l: str,
    row_key_r: str,
    decision: str,
    reason: str,
    *,
    item_id: int | None = None,
    person_id: str | None = None,
) -> str:
    """Record that two records are (``same``) or are not (``not_same``) one
    person, by the signed-in ``user`` with a ``reason``; audited as
    ``identity_decision``; returns the id of the identity run that applies it.
    Raises ValueError for a missing reason, an unknown decision or one record twice."""
    if decision not in DECISIONS:
        raise ValueError("Choose 'same person' or 'not the same person'.")
    if not reason or not reason.strip():
        raise ValueError("A reason is required.")
    if row_key_l == row_key_r:
        raise ValueError("Choose two different records.")
    identity_store.record_decision(
        session.engine(), row_key_l, row_key_r, decision, user["username"], reason.strip()
    )
    where = f"review item {item_id}: " if item_id is not None else ""
    session.audit(
        "identity_decision",
        person_id=person_id,
        purpose="Data quality",
        detail=f"{where}{decision} {row_key_l} {row_key_r}",
    )
    return submit_identity_run(user)


def identity_job(job_id: str | None) -> jobs.Job | None:
    """The identity run this session asked for, else the latest on this database."""
    runner = jobs.runner()
    return runner.get(job_id) or runner.latest(IDENTITY_RUN, session.database_url())


# ---- the Person pathway's links -----------------------------------------------------------
def person_links(person_rows: pd.DataFrame) -> pd.DataFrame:
    """The accepted links between a person's rows in words, weakest first
    (:func:`adapt.views.identity.link_lines`)."""
    keys = person_rows["row_key"].astype(str).tolist()
    links = identity_store.stored_links(session.engine(), keys)
    return link_lines(links, _records(keys), keys)


def record_choices(person_rows: pd.DataFrame) -> dict[str, str]:
    """Row key to the record as a user knows it ("Name, born … · suspect,
    incident … of …"), for choosing records in a form."""
    records = _records(person_rows["row_key"].astype(str).tolist())
    return {
        str(r["row_key"]): f"{record_name(r)} · {record_description(r)}"
        for r in records.to_dict("records")
    }
