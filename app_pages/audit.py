"""Audit (administrators): who consulted or exported which person's record,
when and for what purpose; decisions and settings changes; sign-ins."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.services import audit as view
from adapt.services import session

# columns in words; an empty cell is empty, never "None"
COLUMNS = {
    "id": "Entry", "at": "When", "username": "User", "role": "Role", "action": "Action",
    "person_id": "Person", "purpose": "Purpose", "detail": "Detail",
    "current_person_id": "Person now", "kind": "Kind", "decision": "Decision",
    "author": "By", "reason": "Reason", "decided_at": "Decided", "as_of": "As of",
    "settings_name": "Settings", "settings_version": "Settings version", "score": "Score",
    "exit_state": "Exit state", "name": "Name", "version": "Version", "status": "Status",
    "saved_at": "Saved", "decided_by": "Decided by", "decision_reason": "Decision reason",
}  # fmt: skip


def _table(frame) -> None:  # type: ignore[no-untyped-def]
    st.dataframe(frame.astype(object).where(frame.notna(), ""), hide_index=True,
                 column_config=COLUMNS)  # fmt: skip


session.guard("audit")
view.hide_table_downloads()
st.title("Audit")
st.caption("The append-only record of who did what, when and why.")

entries = view.entries()
f1, f2, f3 = st.columns(3)
users = f1.multiselect("User", view.usernames())
person = f2.text_input("Person id")
actions = f3.multiselect("Action", view.AUDIT_ACTIONS)
d1, d2 = st.columns(2)
since = d1.date_input("From", value=None, format="DD/MM/YYYY")
until = d2.date_input("To", value=None, format="DD/MM/YYYY")
shown = view.filter_audit(entries, users=users, person_id=person, actions=actions,
                          since=since, until=until)  # fmt: skip

tabs = st.tabs(["All entries", "Consultations and exports", "Decisions", "Settings", "Sign-ins"])
with tabs[0]:
    st.caption(f"{len(shown)} of {len(entries)} entries.")
    _table(shown)
with tabs[1]:
    kinds = ("Consulted a record", "Disclosed or exported")
    _table(shown[shown["kind"].isin(kinds)])
with tabs[2]:
    _table(view.decisions(person))
with tabs[3]:
    _table(view.settings_versions())
    _table(shown[shown["action"].str.startswith("settings_")])
with tabs[4]:
    _table(shown[shown["kind"] == "Sign-ins"])

if session.allowed("audit", "export") and len(shown):
    e1, e2, e3 = st.columns(3)
    purpose = e1.selectbox("Purpose of the export", PURPOSES, index=None,
                           placeholder="Choose a purpose to export")  # fmt: skip
    fmt = e2.radio("Format", ["csv", "xlsx"], horizontal=True)
    if purpose is None:
        e3.caption("Exports of the log are audited too, with their purpose.")
    else:
        # on the click, on the server: the audit entry first, then the file
        build = view.audited_download(
            lambda: view.audit_bytes(shown, fmt), action="audit_export", page="audit",
            permission="export", purpose=purpose, detail=f"audit log {fmt}: {len(shown)} row(s)",
        )  # fmt: skip
        e3.download_button(
            f"Download audit ({fmt.upper()})", data=build,
            file_name=f"audit_{datetime.now():%Y%m%d_%H%M}.{fmt}", mime=view.MIME_TYPES[fmt],
            on_click="ignore",
        )  # fmt: skip
