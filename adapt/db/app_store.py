"""What the app stores: the audit log (append-only), cohort decisions
and management plans. Pages call these; nothing else writes those tables,
except an identity run, which moves a merged-away person's decisions and plan
entries to the person it merged into (:mod:`adapt.db.continuity`)."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, insert, or_, select

from adapt.core.access import PURPOSES
from adapt.db import continuity
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    audit_log,
    cohort_decisions,
    person_redirects,
    plan_entries,
)

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
AUDIT_ACTIONS = (
    "sign_in", "sign_in_failed", "sign_out", "view_person", "marac_check", "marac_pdf",
    "export", "cohort_decision", "settings_saved", "import", "identity_decision", "plan_change",
    "refused", "case_items_moved",
    # issue 12: accounts, sessions, the audit's own exports, settings approval, MoPI/DPA duties
    "sign_in_locked", "session_expired", "account_change", "marac_search", "audit_export",
    "settings_approved", "settings_rejected", "erasure", "subject_access", "retention_report",
)  # fmt: skip


# ----------------------------------------------------------------- audit
def record(
    engine: Engine,
    *,
    username: str,
    action: str,
    role: str | None = None,
    person_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one audit entry (who, when, what, which person, why)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if purpose is not None and purpose not in PURPOSES:
        raise ValueError("purpose must be one of the listed purposes")
    with writer(engine) as conn:
        conn.execute(
            insert(audit_log).values(
                at=utc_now(),
                username=username,
                role=role,
                action=action,
                person_id=person_id,
                purpose=purpose,
                detail=detail,
            )
        )


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


def decisions_frame(engine: Engine, person_id: str | None = None) -> pd.DataFrame:
    """Every decision (newest first)."""
    d = cohort_decisions.c
    stmt = select(
        d.id, d.person_id, d.decision, d.author, d.reason, d.decided_at, d.as_of,
        d.settings_name, d.settings_version, d.score, d.score_snapshot,
    )  # fmt: skip
    if person_id:
        stmt = stmt.where(d.person_id == person_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(d.id.desc())).all()
    cols = ["id", "person_id", "decision", "author", "reason", "decided_at", "as_of",
            "settings_name", "settings_version", "score", "score_snapshot"]  # fmt: skip
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
