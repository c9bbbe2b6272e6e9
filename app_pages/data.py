"""Data: import an extract (a server folder or uploaded files) through the
same loader as the CLI, the import history, the quarantine (searchable,
exportable), the identity review queue and data quality figures."""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from pathlib import Path

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.db import import_history, quarantine_frame
from adapt.db.search import involvement_ref_counts, review_queue_frame
from adapt.exports import table_bytes
from adapt.services import data, session
from adapt.views import data as view

log = logging.getLogger("adapt.app.data")
user = session.guard("data")
st.title("Data")
st.caption("Imports, the quarantine, the identity review queue and data quality. Synthetic data.")
engine = session.engine()

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
        bar = st.progress(0.0, text="Starting…")

        def _progress(stage: str, done: int, total: int) -> None:
            bar.progress(min(done / total, 1.0) if total else 0.0, text=f"{stage}: {done}/{total}")

        try:
            if uploads:
                tmp = Path(tempfile.mkdtemp(prefix="adapt_upload_"))
                view.write_uploads(((f.name, f.getvalue()) for f in uploads), tmp)
                outcome = view.import_extract(
                    engine, tmp, strict=strict, progress=_progress,
                    label=f"upload: {', '.join(sorted(f.name for f in uploads))}"[:500],
                )  # fmt: skip
            elif folder.strip():
                outcome = view.import_extract(engine, folder.strip(), strict=strict,
                                              progress=_progress)  # fmt: skip
            else:
                outcome = view.ImportOutcome(False, "Give a server folder or upload files.")
        except ValueError as err:
            outcome = view.ImportOutcome(False, str(err))
        except Exception as err:  # the user gets a message; the log, the type only
            log.error("import failed: %s", type(err).__name__)
            outcome = view.ImportOutcome(False, "The import failed; nothing was stored.")
        bar.progress(1.0, text="Done")
        session.audit(
            "import",
            detail=(f"import {outcome.import_id}: {outcome.quarantined} quarantined"
                    if outcome.ok else f"failed: {outcome.message[:300]}"),
        )  # fmt: skip
        if outcome.ok:
            st.success(outcome.message)
            for notice in outcome.notices:
                st.info(notice)
            st.dataframe(outcome.files, hide_index=True)
            if resolve_after:
                from adapt.identity.runner import resolve_database

                with st.spinner("Resolving identities…"):
                    run = resolve_database(engine)
                st.info(f"Identity run {run.run_id}: {run.rows_resolved} of {run.rows} rows "
                        f"resolved, {run.review_items} item(s) for review.")  # fmt: skip
        else:
            st.error(outcome.message)

# ---- history ------------------------------------------------------------------
st.subheader("Import history")
st.dataframe(import_history(engine), hide_index=True)

# ---- quarantine -------------------------------------------------------------------
st.subheader("Quarantine")
quarantine = quarantine_frame(engine)
q1, q2 = st.columns([2, 1])
q_text = q1.text_input("Search the quarantine", placeholder="reason, column or value")
q_files = q2.multiselect("Files", sorted(quarantine["source_file"].unique()))
shown = view.filter_quarantine(quarantine, q_text, q_files)
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
        f"Download quarantine ({fmt.upper()})", data=table_bytes(shown, f".{fmt}", "Quarantine"),
        file_name=f"quarantine_{datetime.now():%Y%m%d_%H%M}.{fmt}", on_click=_record_export,
    )  # fmt: skip

# ---- identity review ---------------------------------------------------------------
st.subheader("Identity review queue")
if session.allowed("data", "review_identity"):
    queue = review_queue_frame(engine)
    st.caption(f"{len(queue)} item(s), highest priority first. Decide them with "
               "`adapt decide` or on the Person page.")  # fmt: skip
    st.dataframe(queue, hide_index=True)
else:
    st.caption("Your role cannot review identities.")

# ---- data quality ---------------------------------------------------------------
st.subheader("Data quality")
st.dataframe(view.data_quality(data.history(), involvement_ref_counts(engine)), hide_index=True)
