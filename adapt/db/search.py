"""Read-only look-ups behind the app's search and data pages: the names every
resolved person was recorded under (the MARAC check's search index is built
from them), the stored identity review queue, and counts for data quality.

Names and dates of birth leave this module only as frames for the app to
show; nothing here logs them.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, literal, select

from adapt.db import bulk
from adapt.db.history import row_key_expr as key_of
from adapt.db.models import (
    identity_review,
    involvements,
    management,
    marac_referrals,
    person_assignments,
)

NAME_ROW_COLUMNS = [
    "person_id", "role", "forename", "surname", "date_of_birth", "person_ref", "source_id",
]  # fmt: skip
REVIEW_COLUMNS = ["id", "run_id", "kind", "priority", "person_id", "row_key_l", "row_key_r",
                  "reason"]  # fmt: skip


def person_name_rows(engine: Engine) -> pd.DataFrame:
    """Every resolved person row with the name, date of birth and reference it
    was recorded under: ``person_id, role, forename, surname, date_of_birth,
    person_ref, source_id`` (the incident, referral or management record).

    ``role`` is the involvement role, ``marac_victim``/``marac_perpetrator``,
    or ``managed``. Unresolved and withdrawn rows are left out.
    """
    a = person_assignments.c
    v, m, g = involvements.c, marac_referrals.c, management.c
    stmts = [
        select(a.person_id, v.role, v.forename, v.surname, v.date_of_birth, v.person_ref,
               v.incident_id)
        .select_from(involvements)
        .join(person_assignments, a.row_key == key_of("involvements:", v.id))
        .where(v.withdrawn_import_id.is_(None)),
        *[
            select(a.person_id, literal(f"marac_{side}"), m[f"{side}_forename"],
                   m[f"{side}_surname"], m[f"{side}_date_of_birth"], m[f"{side}_person_ref"],
                   m.referral_id)
            .select_from(marac_referrals)
            .join(person_assignments, a.row_key == key_of("marac_referrals:", m.id, f":{side}"))
            for side in ("victim", "perpetrator")
        ],
        select(a.person_id, literal("managed"), g.forename, g.surname, g.date_of_birth,
               g.person_ref, g.record_key)
        .select_from(management)
        .join(person_assignments, a.row_key == key_of("management:", g.id)),
    ]  # fmt: skip
    with engine.connect() as conn:
        frames = [
            bulk.read_frame(conn, stmt, NAME_ROW_COLUMNS, dates=("date_of_birth",))
            for stmt in stmts
        ]
    out = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    for col in NAME_ROW_COLUMNS:
        if col != "date_of_birth":
            out[col] = out[col].astype("string")
    out["date_of_birth"] = pd.to_datetime(out["date_of_birth"])
    return out


def review_queue_frame(engine: Engine, limit: int = 5000) -> pd.DataFrame:
    """The stored identity review queue (the latest run's), highest priority first."""
    r = identity_review.c
    stmt = select(*[r[c] for c in REVIEW_COLUMNS]).order_by(r.priority.desc(), r.id).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


def involvement_ref_counts(engine: Engine) -> dict[str, int]:
    """Live involvement rows, and how many of them carry no ``person_ref``."""
    v = involvements.c
    live = v.withdrawn_import_id.is_(None)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).where(live)).scalar_one()
        no_ref = conn.execute(select(func.count()).where(live, v.person_ref.is_(None))).scalar_one()
    return {"rows": int(total), "no_person_ref": int(no_ref)}
