"""Who a resolved person is, for the pages: a label per person for lists, the
stored rows joined into one person, and when each person was first in a
stored cohort.

Names and dates of birth leave here only for display to a signed-in user;
nothing here logs them.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, String, func, literal, select

from adapt.db import bulk
from adapt.db.history import row_key_expr as key_of
from adapt.db.models import (
    incidents,
    involvements,
    management,
    marac_referrals,
    person_assignments,
    person_scores,
    score_runs,
)

PERSON_ROW_COLUMNS = [
    "row_key", "source_file", "source_row", "role", "incident_id", "occurred_at", "forename",
    "surname", "date_of_birth", "person_ref", "home_address",
]  # fmt: skip


def _name_rows(conn: Connection) -> pd.DataFrame:
    """person_id, forename, surname of every resolved involvement and MARAC row."""
    v, a = involvements.c, person_assignments.c
    cols = ["person_id", "forename", "surname"]
    parts = [
        bulk.read_frame(
            conn,
            select(a.person_id, v.forename, v.surname).join_from(
                involvements, person_assignments, a.row_key == key_of("involvements:", v.id)
            ),
            cols,
        )
    ]
    m = marac_referrals.c
    for side in ("victim", "perpetrator"):
        stmt = select(a.person_id, m[f"{side}_forename"], m[f"{side}_surname"]).join_from(
            marac_referrals,
            person_assignments,
            a.row_key == key_of("marac_referrals:", m.id, f":{side}"),
        )
        parts.append(bulk.read_frame(conn, stmt, cols))
    return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)


def person_labels(engine: Engine) -> pd.DataFrame:
    """``person_id, label``: each person's most frequent forename and surname
    (ties: alphabetical), with the id when no name was recorded."""
    with engine.connect() as conn:
        names = _name_rows(conn)
    names = names.dropna(subset=["person_id"])
    forename = names["forename"].astype("string").fillna("").str.strip()
    surname = names["surname"].astype("string").fillna("").str.strip()
    names = pd.DataFrame(
        {"person_id": names["person_id"].astype("string"), "name": (forename + " " + surname)}
    )
    names["name"] = names["name"].str.strip()
    named = names[names["name"] != ""]
    counts = named.groupby(["person_id", "name"], observed=True).size().rename("n").reset_index()
    counts = counts.sort_values(["person_id", "n", "name"], ascending=[True, False, True])
    best = counts.drop_duplicates("person_id").set_index("person_id")["name"]
    people = pd.Index(names["person_id"].unique(), name="person_id").sort_values()
    label = best.reindex(people).astype("string")
    label = label.fillna(pd.Series(people, index=people, dtype="string"))
    return pd.DataFrame({"person_id": people.astype("string"), "label": label.to_numpy()})


def person_rows(engine: Engine, person_id: str) -> pd.DataFrame:
    """The stored rows joined into ``person_id`` (:data:`PERSON_ROW_COLUMNS`),
    oldest first: involvements, MARAC referrals (either side) and management
    records."""
    a = person_assignments.c
    v, i = involvements.c, incidents.c
    m, g = marac_referrals.c, management.c
    mine = a.person_id == person_id
    with engine.connect() as conn:  # the person's keys first (indexed), then rows by id
        keys = [str(k) for (k,) in conn.execute(select(a.row_key).where(mine)).all()]
    ids: dict[str, list[int]] = {"involvements": [], "marac_referrals": [], "management": []}
    for key in keys:
        table, _, rest = key.partition(":")
        number = rest.split(":", 1)[0]
        if table in ids and number.isdigit():
            ids[table].append(int(number))
    stmts = [
        select(
            a.row_key,
            v.source_file,
            v.source_row,
            v.role,
            v.incident_id,
            i.occurred_at,
            v.forename,
            v.surname,
            v.date_of_birth,
            v.person_ref,
            v.home_address,
        )
        .select_from(involvements)
        .join(person_assignments, a.row_key == key_of("involvements:", v.id))
        .outerjoin(incidents, i.incident_id == v.incident_id)
        .where(mine, v.id.in_(ids["involvements"]))
    ]
    for side in ("victim", "perpetrator"):
        stmts.append(
            select(
                a.row_key,
                m.source_file,
                m.source_row,
                literal(f"marac_{side}"),
                m.referral_id,
                m.referral_date,
                m[f"{side}_forename"],
                m[f"{side}_surname"],
                m[f"{side}_date_of_birth"],
                m[f"{side}_person_ref"],
                literal(None, String),
            )
            .select_from(marac_referrals)
            .join(person_assignments, a.row_key == key_of("marac_referrals:", m.id, f":{side}"))
            .where(mine, m.id.in_(ids["marac_referrals"]))
        )
    stmts.append(
        select(
            a.row_key,
            g.source_file,
            g.source_row,
            literal("managed") + literal(":") + g.status,
            g.record_key,
            g.from_date,
            g.forename,
            g.surname,
            g.date_of_birth,
            g.person_ref,
            literal(None, String),
        )
        .select_from(management)
        .join(person_assignments, a.row_key == key_of("management:", g.id))
        .where(mine, g.id.in_(ids["management"]))
    )
    with engine.connect() as conn:
        rows = [r for stmt in stmts for r in conn.execute(stmt).all()]
    frame = pd.DataFrame(rows, columns=PERSON_ROW_COLUMNS)
    for name in PERSON_ROW_COLUMNS:
        if name in ("occurred_at", "date_of_birth"):
            frame[name] = pd.to_datetime(frame[name])
        elif name == "source_row":
            frame[name] = frame[name].astype("int64")
        else:
            frame[name] = frame[name].astype("string")
    frame = frame.sort_values(["occurred_at", "row_key"], kind="stable", na_position="last")
    return frame.reset_index(drop=True)


def first_in_cohort(engine: Engine) -> pd.DataFrame:
    """``person_id, first_in_cohort``: the earliest as-of date of a stored
    score run that put the person in the cohort."""
    p, r = person_scores.c, score_runs.c
    stmt = (
        select(p.person_id, func.min(r.as_of))
        .join_from(person_scores, score_runs, p.run_id == r.id)
        .where(p.in_cohort.is_(True))
        .group_by(p.person_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["person_id", "first_in_cohort"])
    frame["person_id"] = frame["person_id"].astype("string")
    frame["first_in_cohort"] = pd.to_datetime(frame["first_in_cohort"])
    return frame
