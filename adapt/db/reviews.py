"""Storage of reviews of the cohort (issue 14): one ``reviews`` row per
review (its date, settings snapshot, who made it, counts) and one
``review_people`` row per person scored in it. What goes into a review and
what changed between two is worked out in :mod:`adapt.scoring.cycle`; this
module only writes and reads.

A review is written with its ``review_created`` audit entry in one
transaction. Read back, a person id merged into another since the review is
read as the person it lives in now (``person_redirects``), so the next review
compares the same people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, insert, or_, select

from adapt.db import app_store, bulk
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    REVIEW_BOOLS,
    REVIEW_FLOATS,
    REVIEW_INTS,
    identity_runs,
    person_redirects,
    review_people,
    reviews,
)

#: The columns of a review's people, as stored (``review_id`` aside).
PEOPLE_COLUMNS = [
    "person_id", "rank", *REVIEW_FLOATS, *REVIEW_INTS, *REVIEW_BOOLS, "last_incident_at",
    "new_partner_first_at", "last_marac_repeat_at", "already_managed", "decision", "exit_state",
    "reason",
]  # fmt: skip
DATE_COLUMNS = ("last_incident_at", "new_partner_first_at", "last_marac_repeat_at")
REVIEW_COLUMNS = [
    "review_id", "as_of", "created_at", "created_by", "settings_name", "settings_version",
    "people", "in_cohort",
]  # fmt: skip


@dataclass(frozen=True)
class StoredReview:
    """One stored review's header (no people)."""

    review_id: int
    as_of: date
    created_at: object
    created_by: str
    settings_name: str
    settings_version: str
    settings_json: str
    people: int
    in_cohort: int


def store_review(
    engine: Engine,
    people: pd.DataFrame,
    *,
    as_of: date,
    settings_name: str,
    settings_version: str,
    settings_json: str,
    username: str,
    detail: str,
) -> int:
    """Store one review (``people``: :data:`PEOPLE_COLUMNS`, one row per
    person) and its ``review_created`` audit entry in one transaction; returns
    the review's id."""
    frame = people.reindex(columns=PEOPLE_COLUMNS).copy()
    for col in REVIEW_BOOLS:
        frame[col] = frame[col].fillna(False).astype(bool)
    for col in REVIEW_INTS:
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["rank"] = frame["rank"].astype("int64")
    frame["reason"] = frame["reason"].astype("string").fillna("")
    with writer(engine) as conn:
        identity_run = conn.execute(select(func.max(identity_runs.c.id))).scalar()
        review_id = int(
            conn.execute(
                insert(reviews).values(
                    as_of=as_of,
                    created_at=utc_now(),
                    created_by=username,
                    settings_name=settings_name,
                    settings_version=settings_version,
                    settings_json=settings_json,
                    identity_run_id=identity_run,
                    people=len(frame),
                    in_cohort=int(frame["in_cohort"].sum()),
                )
            ).inserted_primary_key[0]
        )
        frame.insert(0, "review_id", review_id)
        bulk.insert_frame(conn, review_people, frame)
        app_store.record_in(
            conn, username=username, action="review_created", detail=f"review {review_id}: {detail}"
        )
    return review_id


def reviews_frame(engine: Engine) -> pd.DataFrame:
    """Every stored review's header, oldest first (:data:`REVIEW_COLUMNS`)."""
    r = reviews.c
    stmt = select(r.id, r.as_of, r.created_at, r.created_by, r.settings_name,
                  r.settings_version, r.people, r.in_cohort)  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(r.as_of, r.id)).all()
    frame = pd.DataFrame(rows, columns=REVIEW_COLUMNS)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def review_header(engine: Engine, review_id: int) -> StoredReview | None:
    """One review's header, or None."""
    r = reviews.c
    with engine.connect() as conn:
        row = conn.execute(
            select(r.id, r.as_of, r.created_at, r.created_by, r.settings_name,
                   r.settings_version, r.settings_json, r.people, r.in_cohort)
            .where(r.id == review_id)
        ).first()  # fmt: skip
    if row is None:
        return None
    return StoredReview(int(row.id), pd.Timestamp(row.as_of).date(), row.created_at,
                        row.created_by, row.settings_name, row.settings_version,
                        row.settings_json, int(row.people), int(row.in_cohort))  # fmt: skip


def latest_review_before(engine: Engine, day: date, *, inclusive: bool = False) -> int | None:
    """The id of the latest review dated before ``day`` (or on it, with
    ``inclusive``); the latest made when two share a date. None if none."""
    r = reviews.c
    when = r.as_of <= day if inclusive else r.as_of < day
    with engine.connect() as conn:
        return conn.execute(
            select(r.id).where(when).order_by(r.as_of.desc(), r.id.desc()).limit(1)
        ).scalar()


def review_people_frame(
    engine: Engine,
    review_id: int,
    *,
    may_change_only: bool = False,
    person_ids: list[str] | None = None,
) -> pd.DataFrame:
    """The people of one review (:data:`PEOPLE_COLUMNS`), best first, each id
    read as the person it lives in now; when two ids of one review now are one
    person, their better-ranked row stands for them.

    ``may_change_only``: only the people a change since the review can be
    about (in its cohort, with an alert, with a decision, or managed by IOM or
    MAPPA: :func:`adapt.scoring.cycle.review_changes` compares no one else),
    a few thousand rows of a large force's tens of thousands. ``person_ids``:
    only these people (as they are now), looked up by key."""
    p, rd = review_people.c, person_redirects.c
    current = func.coalesce(rd.current_person_id, p.person_id).label("person_id")
    stmt = (
        select(current, *[p[c] for c in PEOPLE_COLUMNS[1:]])
        .outerjoin_from(review_people, person_redirects, rd.person_id == p.person_id)
        .where(p.review_id == review_id)
        .order_by(p.rank)
    )
    if may_change_only:
        stmt = stmt.where(
            or_(
                *[p[c].is_(True) for c in REVIEW_BOOLS],
                p.decision.is_not(None),
                p.already_managed.like("%iom%"),
                p.already_managed.like("%mappa%"),
            )
        )
    with engine.connect() as conn:
        if person_ids is None:
            frame = bulk.read_frame(conn, stmt, PEOPLE_COLUMNS, dates=DATE_COLUMNS)
        else:
            ids = list(dict.fromkeys(person_ids))
            merged = select(rd.person_id).where(rd.current_person_id.in_(ids))
            keys = ids + list(conn.execute(merged).scalars()) if ids else []
            chunks = [keys[i : i + 500] for i in range(0, len(keys), 500)] or [[]]
            frame = pd.concat(
                [bulk.read_frame(conn, stmt.where(p.person_id.in_(chunk)), PEOPLE_COLUMNS,
                                 dates=DATE_COLUMNS) for chunk in chunks],
                ignore_index=True,
            ).sort_values("rank", kind="stable")  # fmt: skip
    for col in REVIEW_BOOLS:
        frame[col] = frame[col].fillna(False).astype(bool)
    for col in REVIEW_INTS:
        frame[col] = frame[col].astype("int64")
    frame["person_id"] = frame["person_id"].astype("string")
    return frame.drop_duplicates("person_id", keep="first").reset_index(drop=True)
