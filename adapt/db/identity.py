"""Storage of identities: the person rows to resolve, their assignment to
person ids, lineage, analyst decisions, links and the review queue.

A person row is any stored record naming a person. Its ``row_key`` is built
from the table and surrogate id ("involvements:17", "marac_referrals:5:victim",
"marac_referrals:5:perpetrator", "management:3"), stable because loads update
records in place and never delete them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Select, delete, func, insert, select, update

from adapt.core.person_rows import PERSON_ROW_COLUMNS as INPUT_COLUMNS
from adapt.db import bulk, continuity
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    identity_decisions,
    identity_links,
    identity_review,
    identity_runs,
    incidents,
    involvements,
    management,
    marac_referrals,
    person_assignments,
    person_lineage,
    persons,
)

# The engine's input columns (its module owns the list), plus the record's hash.
PERSON_ROW_COLUMNS = [*INPUT_COLUMNS, "row_hash"]
TEXT = [
    "row_key",
    "source_file",
    "kind",
    "incident_id",
    "role",
    "person_ref",
    "forename",
    "surname",
    "gender",
    "home_address",
    "home_postcode",
    "incident_address",
    "incident_postcode",
]


DATES = ("occurred_at", "date_of_birth")


def _frame(conn: Connection, stmt: Select, columns: list[str]) -> pd.DataFrame:
    return bulk.read_frame(conn, stmt, columns, dates=DATES)


def _frames(
    conn: Connection, stmt: Select, columns: list[str], rows: int | None
) -> Iterator[pd.DataFrame]:
    """``stmt``'s rows as one frame (``rows`` None) or frames of about ``rows`` rows."""
    if rows is None:
        yield _frame(conn, stmt, columns)
    else:
        yield from bulk.read_frame_batches(conn, stmt, columns, rows, dates=DATES)


def _involvement_rows(conn: Connection, rows: int | None = None) -> Iterator[pd.DataFrame]:
    v, i = involvements.c, incidents.c
    stmt = select(
        v.id,
        v.source_file,
        v.source_row,
        v.incident_id,
        v.role,
        i.occurred_at,
        v.person_ref,
        v.forename,
        v.surname,
        v.date_of_birth,
        v.gender,
        v.home_address,
        v.home_postcode,
        i.address,
        i.postcode,
        v.row_hash,
    ).join_from(involvements, incidents, v.incident_id == i.incident_id)
    # A person the force removed from an incident is not resolved or exported.
    stmt = stmt.where(v.withdrawn_import_id.is_(None))
    cols = [
        "id", "source_file", "source_row", "incident_id", "role", "occurred_at", "person_ref",
        "forename", "surname", "date_of_birth", "gender", "home_address", "home_postcode",
        "incident_address", "incident_postcode", "row_hash",
    ]  # fmt: skip
    for frame in _frames(conn, stmt, cols, rows):
        frame["row_key"] = "involvements:" + frame["id"].astype("string")
        frame["kind"] = "involvement"
        yield frame


def _marac_rows(conn: Connection, side: str, rows: int | None = None) -> Iterator[pd.DataFrame]:
    m = marac_referrals.c
    stmt = select(
        m.id,
        m.source_file,
        m.source_row,
        m.referral_date,
        m[f"{side}_person_ref"],
        m[f"{side}_forename"],
        m[f"{side}_surname"],
        m[f"{side}_date_of_birth"],
        m.row_hash,
    )
    cols = [
        "id", "source_file", "source_row", "occurred_at", "person_ref", "forename",
        "surname", "date_of_birth", "row_hash",
    ]  # fmt: skip
    for frame in _frames(conn, stmt, cols, rows):
        named = frame[["person_ref", "forename", "surname"]].notna().any(axis=1)
        frame = frame[named].copy()
        frame["row_key"] = "marac_referrals:" + frame["id"].astype("string") + f":{side}"
        frame["kind"] = frame["role"] = f"marac_{side}"
        yield frame


def _management_rows(conn: Connection, rows: int | None = None) -> Iterator[pd.DataFrame]:
    g = management.c
    stmt = select(
        g.id, g.source_file, g.source_row, g.from_date, g.person_ref, g.forename, g.surname,
        g.date_of_birth, g.row_hash,
    )  # fmt: skip
    cols = [
        "id", "source_file", "source_row", "occurred_at", "person_ref", "forename",
        "surname", "date_of_birth", "row_hash",
    ]  # fmt: skip
    for frame in _frames(conn, stmt, cols, rows):
        frame["row_key"] = "management:" + frame["id"].astype("string")
        frame["kind"] = frame["role"] = "managed"
        yield frame


def person_rows(engine: Engine) -> pd.DataFrame:
    """Every stored person row, in the columns ``adapt.identity.prepare_rows``
    takes, plus ``row_hash``."""
    with engine.connect() as conn:
        parts = list(_sources(conn, None))
    filled = [p for p in parts if len(p)]
    return _typed(pd.concat(filled, ignore_index=True) if filled else pd.DataFrame())


def person_row_batches(engine: Engine, rows: int) -> Iterator[pd.DataFrame]:
    """:func:`person_rows`, about ``rows`` rows at a time, in the same order
    (empty frames left out): a caller that keeps less of each batch than it
    reads (the resolver keeps the prepared columns it needs) never holds every
    stored column of every row at once."""
    with engine.connect() as conn:
        for part in _sources(conn, rows):
            if len(part):
                yield _typed(part)


def _sources(conn: Connection, rows: int | None) -> Iterator[pd.DataFrame]:
    yield from _involvement_rows(conn, rows)
    yield from _marac_rows(conn, "victim", rows)
    yield from _marac_rows(conn, "perpetrator", rows)
    yield from _management_rows(conn, rows)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=PERSON_ROW_COLUMNS)
    for name in TEXT:
        frame[name] = frame[name].astype("string")
    for name in ("occurred_at", "date_of_birth"):
        frame[name] = pd.to_datetime(frame[name])
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["row_hash"] = frame["row_hash"].astype("int64")
    return frame


def assignments(engine: Engine) -> pd.DataFrame:
    """row_key, person_id, row_hash of every resolved row."""
    a = person_assignments.c
    with engine.connect() as conn:
        frame = _frame(
            conn, select(a.row_key, a.person_id, a.row_hash), ["row_key", "person_id", "row_hash"]
        )
    frame["row_hash"] = frame["row_hash"].astype("int64")
    return frame


def next_person_number(engine: Engine) -> int:
    """One more than the highest person number ever issued."""
    with engine.connect() as conn:
        ids = conn.execute(select(persons.c.person_id)).scalars().all()
    if not ids:
        return 1
    return int(pd.Series(ids).str.slice(1).astype("int64").max()) + 1


# ------------------------------------------------------------------ decisions


def record_decision(
    engine: Engine, row_key_l: str, row_key_r: str, decision: str, author: str, reason: str
) -> int:
    """Store an analyst's "same" / "not_same" decision about two rows."""
    if decision not in ("same", "not_same"):
        raise ValueError("decision must be 'same' or 'not_same'")
    if not reason.strip() or not author.strip():
        raise ValueError("a decision needs an author and a reason")
    left, right = sorted((row_key_l, row_key_r))
    with writer(engine) as conn:
        return conn.execute(
            insert(identity_decisions).values(
                row_key_l=left,
                row_key_r=right,
                decision=decision,
                author=author,
                reason=reason,
                decided_at=utc_now(),
            )
        ).inserted_primary_key[0]


def revoke_decision(engine: Engine, decision_id: int, author: str, reason: str) -> None:
    """Reverse a decision; it stays on record with who revoked it and why."""
    d = identity_decisions.c
    with writer(engine) as conn:
        done = conn.execute(
            update(identity_decisions)
            .where(d.id == decision_id, d.revoked_at.is_(None))
            .values(revoked_at=utc_now(), revoked_by=author, revoke_reason=reason)
        ).rowcount
    if done != 1:
        raise ValueError(f"decision {decision_id} does not exist or is already revoked")


def active_decisions(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(must_link, cannot_link) pairs of row keys from decisions in force. A
    later decision about the same pair replaces an earlier one."""
    d = identity_decisions.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.id, d.row_key_l, d.row_key_r, d.decision).where(d.revoked_at.is_(None))
        ).all()
    frame = pd.DataFrame(rows, columns=["id", "row_key_l", "row_key_r", "decision"])
    frame = frame.sort_values("id").drop_duplicates(["row_key_l", "row_key_r"], keep="last")
    pairs = ["row_key_l", "row_key_r"]
    return (
        frame.loc[frame.decision == "same", pairs].reset_index(drop=True),
        frame.loc[frame.decision == "not_same", pairs].reset_index(drop=True),
    )


def decisions_changed_since(engine: Engine, when: datetime | None) -> bool:
    d = identity_decisions.c
    with engine.connect() as conn:
        latest = conn.execute(select(func.max(d.decided_at), func.max(d.revoked_at))).one()
    stamps = [t for t in latest if t is not None]
    return bool(stamps) and (when is None or max(stamps) > when)


def last_run(engine: Engine) -> dict | None:
    r = identity_runs.c
    with engine.connect() as conn:
        row = conn.execute(select(identity_runs).order_by(r.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


# ---------------------------------------------------------------------- store


@dataclass
class RunRecord:
    mode: str
    model: str
    started_at: datetime
    rows: int


def store_run(
    engine: Engine,
    run: RunRecord,
    assigned: pd.DataFrame,
    lineage: pd.DataFrame,
    links: pd.DataFrame | Iterable[pd.DataFrame],
    review: pd.DataFrame,
    *,
    replace_links_for: Iterable[str] | None = None,
    guarded: pd.DataFrame | None = None,
) -> int:
    """Store one resolution run in one transaction.

    The lineage is stored with why each event happened, and what hung on a
    merged-away id (cohort decisions, plan entries) moves to the id it merged
    into in the same transaction (:mod:`adapt.db.continuity`).

    ``assigned``: row_key, person_id, row_hash for every row resolved in this
    run. ``links``: the engine's links (the per-comparison columns are kept as
    JSON), one frame or frames one after another (each written as it comes,
    so the links are never all in memory). ``guarded``: the links a guard
    decided (``row_key_l``, ``row_key_r``, ``decision``; at least those
    between rows the run put apart), which explain the lineage's splits;
    default: read from ``links`` (a frame). ``replace_links_for``: in an
    incremental run, the row keys whose stored links are replaced; in a full
    run (None) every link is replaced.
    """
    if guarded is None:
        if not isinstance(links, pd.DataFrame):
            raise TypeError("links given batch by batch need the guarded links beside them")
        guarded = links
    with writer(engine) as conn:
        run_id = conn.execute(
            insert(identity_runs).values(
                started_at=run.started_at,
                mode=run.mode,
                model=run.model,
                rows=run.rows,
                rows_resolved=len(assigned),
                persons=0,
                persons_created=0,
                merges=int((lineage["event"] == "merged").sum()),
                splits=int((lineage["event"] == "split").sum()),
            )
        ).inserted_primary_key[0]
        # Read before the assignments are replaced: the ids the rows had.
        before = continuity.before_run(conn, lineage, run_id)
        _store_assignments(conn, assigned, run_id)
        created = _store_persons(conn, run_id)
        if len(lineage):
            explained = continuity.explain_events(before, lineage, assigned, guarded)
            bulk.insert_frame(conn, person_lineage, explained.assign(run_id=run_id))
            # Decisions and plans of a merged-away id follow it (case continuity).
            continuity.follow_merges(conn, run_id, lineage)
        _store_links(conn, links, run_id, replace_links_for)
        conn.execute(delete(identity_review))
        if len(review):
            bulk.insert_frame(conn, identity_review, review.assign(run_id=run_id))
        total = conn.execute(
            select(func.count()).select_from(persons).where(persons.c.status == "active")
        ).scalar_one()
        conn.execute(
            update(identity_runs)
            .where(identity_runs.c.id == run_id)
            .values(finished_at=utc_now(), persons=total, persons_created=created)
        )
    return run_id


def _store_assignments(conn: Connection, assigned: pd.DataFrame, run_id: int) -> None:
    # Replace the rows resolved in this run.
    bulk.delete_where_in(conn, person_assignments, ["row_key"], assigned["row_key"])
    frame = assigned[["row_key", "person_id", "row_hash"]].assign(run_id=run_id)
    bulk.insert_frame(conn, person_assignments, frame)


def _store_persons(conn: Connection, run_id: int) -> int:
    """Bring the persons table in line with the assignments: new ids
    inserted, row counts refreshed, ids without rows marked merged."""
    counts = pd.DataFrame(
        conn.execute(
            select(person_assignments.c.person_id, func.count()).group_by(
                person_assignments.c.person_id
            )
        ).all(),
        columns=["person_id", "rows"],
    )
    known = pd.DataFrame(
        conn.execute(select(persons.c.person_id, persons.c.status, persons.c.rows)).all(),
        columns=["person_id", "status", "rows"],
    )
    new = counts[~counts.person_id.isin(known.person_id)]
    if len(new):
        bulk.insert_frame(
            conn,
            persons,
            new.assign(created_run_id=run_id, status="active")[
                ["person_id", "created_run_id", "status", "rows"]
            ],
        )
    merged = known[~known.person_id.isin(counts.person_id) & (known.status == "active")]
    if len(merged):
        conn.execute(
            update(persons)
            .where(persons.c.person_id.in_(merged.person_id.tolist()))
            .values(status="merged", rows=0)
        )
    changed = counts.merge(known, on="person_id", suffixes=("", "_old"))
    changed = changed[(changed["rows"] != changed["rows_old"]) | (changed["status"] != "active")]
    if len(changed):
        staged = changed[["person_id", "rows"]].assign(status="active")
        bulk.update_frame(conn, persons, staged, ["status", "rows"], key="person_id")
    return len(new)


def _store_links(
    conn: Connection,
    links: pd.DataFrame | Iterable[pd.DataFrame],
    run_id: int,
    replace_for: Iterable[str] | None,
) -> None:
    if replace_for is None:
        conn.execute(delete(identity_links))
    else:
        keys = pd.Series(list(replace_for), dtype="string")
        bulk.delete_where_in(conn, identity_links, ["row_key_l", "row_key_r"], keys)
    for batch in [links] if isinstance(links, pd.DataFrame) else links:
        if len(batch):
            bulk.insert_frame(conn, identity_links, _link_rows(batch, run_id))


def _link_rows(links: pd.DataFrame, run_id: int) -> pd.DataFrame:
    """Links in the stored columns."""
    fixed = {
        "row_key_l", "row_key_r", "match_weight", "match_probability", "context_weight",
        "final_weight", "accepted", "decision",
    }  # fmt: skip
    # Everything else the engine says about a link (per-comparison weights and
    # levels, the context evidence) is kept as JSON: the link's explanation.
    detail_cols = [c for c in links.columns if c not in fixed]
    return pd.DataFrame(
        {
            "run_id": run_id,
            "row_key_l": links["row_key_l"].astype("string"),
            "row_key_r": links["row_key_r"].astype("string"),
            "match_weight": links["match_weight"].astype("float64"),
            "match_probability": links["match_probability"].astype("float64"),
            "context_weight": links["context_weight"].fillna(0).astype("float64"),
            "final_weight": links["final_weight"].astype("float64"),
            "accepted": links["accepted"].astype("boolean"),
            "decision": links["decision"].astype("string"),
            "detail": _json_objects(links, detail_cols),
        }
    )


def _json_value(col: pd.Series) -> pd.Series:
    """One column as JSON literals, vectorised (null where missing)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        text = col.astype("boolean").map({True: "true", False: "false"}).astype("string")
    elif pd.api.types.is_numeric_dtype(col.dtype):
        values = col.astype("float64")
        finite = values.notna() & np.isfinite(values.fillna(0))
        text = values.astype("string").where(finite)
    else:
        raw = col.astype("string")
        escaped = raw.str.replace("\\", "\\\\", regex=False).str.replace('"', '\\"', regex=False)
        for char, code in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            escaped = escaped.str.replace(char, code, regex=False)
        text = '"' + escaped + '"'
    return text.fillna("null")


def _json_objects(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A JSON object per row over ``columns``, built with vectorised string
    operations (a dict and json.dumps per link would take minutes on the
    millions of links of a large force)."""
    if not columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    out = pd.Series("{", index=frame.index, dtype="string")
    for i, name in enumerate(columns):
        sep = "" if i == 0 else ","
        out = out + f'{sep}"{name}":' + _json_value(frame[name]).to_numpy()
    return (out + "}").reset_index(drop=True)


# --------------------------------------------------------------------- reads


def stored_links(engine: Engine, row_keys: Iterable[str]) -> pd.DataFrame:
    """The stored links touching these rows, with their detail expanded."""
    keys = list(row_keys)
    lk = identity_links.c
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(identity_links).where(lk.row_key_l.in_(keys) | lk.row_key_r.in_(keys))
            )
            .mappings()
            .all()
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    detail = pd.json_normalize([json.loads(d) if d else {} for d in frame["detail"]])
    return pd.concat([frame.drop(columns=["detail"]), detail], axis=1)


def persons_export_frame(engine: Engine) -> pd.DataFrame:
    """The ``persons`` export: one row per stored involvement, MARAC victim
    and perpetrator and management record, with its resolved person."""
    rows = person_rows(engine)[["row_key", "source_file", "source_row", "incident_id", "role"]]
    assigned = assignments(engine)[["row_key", "person_id"]]
    frame = rows.merge(assigned, on="row_key", how="left")
    order = {"involvements.csv": 0, "marac.csv": 1, "management.csv": 2}
    frame["_order"] = frame["source_file"].map(order).fillna(3)
    frame["_side"] = frame["role"].map({"marac_victim": 0, "marac_perpetrator": 1}).fillna(0)
    frame = frame.sort_values(["_order", "source_file", "source_row", "_side"])
    return frame[["source_file", "source_row", "incident_id", "role", "person_id"]].reset_index(
        drop=True
    )
