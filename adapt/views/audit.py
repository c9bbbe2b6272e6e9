"""The audit page's logic: filtering the append-only audit log and naming
what each entry was (a consultation, an export, a decision, a sign-in)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

KINDS: dict[str, tuple[str, ...]] = {
    # DPA 2018 s.62: consultation (a search shows people too), disclosure
    "Consulted a record": ("view_person", "marac_check", "marac_search", "marac_meeting_list"),
    "Disclosed or exported": ("marac_pdf", "export", "audit_export", "subject_access"),
    "Decisions and settings": ("cohort_decision", "settings_saved", "settings_approved",
                               "settings_rejected", "identity_decision", "plan_change",
                               "case_items_moved", "counter_allegation_label",
                               "review_created", "management_ended"),
    "Erasure and retention": ("erasure", "retention_report"),
    "Sign-ins": ("sign_in", "sign_in_failed", "sign_in_locked", "sign_out", "session_expired"),
    "Accounts": ("account_change",),
    "Imports": ("import",),
    "Refusals": ("refused",),
}  # fmt: skip


def kind_of(action: str) -> str:
    for kind, actions in KINDS.items():
        if action in actions:
            return kind
    return "Other"


def filter_audit(
    frame: pd.DataFrame,
    *,
    users: Iterable[str] = (),
    person_id: str = "",
    actions: Iterable[str] = (),
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Audit entries matching every filter given (empty filters match all),
    newest first, with a ``kind`` column."""
    out = frame
    users, actions = list(users), list(actions)
    if users:
        out = out[out["username"].isin(users)]
    if person_id.strip():
        out = out[out["person_id"].astype("string").str.upper() == person_id.strip().upper()]
    if actions:
        out = out[out["action"].isin(actions)]
    at = pd.to_datetime(out["at"])
    if since is not None:
        out = out[at >= pd.Timestamp(since)]
        at = pd.to_datetime(out["at"])
    if until is not None:
        out = out[at < pd.Timestamp(until) + pd.Timedelta(days=1)]
    out = out.sort_values("id", ascending=False)
    kinds = out["action"].map(kind_of)
    return out.assign(kind=kinds).reset_index(drop=True)


def decisions_view(decisions: pd.DataFrame) -> pd.DataFrame:
    """Cohort decisions without the score snapshot JSON (shown on the person page)."""
    return decisions.drop(columns=["score_snapshot"], errors="ignore")
