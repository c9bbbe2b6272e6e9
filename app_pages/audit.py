"""Audit (administrators): who consulted or exported which person's record,
when and for what purpose; decisions and settings changes; sign-ins."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.services import audit as view
from adapt.services import session

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
    st.dataframe(shown, hide_index=True)
with tabs[1]:
    kinds = ("Consulted a record", "Disclosed or exported")
    st.dataframe(shown[shown["kind"].isin(kinds)], hide_index=True)
with tabs[2]:
    st.dataframe(view.decisions(person), hide_index=True)
with tabs[3]:
    st.dataframe(view.settings_versions(), hide_index=True)
    st.dataframe(shown[shown["action"].str.startswith("settings_")], hide_index=True)
with tabs[4]:
    st.dataframe(shown[shown["kind"] == "Sign-ins"], hide_index=True)

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
