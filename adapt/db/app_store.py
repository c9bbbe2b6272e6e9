"""What the app stores: the audit log (append-only, hash-chained), cohort
decisions and management plans. Pages call these; nothing else writes those
tables, except an identity run, which moves a merged-away person's decisions
and plan entries to the person it merged into (:mod:`adapt.db.continuity`).

The audit log is a hash chain: each entry stores the previous entry's
``row_hash`` as its ``prev_hash`` and its own ``row_hash`` = sha256 over that
and its fields (:func:`row_hash`). Appends are serialised (one lock, the last
hash read in the inserting transaction), so concurrent writers never fork it;
:func:`verify_chain` walks it and names the first entry that does not fit."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError

from adapt.core.access import PURPOSES
from adapt.db import continuity
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    audit_log,
    cohort_decisions,
    person_redirects,
    plan_entries,
)

log = logging.getLogger(__name__)

IOM_PATHWAYS: tuple[str, ...] = (
    "Accommodation",
    "Education, training and employment",
    "Health",
    "Drugs and alcohol",
    "Finance, benefit and debt",
    "Children and families",
    "Attitudes, thinking and behaviour",
)
PLAN_KINDS = ("intervention", "action", "review", "note")
PLAN_STATUSES = ("open", "done", "cancelled")
#: How an adopted person's management ended (issue 14): stored as a cohort
#: decision "ended" with one of these, besides "adopted" and "declined".
EXIT_STATES = ("completed", "moved away", "in custody", "deceased", "transferred")
ENDED = "ended"
AUDIT_ACTIONS = (
    "sign_in", "sign_in_failed", "sign_out", "view_person", "marac_check", "marac_pdf",
    "export", "cohort_decision", "settings_saved", "import", "identity_decision", "plan_change",
    "refused", "case_items_moved",
    # issue 12: accounts, sessions, the audit's own exports, settings approval, MoPI/DPA duties
    "sign_in_locked", "session_expired", "account_change", "marac_search", "audit_export",
    "settings_approved", "settings_rejected", "erasure", "subject_access", "retention_report",
    "counter_allegation_label",  # issue 13: an officer's predominant-aggressor label
    # issue 14: the four-weekly cycle
    "review_created", "management_ended", "marac_meeting_list",
)  # fmt: skip


# ----------------------------------------------------------------- audit
#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64
#: How far an entry's time may fall behind the entry before it (clocks of several
#: app servers differ a little) before :func:`verify_chain` calls it back-dated.
CLOCK_TOLERANCE = timedelta(seconds=60)
#: The PostgreSQL role whose members may only SELECT and INSERT the audit log
#: (migration 0010).
APP_ROLE = "adapt_app"
# Serialises audit appends and seals on PostgreSQL, on top of the writer lock.
AUDIT_LOCK_KEY = 0x0ADA_A0D1
_CHAIN_FIELDS = ("id", "at", "username", "role", "action", "person_id", "purpose", "detail")


def row_hash(
    prev_hash: str,
    *,
    id: int,
    at: datetime,
    username: str,
    role: str | None,
    action: str,
    person_id: str | None,
    purpose: str | None,
    detail: str | None,
) -> str:
    """sha256 (hex) over the previous entry's hash and this entry's fields.

    The fields are a compact JSON list in a fixed order, the time as ISO text
    with microseconds (as both databases keep it), so anyone can recompute it:

    >>> row_hash(GENESIS_HASH, id=1, at=datetime(2026, 1, 2, 3, 4, 5), username="u",
    ...          role=None, action="sign_in", person_id=None, purpose=None, detail=None)[:16]
    '059fc63510d4f598'
    """
    fields = [id, at.isoformat(sep=" ", timespec="microseconds"), username, role, action,
              person_id, purpose, detail]  # fmt: skip
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def listed_purpose(purpose: str | None) -> str | None:
    """The listed purpose (:data:`adapt.core.access.PURPOSES`) that ``purpose``
    names, ignoring case and spaces around it, else None."""
    wanted = (purpose or "").strip().casefold()
    return next((p for p in PURPOSES if p.casefold() == wanted), None)


def record(
    engine: Engine,
    *,
    username: str,
    action: str,
    role: str | None = None,
    person_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> int:
    """Append one audit entry (who, when, what, which person, why); returns its id."""
    _check_entry(action, purpose)
    with writer(engine) as conn:
        return record_in(conn, username=username, action=action, role=role, person_id=person_id,
                  purpose=purpose, detail=detail)  # fmt: skip


def record_in(
    conn: Connection,
    *,
    username: str,
    action: str,
    role: str | None = None,
    person_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> int:
    """Append one audit entry inside the caller's write transaction (a
    :func:`adapt.db.engine.writer`, so that it commits or rolls back with what
    it records); returns its id. Entries written before it without hashes are
    sealed first (:func:`seal_pending`)."""
    _check_entry(action, purpose)
    postgres = conn.dialect.name == "postgresql"
    last_id, previous = seal_pending(conn)
    if postgres:
        new_id = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))")
        ).scalar_one()
    else:  # SQLite: inside BEGIN IMMEDIATE, nobody else appends meanwhile
        new_id = (last_id or 0) + 1
    entry = {
        "id": int(new_id), "at": utc_now(), "username": username, "role": role,
        "action": action, "person_id": person_id, "purpose": purpose, "detail": detail,
    }  # fmt: skip
    conn.execute(
        insert(audit_log).values(**entry, prev_hash=previous, row_hash=row_hash(previous, **entry))
    )
    return entry["id"]


def seal_pending(conn: Connection) -> tuple[int | None, str]:
    """Chain the entries written without hashes after the last chained one
    (code that appends to the log directly, such as an identity run's case
    moves in bulk, leaves them so), in id order: the triggers allow their two
    hash columns to be filled once, continuing the chain, and nothing else.
    Call inside a writer transaction. Returns the last entry's id and hash."""
    a = audit_log.c
    if conn.dialect.name == "postgresql":  # whoever else appends waits here
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})")
    last = conn.execute(
        select(a.id, a.row_hash).where(a.row_hash.is_not(None)).order_by(a.id.desc()).limit(1)
    ).first()
    previous, last_id = (last.row_hash, last.id) if last else (GENESIS_HASH, None)
    pending = select(*[a[name] for name in _CHAIN_FIELDS]).where(a.row_hash.is_(None))
    if last is not None:
        pending = pending.where(a.id > last.id)
    for row in conn.execute(pending.order_by(a.id)).all():
        current = row_hash(previous, **row._asdict())
        conn.execute(
            update(audit_log)
            .where(a.id == row.id, a.row_hash.is_(None))
            .values(prev_hash=previous, row_hash=current)
        )
        previous, last_id = current, row.id
    return last_id, previous


def _check_entry(action: str, purpose: str | None) -> None:
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if purpose is not None and purpose not in PURPOSES:
        raise ValueError("purpose must be one of the listed purposes")


@dataclass(frozen=True)
class ChainBreak:
    """The first audit entry that does not fit the chain, and why."""

    id: int
    at: datetime
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: the entries checked, the last one's id
    and hash (keep them elsewhere: a chain cannot show that its newest entries
    were cut off), and the first break, if any."""

    entries: int
    last_id: int | None
    last_hash: str | None
    broken: ChainBreak | None
    unsealed: int = 0  # newest entries written without hashes and not sealed yet

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(
    engine: Engine,
    *,
    tolerance: timedelta = CLOCK_TOLERANCE,
    now: datetime | None = None,
    seal: bool = True,
) -> ChainReport:
    """Seal the entries written since the last append without hashes (unless
    ``seal`` is false: :func:`seal_pending`), then walk the audit log in id
    order and check every entry:

    * its ``prev_hash`` is the ``row_hash`` of the entry before it (else an
      entry before it was removed, inserted or rewritten);
    * its ``row_hash`` is :func:`row_hash` over its own fields (else it was
      altered);
    * it is not back-dated: its time is not earlier than the entry before it
      by more than ``tolerance``, nor later than ``now`` by more than that.

    An entry without hashes below a chained one fails too. Where sealing is
    not allowed (a read-only role or file), the newest unsealed entries are
    counted in ``unsealed`` instead. Stops at the first entry that fails.
    Reads in batches: memory stays flat however long the log."""
    if seal:
        try:
            with writer(engine) as conn:
                seal_pending(conn)
        except DBAPIError as exc:
            if not _read_only(exc):
                raise
            log.warning("audit entries not sealed: this connection may not write")
    now = now or utc_now()
    previous_hash, previous_id, previous_at = GENESIS_HASH, None, None
    count, unsealed, first_unsealed = 0, 0, None
    for row in _chain_rows(engine):
        count += 1
        if row.row_hash is None and row.prev_hash is None:
            unsealed += 1
            first_unsealed = first_unsealed or row
            continue
        entry = {name: getattr(row, name) for name in _CHAIN_FIELDS}
        reason = None
        if first_unsealed is not None:
            row = first_unsealed
            reason = (
                "it carries no hash, yet a later entry does: it was written around "
                "the chain or its hash removed"
            )
        elif row.row_hash is None or row.prev_hash is None:
            reason = "it carries only half its hashes: one was removed"
        elif row.prev_hash != previous_hash:
            reason = (
                "it does not follow the entry before it "
                + (f"(id {previous_id})" if previous_id is not None else "(it is the first)")
                + ": an entry was removed, inserted or rewritten there"
            )
        elif row.row_hash != row_hash(row.prev_hash, **entry):
            reason = "its contents do not match its hash: the entry was altered"
        elif previous_at is not None and row.at < previous_at - tolerance:
            reason = (
                f"it is dated {row.at:%Y-%m-%d %H:%M:%S}, before the entry before it "
                f"(id {previous_id}, {previous_at:%Y-%m-%d %H:%M:%S}): back-dated"
            )
        elif row.at > now + tolerance:
            reason = f"it is dated {row.at:%Y-%m-%d %H:%M:%S}, in the future"
        if reason is not None:
            return ChainReport(
                count, previous_id, previous_hash, ChainBreak(row.id, row.at, reason)
            )
        previous_hash, previous_id, previous_at = row.row_hash, row.id, row.at
    last_hash = previous_hash if previous_id is not None else None
    return ChainReport(count, previous_id, last_hash, None, unsealed)


def _read_only(exc: Exception) -> bool:
    """The connection may not write: PostgreSQL's insufficient_privilege, or a
    read-only SQLite file."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) == "42501":
        return True
    return getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY


def _chain_rows(engine: Engine, batch: int = 5000) -> Iterator:
    a = audit_log.c
    columns = [a[name] for name in _CHAIN_FIELDS] + [a.prev_hash, a.row_hash]
    after = None
    with engine.connect() as conn:
        while True:
            stmt = select(*columns).order_by(a.id).limit(batch)
            if after is not None:
                stmt = stmt.where(a.id > after)
            rows = conn.execute(stmt).all()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].id


AUDIT_EXPORT_COLUMNS = (*_CHAIN_FIELDS, "prev_hash", "row_hash")


def audit_export_frame(
    engine: Engine, *, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The audit log for the data protection officer, oldest first, with each
    entry's hashes (so the chain can be checked outside ADAPT): entries dated
    from ``start`` to ``end`` (whole days, both included)."""
    a = audit_log.c
    stmt = select(*[a[name] for name in AUDIT_EXPORT_COLUMNS]).order_by(a.id)
    if start is not None:
        stmt = stmt.where(a.at >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        stmt = stmt.where(a.at < datetime.combine(end + timedelta(days=1), datetime.min.time()))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(AUDIT_EXPORT_COLUMNS))


def audit_frame(
    engine: Engine,
    *,
    person_id: str | None = None,
    username: str | None = None,
    actions: tuple[str, ...] | None = None,
    limit: int = 5000,
) -> pd.DataFrame:
    """Audit entries, newest first, optionally filtered.

    The log is append-only, so an entry keeps the person id it was written
    with; ``current_person_id`` is where that person lives now (another id
    after a merge, read through ``person_redirects``), and ``person_id=``
    finds the entries written under any id merged into that person too."""
    a, r = audit_log.c, person_redirects.c
    current = func.coalesce(r.current_person_id, a.person_id).label("current_person_id")
    stmt = select(
        a.id, a.at, a.username, a.role, a.action, a.person_id, a.purpose, a.detail, current
    ).outerjoin_from(audit_log, person_redirects, r.person_id == a.person_id)
    if person_id:
        stmt = stmt.where(or_(a.person_id == person_id, r.current_person_id == person_id))
    if username:
        stmt = stmt.where(a.username == username)
    if actions:
        stmt = stmt.where(a.action.in_(actions))
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(a.id.desc()).limit(limit)).all()
    cols = ["id", "at", "username", "role", "action", "person_id", "purpose", "detail",
            "current_person_id"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------- decisions
def record_decision(
    engine: Engine,
    *,
    person_id: str,
    decision: str,
    author: str,
    reason: str,
    as_of: date,
    settings_name: str,
    settings_version: str,
    snapshot: dict,
) -> int:
    """Record that a named person adopted or declined someone, with the score
    and its parts as they saw them. The reason is required."""
    if decision not in ("adopted", "declined"):
        raise ValueError("decision must be 'adopted' or 'declined'")
    if not reason or not reason.strip():
        raise ValueError("a reason is required")
    # A decision about an id merged since the page was drawn lands on its person.
    person_id = continuity.current_person_id(engine, person_id)
    with writer(engine) as conn:
        result = conn.execute(
            insert(cohort_decisions).values(
                person_id=person_id,
                decision=decision,
                author=author,
                reason=reason.strip(),
                decided_at=utc_now(),
                as_of=as_of,
                settings_name=settings_name,
                settings_version=settings_version,
                score=float(snapshot.get("score", 0.0)),
                score_snapshot=json.dumps(snapshot, default=str, sort_keys=True),
            )
        )
    record(engine, username=author, action="cohort_decision", person_id=person_id,
           detail=f"{decision}: {reason.strip()[:500]}")  # fmt: skip
    return int(result.inserted_primary_key[0])


def end_management(
    engine: Engine,
    *,
    person_id: str,
    exit_state: str,
    author: str,
    reason: str,
    on: date | None = None,
) -> int:
    """Record that the management of an adopted person ended, how
    (:data:`EXIT_STATES`) and why (required), as a cohort decision "ended"
    dated ``on`` (default today): the person is no longer managed, and the
    ending stays in their decision history. It carries the adoption's score
    snapshot and settings. Audited ``management_ended`` in the same
    transaction. Raises ValueError when the person's latest decision is not an
    adoption (nobody manages them)."""
    if exit_state not in EXIT_STATES:
        raise ValueError(f"exit state must be one of {', '.join(EXIT_STATES)}")
    if not reason or not reason.strip():
        raise ValueError("a reason is required")
    person_id = continuity.current_person_id(engine, person_id)  # merged since drawn
    d = cohort_decisions.c
    with writer(engine) as conn:
        latest = conn.execute(
            select(d.decision, d.settings_name, d.settings_version, d.score, d.score_snapshot)
            .where(d.person_id == person_id)
            .order_by(d.id.desc())
            .limit(1)
        ).first()
        if latest is None or latest.decision != "adopted":
            raise ValueError("this person is not managed: their latest decision is not an adoption")
        result = conn.execute(
            insert(cohort_decisions).values(
                person_id=person_id,
                decision=ENDED,
                exit_state=exit_state,
                author=author,
                reason=reason.strip(),
                decided_at=utc_now(),
                as_of=on or utc_now().date(),
                settings_name=latest.settings_name,
                settings_version=latest.settings_version,
                score=latest.score,
                score_snapshot=latest.score_snapshot,
            )
        )
        record_in(conn, username=author, action="management_ended", person_id=person_id,
                  detail=f"{exit_state}: {reason.strip()[:500]}")  # fmt: skip
    return int(result.inserted_primary_key[0])


def decisions_frame(engine: Engine, person_id: str | None = None) -> pd.DataFrame:
    """Every decision (newest first); ``exit_state`` is set on an ending
    (:func:`end_management`)."""
    d = cohort_decisions.c
    stmt = select(
        d.id, d.person_id, d.decision, d.author, d.reason, d.decided_at, d.as_of,
        d.settings_name, d.settings_version, d.score, d.score_snapshot, d.exit_state,
    )  # fmt: skip
    if person_id:
        stmt = stmt.where(d.person_id == person_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(d.id.desc())).all()
    cols = ["id", "person_id", "decision", "author", "reason", "decided_at", "as_of",
            "settings_name", "settings_version", "score", "score_snapshot",
            "exit_state"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def latest_decisions(engine: Engine) -> pd.DataFrame:
    """The latest decision per person: person_id, decision, author, decided_at, reason."""
    frame = decisions_frame(engine)
    if frame.empty:
        return frame[["person_id", "decision", "author", "decided_at", "reason"]]
    latest = frame.sort_values("id").drop_duplicates("person_id", keep="last")
    return latest[["person_id", "decision", "author", "decided_at", "reason"]].reset_index(
        drop=True
    )


# ------------------------------------------------------------------ plans
def save_plan_entry(
    engine: Engine,
    *,
    person_id: str,
    author: str,
    kind: str,
    text: str,
    pathway: str | None = None,
    owner: str | None = None,
    due_date: date | None = None,
    status: str = "open",
    entry_key: str | None = None,
) -> str:
    """Add a plan entry, or a new version of ``entry_key``; returns the key.
    Earlier versions stay: the plan keeps its history."""
    if kind not in PLAN_KINDS:
        raise ValueError(f"kind must be one of {', '.join(PLAN_KINDS)}")
    if status not in PLAN_STATUSES:
        raise ValueError(f"status must be one of {', '.join(PLAN_STATUSES)}")
    if pathway is not None and pathway not in IOM_PATHWAYS:
        raise ValueError("pathway must be one of the seven IOM pathways")
    if not text.strip():
        raise ValueError("the entry needs a text")
    key = entry_key or uuid.uuid4().hex[:16]
    p = plan_entries.c
    person_id = continuity.current_person_id(engine, person_id)  # merged since drawn
    with writer(engine) as conn:
        current = conn.execute(select(func.max(p.version)).where(p.entry_key == key)).scalar()
        if entry_key is not None and current is None:
            raise ValueError("no such plan entry")
        conn.execute(
            insert(plan_entries).values(
                person_id=person_id,
                entry_key=key,
                version=(current or 0) + 1,
                pathway=pathway,
                kind=kind,
                text=text.strip(),
                owner=owner,
                due_date=due_date,
                status=status,
                author=author,
                recorded_at=utc_now(),
            )
        )
    record(engine, username=author, action="plan_change", person_id=person_id,
           detail=f"{kind} {key} v{(current or 0) + 1} ({status})")  # fmt: skip
    return key


def plan_entries_frame(engine: Engine, person_ids: list[str]) -> pd.DataFrame:
    """Every version of every plan entry of these people, oldest first (the
    caseload reads its last contact and last plan review from them)."""
    p = plan_entries.c
    cols = ["person_id", "entry_key", "version", "pathway", "kind", "text", "owner", "due_date",
            "status", "author", "recorded_at"]  # fmt: skip
    ids = sorted({str(x) for x in person_ids})
    rows: list = []
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            chunk = ids[start : start + 900]
            rows += conn.execute(
                select(*[p[c] for c in cols]).where(p.person_id.in_(chunk)).order_by(p.id)
            ).all()
    return pd.DataFrame(rows, columns=cols)


def plan_frame(engine: Engine, person_id: str, history: bool = False) -> pd.DataFrame:
    """The person's plan: the current version of each entry (or every version)."""
    p = plan_entries.c
    cols = ["entry_key", "version", "pathway", "kind", "text", "owner", "due_date", "status",
            "author", "recorded_at"]  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(
            select(*[p[c] for c in cols]).where(p.person_id == person_id).order_by(p.id)
        ).all()
    frame = pd.DataFrame(rows, columns=cols)
    if history or frame.empty:
        return frame
    return frame.drop_duplicates("entry_key", keep="last").reset_index(drop=True)
