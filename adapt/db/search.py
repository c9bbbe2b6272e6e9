"""Read-only look-ups behind the app's search and data pages: the names every
resolved person was recorded under (the MARAC check's search index is built
from them), the stored identity review queue, and counts for data quality.

Names and dates of birth leave this module only as frames for the app to
show; nothing here logs them.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, String, func, literal, select

from adapt.db import bulk
from adapt.db.history import row_key_expr as key_of
from adapt.db.models import (
    identity_decisions,
    identity_review,
    incidents,
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


RECORD_COLUMNS = [
    "row_key", "kind", "role", "record", "occurred_at", "forename", "surname", "date_of_birth",
    "gender", "person_ref", "home_address", "home_postcode", "status", "person_id",
]  # fmt: skip
CHUNK = 500  # ids per IN list


def _ids_by_table(row_keys: list[str]) -> dict[str, list[int]]:
    ids: dict[str, set[int]] = {t: set() for t in ("involvements", "marac_referrals", "management")}
    for key in row_keys:
        table, _, rest = str(key).partition(":")
        number = rest.split(":", 1)[0]
        if table in ids and number.isdigit():
            ids[table].add(int(number))
    return {t: sorted(v) for t, v in ids.items()}


def records_by_key(engine: Engine, row_keys: list[str] | pd.Series) -> pd.DataFrame:
    """The stored records behind some person row keys, for a reviewer to read:
    :data:`RECORD_COLUMNS`, one row per key found (withdrawn involvements too,
    with their current person where resolved).

    ``kind`` is ``involvement``, ``marac`` or ``management``; ``record`` the
    incident id, MARAC referral id or management record key; ``occurred_at``
    the incident's date, the referral date or the management period's start;
    ``role`` the involvement role, the MARAC side (``victim``/``perpetrator``)
    or the management status.
    """
    keys = [str(k) for k in dict.fromkeys(row_keys) if k is not None and not pd.isna(k)]
    ids = _ids_by_table(keys)
    a, v, i = person_assignments.c, involvements.c, incidents.c
    m, g = marac_referrals.c, management.c
    none = literal(None, String)
    stmts = []
    for part in range(0, len(ids["involvements"]), CHUNK):
        chunk = ids["involvements"][part : part + CHUNK]
        stmts.append(
            select(key_of("involvements:", v.id), literal("involvement"), v.role, v.incident_id,
                   i.occurred_at, v.forename, v.surname, v.date_of_birth, v.gender,
                   v.person_ref, v.home_address, v.home_postcode, none, a.person_id)
            .select_from(involvements)
            .outerjoin(incidents, i.incident_id == v.incident_id)
            .outerjoin(person_assignments, a.row_key == key_of("involvements:", v.id))
            .where(v.id.in_(chunk))
        )  # fmt: skip
    for part in range(0, len(ids["marac_referrals"]), CHUNK):
        chunk = ids["marac_referrals"][part : part + CHUNK]
        for side in ("victim", "perpetrator"):
            stmts.append(
                select(key_of("marac_referrals:", m.id, f":{side}"), literal("marac"),
                       literal(side), m.referral_id, m.referral_date, m[f"{side}_forename"],
                       m[f"{side}_surname"], m[f"{side}_date_of_birth"], none,
                       m[f"{side}_person_ref"], none, none, none, a.person_id)
                .select_from(marac_referrals)
                .outerjoin(person_assignments,
                           a.row_key == key_of("marac_referrals:", m.id, f":{side}"))
                .where(m.id.in_(chunk))
            )  # fmt: skip
    for part in range(0, len(ids["management"]), CHUNK):
        chunk = ids["management"][part : part + CHUNK]
        stmts.append(
            select(key_of("management:", g.id), literal("management"), g.status, g.record_key,
                   g.from_date, g.forename, g.surname, g.date_of_birth, none, g.person_ref,
                   none, none, g.status, a.person_id)
            .select_from(management)
            .outerjoin(person_assignments, a.row_key == key_of("management:", g.id))
            .where(g.id.in_(chunk))
        )  # fmt: skip
    with engine.connect() as conn:
        rows = [r for stmt in stmts for r in conn.execute(stmt).all()]
    frame = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    frame = frame[frame["row_key"].isin(keys)]
    for name in RECORD_COLUMNS:
        if name in ("occurred_at", "date_of_birth"):
            frame[name] = pd.to_datetime(frame[name])
        else:
            frame[name] = frame[name].astype("string")
    return frame.reset_index(drop=True)


def decided_pairs(engine: Engine, pairs: pd.DataFrame) -> pd.DataFrame:
    """For pairs of row keys (``row_key_l, row_key_r``, either order), the
    analyst decision in force on each, if any: the pairs with ``decision``
    (``same``/``not_same``/missing), ``author`` and ``decided_at``."""
    d = identity_decisions.c
    out = pairs.loc[:, ["row_key_l", "row_key_r"]].astype("string").reset_index(drop=True)
    left, right = out["row_key_l"].fillna(""), out["row_key_r"].fillna("")
    lo, hi = left.where(left <= right, right), right.where(left <= right, left)
    keys = sorted(set(lo) - {""})
    found = []
    with engine.connect() as conn:
        for part in range(0, len(keys), CHUNK):
            chunk = keys[part : part + CHUNK]
            stmt = select(d.id, d.row_key_l, d.row_key_r, d.decision, d.author, d.decided_at).where(
                d.revoked_at.is_(None), d.row_key_l.in_(chunk)
            )
            found += conn.execute(stmt).all()
    cols = ["id", "lo", "hi", "decision", "author", "decided_at"]
    decided = pd.DataFrame(found, columns=cols).sort_values("id")
    decided = decided.drop_duplicates(["lo", "hi"], keep="last").drop(columns="id")
    decided["lo"] = decided["lo"].astype("string")
    decided["hi"] = decided["hi"].astype("string")
    merged = pd.DataFrame({"lo": lo, "hi": hi}).merge(decided, on=["lo", "hi"], how="left")
    out["decision"] = merged["decision"].astype("string").to_numpy()
    out["author"] = merged["author"].astype("string").to_numpy()
    out["decided_at"] = pd.to_datetime(merged["decided_at"]).to_numpy()
    return out.reset_index(drop=True)


def involvement_ref_counts(engine: Engine) -> dict[str, int]:
    """Live involvement rows, and how many of them carry no ``person_ref``."""
    v = involvements.c
    live = v.withdrawn_import_id.is_(None)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).where(live)).scalar_one()
        no_ref = conn.execute(select(func.count()).where(live, v.person_ref.is_(None))).scalar_one()
    return {"rows": int(total), "no_person_ref": int(no_ref)}
