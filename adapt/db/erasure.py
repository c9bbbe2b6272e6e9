"""Erasure of one person's personal data (DPA 2018 Part 3 s.47; MoPI review
outcome "dispose"), in one transaction, on every table that holds it.

Whose data: :func:`adapt.db.subject_access.person_scope` (the person id as it
stands today, every id merged into it, their person rows, their unresolved or
withdrawn rows and the quarantined input rows that name them): what a subject
access shows is exactly what an erasure removes.

What happens, table by table (non-identifying counts are kept):

================== ==========================================================
involvements       the row stays on its incident as a tombstone (incident,
                   seq, role, relationship and provenance kept, so the
                   incident still counts its people), its person_ref, names,
                   date of birth, gender and home address are emptied, its
                   row_hash set to 0 and ``withdrawn_import_id`` to
                   ``-erasure id``: like a withdrawn row it is never resolved,
                   scored or exported again
incidents          kept whole (the event, its date, offence and place are the
                   force's record, shared with the other people on it)
marac_referrals    the person's side (person_ref, names, date of birth) is
                   emptied, row_hash 0; the referral and the other side stay
                   (a side without a name or reference is not resolved)
management         deleted (a management record is only about the person;
                   its record_key is built from their name)
quarantine         ``value`` and ``raw`` emptied, ``reason`` replaced by
                   "erased (erasure N)"; the row and its problem_hash stay, so
                   the count stays and a reload of the same folder does not
                   store the row again
person_assignments deleted (the person's rows no longer belong to anyone)
persons            the id stays with status ``erased`` and 0 rows, so it is
                   never issued to anyone else; it holds nothing else
person_redirects   deleted (ids merged into the person, and any onward)
person_lineage     deleted (every merge or split event naming their ids)
identity_links     deleted (every comparison touching their rows)
identity_review    deleted (queue items naming their ids or rows)
identity_decisions deleted (analyst decisions about their rows)
person_scores      deleted (their ranked rows; the run's counts stay)
cohort_decisions   deleted
review_people      deleted (their rows in every stored review)
plan_entries       deleted (every version)
case_moves         deleted (moves from or to their ids)
audit_log          never altered (append-only, hash-chained); the erasure
                   adds one ``erasure`` entry naming the id, the ids merged
                   into it, the erasure number, the rows changed per table
                   and the reason given. Entries written before keep what
                   they held: ids, and what a user typed (a MARAC search
                   term may be a name). The s.62 log is kept as it is and
                   may be used only to check lawfulness
erasures           one row: who, when, why and the counts (never the person)
================== ==========================================================

Tables with no personal data of the person (imports, import_files,
identity_runs, identity_models, settings_versions, score_runs, reviews, app_users,
app_sessions, sign_in_attempts) are left alone; :data:`ERASURE_PLAN` says so
for every table and a test fails when a table is added without a line here.

A later ``adapt resolve`` cannot bring the person back: their rows are
emptied and marked (or deleted), and no decision, link or redirect names them.
A later *load* of an extract that still holds the person stores them again as
new records: the erasure must also be made in the force's source system (or
its extract filtered) before the next extract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, delete, insert, or_, update

from adapt.db import app_store
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    case_moves,
    cohort_decisions,
    counter_allegation_overrides,
    erasures,
    identity_decisions,
    identity_links,
    identity_review,
    involvements,
    management,
    marac_referrals,
    person_assignments,
    person_lineage,
    person_redirects,
    person_scores,
    persons,
    plan_entries,
    quarantine,
    review_people,
)
from adapt.db.subject_access import SIDES, PersonScope, UnknownPerson, chunks, person_scope

__all__ = ["ERASURE_PLAN", "Erasure", "UnknownPerson", "erase_person"]

ERASED_STATUS = "erased"  # persons.status of an erased id

# Every table of adapt.db.models and what an erasure does to it.
ERASURE_PLAN: dict[str, str] = {
    "involvements": "emptied in place (tombstone, withdrawn_import_id = -erasure id)",
    "incidents": "kept: the event is the force's record, shared with others on it",
    "marac_referrals": "the person's side emptied",
    "management": "deleted",
    "quarantine": "value and raw emptied, reason replaced",
    "person_assignments": "deleted",
    "persons": "status erased, rows 0 (the bare id is retired, never reissued)",
    "person_redirects": "deleted",
    "person_lineage": "deleted",
    "identity_links": "deleted",
    "identity_review": "deleted",
    "identity_decisions": "deleted",
    "person_scores": "deleted",
    "cohort_decisions": "deleted",
    "plan_entries": "deleted",
    "case_moves": "deleted",
    "counter_allegation_overrides": "deleted (an officer's labels of a pair with the person)",
    "calibration_evidence": "no personal data (capture figures per as-of date)",
    "review_people": "deleted (their rows in every stored review; the review's counts stay)",
    "reviews": "no personal data (date, settings, counts)",
    "learned_models": "no personal data (coefficients, dates, figures per group)",
    "audit_log": "never altered; one erasure entry added",
    "erasures": "one row added (who, when, why, counts)",
    "imports": "no personal data",
    "import_files": "no personal data",
    "identity_runs": "no personal data (counts only)",
    "identity_models": "no personal data (match weights, no values)",
    "settings_versions": "no personal data",
    "score_runs": "no personal data (counts only)",
    "app_users": "staff accounts, not data subjects",
    "app_sessions": "staff sessions",
    "sign_in_attempts": "staff sign-in failures",
}

_INVOLVEMENT_PERSONAL = (
    "person_ref", "forename", "surname", "date_of_birth", "gender", "home_address",
    "home_postcode",
)  # fmt: skip
_MARAC_PERSONAL = ("person_ref", "forename", "surname", "date_of_birth")


@dataclass(frozen=True)
class Erasure:
    """What one erasure did."""

    erasure_id: int
    person_id: str
    ids: tuple[str, ...]
    counts: dict[str, int]  # rows changed or deleted per table


def _in(column, values) -> list:  # type: ignore[no-untyped-def]
    return [column.in_(part) for part in chunks(list(values))]


def _delete(conn: Connection, table: Table, clauses: list) -> int:
    done = 0
    for clause in clauses:
        done += conn.execute(delete(table).where(clause)).rowcount or 0
    return done


def _apply(conn: Connection, scope: PersonScope, erasure_id: int) -> dict[str, int]:
    ids, keys = scope.ids, scope.row_keys
    counts: dict[str, int] = {}
    v = involvements.c
    blank = {c: None for c in _INVOLVEMENT_PERSONAL}
    counts["involvements"] = sum(
        conn.execute(
            update(involvements)
            .where(clause)
            .values(**blank, row_hash=0, withdrawn_import_id=-erasure_id)
        ).rowcount
        or 0
        for clause in _in(v.id, scope.involvement_ids)
    )
    m = marac_referrals.c
    counts["marac_referrals"] = 0
    for side in SIDES:
        side_ids = scope.marac.loc[scope.marac["side"] == side, "id"].tolist()
        values = {f"{side}_{c}": None for c in _MARAC_PERSONAL}
        for clause in _in(m.id, side_ids):
            counts["marac_referrals"] += (
                conn.execute(
                    update(marac_referrals).where(clause).values(**values, row_hash=0)
                ).rowcount
                or 0
            )
    counts["management"] = _delete(conn, management, _in(management.c.id, scope.management_ids))
    counts["quarantine"] = sum(
        conn.execute(
            update(quarantine)
            .where(clause)
            .values(value=None, raw=None, reason=f"erased (erasure {erasure_id})")
        ).rowcount
        or 0
        for clause in _in(quarantine.c.id, scope.quarantine_ids)
    )
    a = person_assignments.c
    counts["person_assignments"] = _delete(
        conn, person_assignments, _in(a.row_key, keys) + _in(a.person_id, ids)
    )
    lk, rv, d = identity_links.c, identity_review.c, identity_decisions.c
    counts["identity_links"] = _delete(
        conn, identity_links, _in(lk.row_key_l, keys) + _in(lk.row_key_r, keys)
    )
    counts["identity_review"] = _delete(
        conn,
        identity_review,
        _in(rv.person_id, ids) + _in(rv.row_key_l, keys) + _in(rv.row_key_r, keys),
    )
    counts["identity_decisions"] = _delete(
        conn, identity_decisions, _in(d.row_key_l, keys) + _in(d.row_key_r, keys)
    )
    lin, r, mv = person_lineage.c, person_redirects.c, case_moves.c
    counts["person_lineage"] = _delete(
        conn, person_lineage, [or_(lin.person_id.in_(ids), lin.other_person_id.in_(ids))]
    )
    counts["person_redirects"] = _delete(
        conn,
        person_redirects,
        [or_(r.person_id.in_(ids), r.current_person_id.in_(ids))],
    )
    counts["case_moves"] = _delete(
        conn, case_moves, [or_(mv.from_person_id.in_(ids), mv.to_person_id.in_(ids))]
    )
    ca = counter_allegation_overrides.c
    counts["counter_allegation_overrides"] = _delete(
        conn, counter_allegation_overrides, [or_(ca.person_a.in_(ids), ca.person_b.in_(ids))]
    )
    for table in (person_scores, cohort_decisions, plan_entries, review_people):
        counts[table.name] = _delete(conn, table, [table.c.person_id.in_(ids)])
    counts["persons"] = (
        conn.execute(
            update(persons).where(persons.c.person_id.in_(ids)).values(status=ERASED_STATUS, rows=0)
        ).rowcount
        or 0
    )
    return counts


def _words(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items() if n) or "nothing stored"


def erase_person(engine: Engine, person_id: str, *, reason: str, erased_by: str) -> Erasure:
    """Erase ``person_id``'s personal data from every table in one
    transaction (see the module docstring), register the erasure and write
    its audit entry in the same transaction.

    Raises :class:`UnknownPerson` for an id no stored person has (or one
    already erased), and ValueError without a reason."""
    if not reason or not reason.strip():
        raise ValueError("an erasure needs a reason")
    reason = reason.strip()
    now = utc_now()
    with writer(engine) as conn:
        scope = person_scope(conn, person_id)
        erasure_id = int(
            conn.execute(
                insert(erasures).values(
                    erased_at=now, erased_by=erased_by, reason=reason, counts="{}"
                )
            ).inserted_primary_key[0]
        )
        counts = _apply(conn, scope, erasure_id)
        conn.execute(
            update(erasures)
            .where(erasures.c.id == erasure_id)
            .values(counts=json.dumps(counts, sort_keys=True))
        )
        merged = [i for i in scope.ids if i != scope.person_id]
        detail = (
            f"erasure {erasure_id}: {scope.person_id}"
            + (f" (with the ids merged into it: {', '.join(merged)})" if merged else "")
            + f"; rows changed or deleted: {_words(counts)}; reason: {reason[:400]}"
        )
        app_store.record_in(
            conn, username=erased_by, action="erasure", person_id=scope.person_id, detail=detail
        )
    return Erasure(erasure_id, scope.person_id, scope.ids, counts)
