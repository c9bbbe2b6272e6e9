"""Case continuity: what hangs on a person id (cohort decisions, plan entries,
audit references) follows the lineage of merges and splits.

* **A merge** (an id loses all its rows): inside the identity run's own
  transaction (:func:`adapt.db.identity.store_run`), the absorbed id's cohort
  decisions and plan entries (every version) move to the id that took most of
  its rows, set-wise (one UPDATE per table from a staged mapping). Each move is
  a ``case_moves`` row and each merged id one audit entry. Both histories are
  kept whole: when both people had cohort decisions, all of them show on the
  surviving id and the newest (by when it was made) is the one in force, as for
  any person with several decisions (:func:`adapt.db.app_store.latest_decisions`).
* **Audit references** are never rewritten (the log is append-only):
  ``person_redirects`` records where each merged id now lives (kept current
  when the survivor is itself merged later), and the audit log is read through
  it (:func:`adapt.db.app_store.audit_frame` shows ``current_person_id`` and
  finds an absorbed id's entries under the survivor).
* **A split** (an id keeps the larger part, some rows go to another id): by
  default the items stay with the part that keeps the id (nothing moves);
  the analyst moves any of them with :func:`move_case_items` (audited, with a
  reason).
* **Why**: each lineage event stores the analyst decision that caused it
  (``decision_id``, ``cause`` "same" / "not_same" / "same_revoked"), else the
  guard that kept a split's rows apart ("guard: dates of birth differ"), else
  nothing (automatic). :func:`lineage_events` reads them for the Person page.

The review queue is rebuilt by every identity run (its person ids are the
run's own), so it has nothing to carry over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from adapt.db import bulk
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    audit_log,
    case_moves,
    cohort_decisions,
    identity_decisions,
    identity_runs,
    person_assignments,
    person_lineage,
    person_redirects,
    persons,
    plan_entries,
)

RUN_AUTHOR = "adapt"  # the author of the moves an identity run makes
ITEM_KINDS = ("cohort_decision", "plan_entry")
MOVE_ACTION = "case_items_moved"  # the audit action (adapt.db.app_store.AUDIT_ACTIONS)
_CHUNK = 500
_STAGE = "adapt_stage_merges"


def _in_chunks(conn: Connection, stmt_for, values: list[str]) -> list[tuple]:
    rows: list[tuple] = []
    for start in range(0, len(values), _CHUNK):
        rows.extend(conn.execute(stmt_for(values[start : start + _CHUNK])).all())
    return rows


# ------------------------------------------------------- inside store_run
@dataclass(frozen=True)
class Before:
    """What the run's lineage is explained with, read before the run replaces
    the assignments: the previous id of every row of an id that lost rows
    and of every row an analyst decided about, the analyst decisions, and
    when the previous run started."""

    previous: pd.DataFrame  # row_key, prev_id
    decisions: pd.DataFrame  # id, row_key_l, row_key_r, decision, revoked_at
    last_started: datetime | None


def before_run(conn: Connection, lineage: pd.DataFrame, run_id: int) -> Before:
    """Read :class:`Before` inside the run's transaction, before its assignments
    are stored."""
    a, d = person_assignments.c, identity_decisions.c
    decisions = pd.DataFrame(
        conn.execute(select(d.id, d.row_key_l, d.row_key_r, d.decision, d.revoked_at)).all(),
        columns=["id", "row_key_l", "row_key_r", "decision", "revoked_at"],
    )
    last = conn.execute(
        select(func.max(identity_runs.c.started_at)).where(identity_runs.c.id < run_id)
    ).scalar()
    if lineage.empty:
        return Before(pd.DataFrame(columns=["row_key", "prev_id"]), decisions, last)
    losing = sorted(set(lineage["person_id"]))
    keys = sorted(set(decisions["row_key_l"]) | set(decisions["row_key_r"]))
    rows = _in_chunks(
        conn, lambda ids: select(a.row_key, a.person_id).where(a.person_id.in_(ids)), losing
    )
    rows += _in_chunks(
        conn, lambda ks: select(a.row_key, a.person_id).where(a.row_key.in_(ks)), keys
    )
    previous = pd.DataFrame(rows, columns=["row_key", "prev_id"]).drop_duplicates("row_key")
    return Before(previous, decisions, last)


def _oriented(decisions: pd.DataFrame) -> pd.DataFrame:
    """Each decision twice, as (x, y) and (y, x)."""
    left = decisions.rename(columns={"row_key_l": "x", "row_key_r": "y"})
    right = decisions.rename(columns={"row_key_r": "x", "row_key_l": "y"})
    return pd.concat([left, right], ignore_index=True)


def explain_events(
    before: Before, lineage: pd.DataFrame, assigned: pd.DataFrame, links: pd.DataFrame
) -> pd.DataFrame:
    """The run's lineage with ``decision_id`` and ``cause``: for each event
    (``person_id`` lost rows to ``other_person_id``), the newest analyst
    decision that explains it, else (a split) the guard most often found
    between the two parts, else none (automatic)."""
    out = lineage[["event", "person_id", "other_person_id", "rows_moved"]].copy()
    out["decision_id"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out["cause"] = pd.Series(pd.NA, index=out.index, dtype="string")
    if out.empty or before.previous.empty:
        return out
    ids = before.previous.merge(
        assigned[["row_key", "person_id"]].rename(columns={"person_id": "new_id"}),
        on="row_key",
        how="left",
    )
    ids["new_id"] = ids["new_id"].fillna(ids["prev_id"])
    ids = ids.astype({"row_key": "string", "prev_id": "string", "new_id": "string"})
    event_key = ["person_id", "other_person_id"]

    def _sides(pairs: pd.DataFrame) -> pd.DataFrame:
        pairs = pairs.astype({"x": "string", "y": "string"})
        for side in ("x", "y"):
            pairs = pairs.merge(
                ids.rename(
                    columns={"row_key": side, "prev_id": f"{side}_prev", "new_id": f"{side}_new"}
                ),
                on=side,
            )
        # x moved from the id that lost rows to the id that got them.
        return pairs[pairs["x_prev"] != pairs["x_new"]].rename(
            columns={"x_prev": "person_id", "x_new": "other_person_id"}
        )

    found = []
    if len(before.decisions):
        pairs = _sides(_oriented(before.decisions))
        active = pairs["revoked_at"].isna()
        revoked_now = pairs["revoked_at"].notna()
        if before.last_started is not None:
            revoked_now &= pd.to_datetime(pairs["revoked_at"]) >= pd.Timestamp(before.last_started)
        together = (pairs["y_new"] == pairs["other_person_id"]) & (
            pairs["y_prev"] != pairs["person_id"]
        )
        apart = (pairs["y_prev"] == pairs["person_id"]) & (
            pairs["y_new"] != pairs["other_person_id"]
        )
        same = pairs["decision"] == "same"
        rules = (
            ("same", active & same & together),
            ("not_same", active & (pairs["decision"] == "not_same") & apart),
            ("same_revoked", revoked_now & same & apart),
        )
        for cause, mask in rules:
            hit = pairs.loc[mask, [*event_key, "id"]].assign(cause=cause)
            found.append(hit)
    if "decision" in links.columns and len(links):
        values = pd.unique(links["decision"].dropna())
        guards = [v for v in values if str(v).startswith("guard:")]
        if guards:
            guarded = links.loc[links["decision"].isin(guards), ["row_key_l", "row_key_r"]]
            guarded = guarded.assign(decision=links.loc[guarded.index, "decision"].astype(str))
            pairs = _sides(_oriented(guarded))
            apart = (pairs["y_prev"] == pairs["person_id"]) & (
                pairs["y_new"] != pairs["other_person_id"]
            )
            hit = pairs.loc[apart, [*event_key, "decision"]]
            if len(hit):
                top = (
                    hit.groupby([*event_key, "decision"])
                    .size()
                    .rename("n")
                    .reset_index()
                    .sort_values(["n", "decision"], ascending=[False, True])
                    .drop_duplicates(event_key)
                )
                found.append(top[[*event_key, "decision"]].rename(columns={"decision": "cause"}))
    if not found:
        return out
    causes = pd.concat(found, ignore_index=True)
    if "id" not in causes.columns:
        causes["id"] = pd.NA
    # An analyst decision wins over a guard; the newest decision over older ones.
    causes["rank"] = causes["id"].notna().astype(int)
    causes = causes.sort_values(["rank", "id"], ascending=[False, False], na_position="last")
    causes = causes.drop_duplicates(event_key)
    merged = out.drop(columns=["decision_id", "cause"]).merge(
        causes[[*event_key, "id", "cause"]], on=event_key, how="left"
    )
    merged["decision_id"] = merged.pop("id").astype("Int64")
    merged["cause"] = merged["cause"].astype("string")
    return merged


def follow_merges(conn: Connection, run_id: int, lineage: pd.DataFrame) -> int:
    """Move the cohort decisions and plan entries of every id this run merged
    away to the id that took most of its rows, record the redirect, the moves
    and one audit entry per merged id. Returns the number of items moved."""
    merged = lineage[lineage["event"] == "merged"]
    if merged.empty:
        return 0
    target = (
        merged.sort_values(
            ["person_id", "rows_moved", "other_person_id"], ascending=[True, False, True]
        )
        .drop_duplicates("person_id")[["person_id", "other_person_id"]]
        .rename(columns={"other_person_id": "current_person_id"})
        .astype("string")
        .reset_index(drop=True)
    )
    now = utc_now()
    # Redirects: older ids that pointed at a now-merged id point further on.
    r = person_redirects.c
    known = pd.DataFrame(
        conn.execute(select(r.person_id, r.current_person_id)).all(),
        columns=["person_id", "current_person_id"],
    ).astype("string")
    onward = known.merge(
        target, left_on="current_person_id", right_on="person_id", suffixes=("", "_next")
    )
    if len(onward):
        staged = pd.DataFrame(
            {
                "person_id": onward["person_id"],
                "current_person_id": onward["current_person_id_next"],
                "run_id": run_id,
            }
        )
        bulk.update_frame(
            conn, person_redirects, staged, ["current_person_id", "run_id"], key="person_id"
        )
    fresh = target[~target["person_id"].isin(known["person_id"])]
    bulk.insert_frame(conn, person_redirects, fresh.assign(run_id=run_id))

    # The items: staged mapping, one INSERT ... SELECT and one UPDATE per table.
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_STAGE}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_STAGE} (person_id VARCHAR(20), current_person_id VARCHAR(20))"
    )
    bulk.insert_frame(conn, person_redirects, target, target=_STAGE)
    reason = f"merged by identity run {run_id}"
    params = {"now": now, "run": run_id, "author": RUN_AUTHOR, "reason": reason}
    moves = (
        "INSERT INTO case_moves (moved_at, run_id, item_kind, item_ref, from_person_id, "
        "to_person_id, author, reason) "
    )
    _run_sql(
        conn,
        moves + "SELECT {now}, {run}, 'cohort_decision', CAST(d.id AS VARCHAR(40)), "
        f"d.person_id, s.current_person_id, {{author}}, {{reason}} FROM cohort_decisions d "
        f"JOIN {_STAGE} s ON d.person_id = s.person_id",
        params,
    )
    _run_sql(
        conn,
        moves + "SELECT DISTINCT {now}, {run}, 'plan_entry', p.entry_key, p.person_id, "
        f"s.current_person_id, {{author}}, {{reason}} FROM plan_entries p "
        f"JOIN {_STAGE} s ON p.person_id = s.person_id",
        params,
    )
    for table in ("cohort_decisions", "plan_entries"):
        conn.exec_driver_sql(
            f"UPDATE {table} SET person_id = {_STAGE}.current_person_id FROM {_STAGE} "
            f"WHERE {table}.person_id = {_STAGE}.person_id"
        )
    conn.exec_driver_sql(f"DROP TABLE {_STAGE}")

    # One audit entry per merged id (the log itself is never rewritten).
    m = case_moves.c
    counts = pd.DataFrame(
        conn.execute(
            select(m.from_person_id, m.to_person_id, m.item_kind, func.count())
            .where(m.run_id == run_id)
            .group_by(m.from_person_id, m.to_person_id, m.item_kind)
        ).all(),
        columns=["from_person_id", "to_person_id", "item_kind", "n"],
    )
    entries = target.merge(counts, left_on="person_id", right_on="from_person_id", how="left")
    entries["words"] = [
        item_words(kind, int(n)) if isinstance(kind, str) else ""
        for kind, n in zip(entries["item_kind"], entries["n"].fillna(0), strict=True)
    ]
    detail = (
        entries.groupby(["person_id", "current_person_id"])["words"]
        .agg(lambda w: ", ".join(x for x in w if x) or "nothing")
        .reset_index()
    )
    audit = pd.DataFrame(
        {
            "at": pd.Timestamp(now),
            "username": RUN_AUTHOR,
            "action": MOVE_ACTION,
            "person_id": detail["current_person_id"],
            "detail": f"identity run {run_id} merged "
            + detail["person_id"]
            + " into "
            + detail["current_person_id"]
            + "; moved here: "
            + detail["words"],
        }
    )
    bulk.insert_frame(conn, audit_log, audit)
    return int(counts["n"].sum()) if len(counts) else 0


def _run_sql(conn: Connection, sql: str, params: dict) -> None:
    """Run ``sql`` with {name} placeholders in the driver's own paramstyle."""
    style = "%({})s" if conn.dialect.name == "postgresql" else ":{}"
    if conn.dialect.name == "postgresql":
        sql = sql.replace("%", "%%")
    else:  # stored as SQLAlchemy's SQLite DateTime stores it
        params = {
            k: v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
            for k, v in params.items()
        }
    conn.exec_driver_sql(sql.format(**{k: style.format(k) for k in params}), params)


def item_words(kind: str, n: int) -> str:
    """ "1 cohort decision", "2 plan entries"."""
    if kind == "cohort_decision":
        return f"{n} cohort decision" + ("" if n == 1 else "s")
    return f"{n} plan entr" + ("y" if n == 1 else "ies")


# ----------------------------------------------------------------- reads
def current_person_id(engine_or_conn: Engine | Connection, person_id: str) -> str:
    """Where ``person_id`` lives now: itself, or the id it was merged into."""
    r = person_redirects.c
    stmt = select(r.current_person_id).where(r.person_id == person_id)
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            found = conn.execute(stmt).scalar()
    else:
        found = engine_or_conn.execute(stmt).scalar()
    return found or person_id


def absorbed_ids(engine: Engine, person_id: str) -> list[str]:
    """The ids merged (directly or through others) into ``person_id``."""
    r = person_redirects.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(r.person_id).where(r.current_person_id == person_id).order_by(r.person_id)
        ).scalars()
        return list(rows)


def lineage_events(engine: Engine, person_id: str) -> pd.DataFrame:
    """Every merge and split touching ``person_id``, oldest first, with its
    run, date, cause and the analyst decision behind it, and the number of
    cohort decisions and plan entries the run moved with it.

    Columns: run_id, at, event, person_id, other_person_id, rows_moved, cause,
    decision_id, decision, author, reason, revoked_by, revoke_reason,
    decisions_moved, plans_moved.
    """
    lin, run, dec = person_lineage.c, identity_runs.c, identity_decisions.c
    stmt = (
        select(
            lin.run_id,
            run.started_at,
            lin.event,
            lin.person_id,
            lin.other_person_id,
            lin.rows_moved,
            lin.cause,
            lin.decision_id,
            dec.decision,
            dec.author,
            dec.reason,
            dec.revoked_by,
            dec.revoke_reason,
        )
        .join_from(person_lineage, identity_runs, lin.run_id == run.id)
        .outerjoin(identity_decisions, lin.decision_id == dec.id)
        .where(or_(lin.person_id == person_id, lin.other_person_id == person_id))
        .order_by(lin.run_id, lin.id)
    )
    m = case_moves.c
    moved = (
        select(m.run_id, m.from_person_id, m.to_person_id, m.item_kind, func.count())
        .where(m.run_id.is_not(None))
        .where(or_(m.from_person_id == person_id, m.to_person_id == person_id))
        .group_by(m.run_id, m.from_person_id, m.to_person_id, m.item_kind)
    )
    cols = [
        "run_id",
        "at",
        "event",
        "person_id",
        "other_person_id",
        "rows_moved",
        "cause",
        "decision_id",
        "decision",
        "author",
        "reason",
        "revoked_by",
        "revoke_reason",
    ]
    with engine.connect() as conn:
        events = pd.DataFrame(conn.execute(stmt).all(), columns=cols)
        counts = pd.DataFrame(
            conn.execute(moved).all(),
            columns=["run_id", "person_id", "other_person_id", "item_kind", "n"],
        )
    wide = (
        counts.pivot_table(
            index=["run_id", "person_id", "other_person_id"],
            columns="item_kind",
            values="n",
            aggfunc="sum",
        ).reindex(columns=list(ITEM_KINDS))
        if len(counts)
        else pd.DataFrame(
            columns=["run_id", "person_id", "other_person_id", *ITEM_KINDS]
        ).set_index(["run_id", "person_id", "other_person_id"])
    )
    wide = wide.rename(
        columns={"cohort_decision": "decisions_moved", "plan_entry": "plans_moved"}
    ).reset_index()
    events = events.merge(wide, on=["run_id", "person_id", "other_person_id"], how="left")
    for name in ("decisions_moved", "plans_moved"):
        events[name] = events[name].fillna(0).astype("int64")
    return events


def manual_moves(engine: Engine, person_id: str) -> pd.DataFrame:
    """Moves an analyst made to or from ``person_id`` (oldest first): moved_at,
    item_kind, item_ref, from_person_id, to_person_id, author, reason."""
    m = case_moves.c
    cols = [
        "moved_at",
        "item_kind",
        "item_ref",
        "from_person_id",
        "to_person_id",
        "author",
        "reason",
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            select(*[m[c] for c in cols])
            .where(m.run_id.is_(None))
            .where(or_(m.from_person_id == person_id, m.to_person_id == person_id))
            .order_by(m.id)
        ).all()
    return pd.DataFrame(rows, columns=cols)


def case_items(engine: Engine, person_id: str) -> pd.DataFrame:
    """What hangs on a person, one row per item: item_id ("cohort_decision:12",
    "plan_entry:<key>"), kind, summary, recorded_at (of the newest version)."""
    d, p = cohort_decisions.c, plan_entries.c
    with engine.connect() as conn:
        decisions = conn.execute(
            select(d.id, d.decision, d.reason, d.author, d.decided_at)
            .where(d.person_id == person_id)
            .order_by(d.id)
        ).all()
        plans = conn.execute(
            select(p.entry_key, p.kind, p.text, p.status, p.recorded_at)
            .where(p.person_id == person_id)
            .order_by(p.id)
        ).all()
    rows = [
        (f"cohort_decision:{i}", "cohort_decision", f"{dec} by {author}: {reason}", at)
        for i, dec, reason, author, at in decisions
    ]
    latest: dict[str, tuple] = {}
    for key, kind, text, status, at in plans:
        latest[key] = (f"plan_entry:{key}", "plan_entry", f"{kind} ({status}): {text}", at)
    rows.extend(latest.values())
    return pd.DataFrame(rows, columns=["item_id", "kind", "summary", "recorded_at"])


# ----------------------------------------------------------------- writes
def move_case_items(
    engine: Engine,
    from_id: str,
    to_id: str,
    item_ids: list[str],
    author: str,
    reason: str,
) -> int:
    """Move cohort decisions and plan entries (ids from :func:`case_items`)
    from one person to another, typically after a split, in one transaction:
    the items, a ``case_moves`` row each and one audit entry. Returns the
    number of items moved.

    Raises ValueError without a reason or author, when ``to_id`` is not an
    active person, or when an item is not on ``from_id``.
    """
    if not reason or not reason.strip() or not author.strip():
        raise ValueError("moving items needs an author and a reason")
    if from_id == to_id:
        raise ValueError("the items are already on this person")
    kinds: dict[str, list[str]] = {k: [] for k in ITEM_KINDS}
    for item in item_ids:
        kind, _, ref = str(item).partition(":")
        if kind not in kinds or not ref:
            raise ValueError(f"not a case item: {item!r}")
        kinds[kind].append(ref)
    decision_ids = [int(x) for x in kinds["cohort_decision"]]
    entry_keys = kinds["plan_entry"]
    d, p = cohort_decisions.c, plan_entries.c
    now = utc_now()
    with writer(engine) as conn:
        status = conn.execute(select(persons.c.status).where(persons.c.person_id == to_id)).scalar()
        if status != "active":
            raise ValueError(f"{to_id} is not an active person")
        on_from = (
            conn.execute(
                select(func.count())
                .select_from(cohort_decisions)
                .where(and_(d.id.in_(decision_ids), d.person_id == from_id))
            ).scalar_one()
            if decision_ids
            else 0
        )
        keys_on_from = (
            set(
                conn.execute(
                    select(p.entry_key).where(p.entry_key.in_(entry_keys), p.person_id == from_id)
                ).scalars()
            )
            if entry_keys
            else set()
        )
        if on_from != len(set(decision_ids)) or keys_on_from != set(entry_keys):
            raise ValueError(f"some of these items are not on {from_id}")
        if decision_ids:
            conn.execute(
                update(cohort_decisions).where(d.id.in_(decision_ids)).values(person_id=to_id)
            )
        if entry_keys:
            conn.execute(
                update(plan_entries)
                .where(p.entry_key.in_(entry_keys), p.person_id == from_id)
                .values(person_id=to_id)
            )
        moved = [("cohort_decision", str(i)) for i in sorted(set(decision_ids))] + [
            ("plan_entry", k) for k in sorted(set(entry_keys))
        ]
        conn.execute(
            insert(case_moves),
            [
                {
                    "moved_at": now,
                    "run_id": None,
                    "item_kind": kind,
                    "item_ref": ref,
                    "from_person_id": from_id,
                    "to_person_id": to_id,
                    "author": author,
                    "reason": reason.strip(),
                }
                for kind, ref in moved
            ],
        )
        counts = pd.Series([k for k, _ in moved]).value_counts()
        words = ", ".join(item_words(k, int(counts[k])) for k in ITEM_KINDS if k in counts)
        conn.execute(
            insert(audit_log).values(
                at=now,
                username=author,
                action=MOVE_ACTION,
                person_id=to_id,
                detail=f"moved from {from_id}: {words} ({reason.strip()[:400]})",
            )
        )
    return len(moved)
