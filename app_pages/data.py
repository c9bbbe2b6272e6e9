"""Data: import an extract (a server folder or uploaded files) through the
same pipeline as the CLI, as a background job the page follows; the import
history, the quarantine (searchable, exportable), the identity review queue
and data quality figures."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.services import imports, session

IMPORT_JOB = "data_import_job"  # the import this session asked for

user = session.guard("data")
st.title("Data")
st.caption("Imports, the quarantine, the identity review queue and data quality. Synthetic data.")


@st.fragment(run_every=1.0)
def _import_progress() -> None:
    job = imports.import_job(st.session_state.get(IMPORT_JOB))
    if job is None or not job.active:
        st.rerun(scope="app")  # finished: redraw the page with what it stored
    mine = job.id == st.session_state.get(IMPORT_JOB)
    who = "" if mine else f" (started by {job.owner})"
    st.progress(job.fraction, text=f"{job.status}{who}")
    st.caption("The import runs on the server: you may leave this page and come back.")


def _import_result() -> None:
    """This session's import: its progress, or how it ended (shown once);
    another session's import only while it runs, and a line on how it ended."""
    own = st.session_state.get(IMPORT_JOB)
    job = imports.import_job(own)
    if job is None:
        return
    if job.active:
        _import_progress()
        return
    if job.id != own:
        ended = f"{job.finished_at:%d/%m/%Y %H:%M} UTC" if job.finished_at else ""
        outcome = job.result
        said = outcome.message if outcome is not None else job.error
        st.caption(f"The latest import (by {job.owner}, {ended}): {said}")
        return
    st.session_state.pop(IMPORT_JOB)
    outcome = job.result
    if outcome is None:
        st.error(job.error or "The import failed.")
    elif not outcome.ok:
        st.error(outcome.message)
    else:
        st.success(outcome.message)
        for notice in outcome.notices:
            st.info(notice)
        st.dataframe(outcome.files, hide_index=True)
        if outcome.identities:
            st.info(outcome.identities)


# ---- import -----------------------------------------------------------------
st.subheader("Import an extract")
if not session.allowed("data", "import"):
    st.caption("Your role cannot import extracts.")
else:
    folder = st.text_input("Extract folder on the server", placeholder="/data/extracts/2026-06")
    uploads = st.file_uploader("…or upload the extract's CSV files", type=["csv"],
                               accept_multiple_files=True)  # fmt: skip
    c1, c2 = st.columns(2)
    strict = c1.checkbox("Strict (refuse the whole import if any row is bad)", value=False)
    resolve_after = c2.checkbox("Resolve identities after the import", value=True)
    if st.button("Import", type="primary"):
        session.guard("data", "import")
        try:
            if uploads:
                st.session_state[IMPORT_JOB] = imports.submit_uploads(
                    user, ((f.name, f.getvalue()) for f in uploads), strict=strict,
                    resolve_after=resolve_after,
                )  # fmt: skip
            elif folder.strip():
                st.session_state[IMPORT_JOB] = imports.submit_folder(
                    user, folder, strict=strict, resolve_after=resolve_after
                )
            else:
                st.error("Give a server folder or upload files.")
        except ValueError as err:
            st.error(str(err))
    _import_result()

# ---- history ------------------------------------------------------------------
st.subheader("Import history")
st.dataframe(imports.history(), hide_index=True)

# ---- quarantine -------------------------------------------------------------------
st.subheader("Quarantine")
quarantine = imports.quarantine()
q1, q2 = st.columns([2, 1])
q_text = q1.text_input("Search the quarantine", placeholder="reason, column or value")
q_files = q2.multiselect("Files", sorted(quarantine["source_file"].unique()))
shown = imports.filter_quarantine(quarantine, q_text, q_files)
st.caption(f"{len(shown)} of {len(quarantine)} quarantined problem(s).")
st.dataframe(shown, hide_index=True)
if session.allowed("data", "export") and len(shown):
    e1, e2, e3 = st.columns(3)
    purpose = e1.selectbox("Purpose of the export", PURPOSES, index=PURPOSES.index("Data quality"))
    fmt = e2.radio("Format", ["csv", "xlsx"], horizontal=True)

    def _record_export() -> None:
        session.audit("export", purpose=purpose,
                      detail=f"quarantine {fmt}: {len(shown)} row(s)")  # fmt: skip

    e3.download_button(
        f"Download quarantine ({fmt.upper()})",
        data=lambda: imports.quarantine_bytes(shown, fmt),  # built on the click, not every rerun
        file_name=f"quarantine_{datetime.now():%Y%m%d_%H%M}.{fmt}", on_click=_record_export,
    )  # fmt: skip

# ---- identity review ---------------------------------------------------------------
st.subheader("Identity review queue")
if session.allowed("data", "review_identity"):
    queue = imports.review_queue()
    st.caption(f"{len(queue)} item(s), highest priority first. Decide them with "
               "`adapt decide` or on the Person page.")  # fmt: skip
    st.dataframe(queue, hide_index=True)
else:
    st.caption("Your role cannot review identities.")

# ---- data quality ---------------------------------------------------------------
st.subheader("Data quality")
st.dataframe(imports.data_quality(), hide_index=True)
