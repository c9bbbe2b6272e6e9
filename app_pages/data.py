"""Data: import an extract (a server folder or uploaded files) through the
same pipeline as the CLI, as a background job the page follows; the import
history, the quarantine (searchable, exportable), the identity review queue
and data quality figures."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.services import audit, charts, imports, review, session
from app_pages._identity_run import follow as follow_identity_run

IMPORT_JOB = "data_import_job"  # the import this session asked for
REVIEW_JOB = "data_review_job"  # the identity run this session's review decision asked for
REVIEW_FLASH = "data_review_flash"
COMPARED_COLUMNS = {  # pixels: the two records side by side fit the page's width
    "field": st.column_config.TextColumn(width=140),
    "first record": st.column_config.TextColumn(width=340),
    "second record": st.column_config.TextColumn(width=340),
    "same": st.column_config.TextColumn(width=60),
}
QUEUE_COLUMNS = {  # the queue's columns in reading order, with their widths
    "item": st.column_config.NumberColumn(width="small"),
    "person": st.column_config.TextColumn(width="medium"),
    "check": st.column_config.TextColumn(width="medium"),
    "why": st.column_config.TextColumn(width="large"),
    "first record": st.column_config.TextColumn(width="large"),
    "second record": st.column_config.TextColumn(width="large"),
    "priority": st.column_config.NumberColumn(width="small"),
}

user = session.guard("data")
imports.hide_table_downloads()
st.title("Data")
st.caption("Imports, the quarantine, the identity review queue and data quality.")


@st.fragment(run_every=1.0)
def _import_progress() -> None:
    job = imports.import_job(st.session_state.get(IMPORT_JOB))
    if job is None or not job.active:
        st.rerun(scope="app")  # finished: redraw the page with what it stored
    mine = job.id == st.session_state.get(IMPORT_JOB)
    who = "" if mine else f" (started by {imports.md_escape(job.owner)})"
    st.progress(job.fraction, text=f"{imports.md_escape(job.status)}{who}")
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
        st.caption(
            f"The latest import (by {imports.md_escape(job.owner)}, {ended}): "
            f"{imports.md_escape(said)}"
        )
        return
    st.session_state.pop(IMPORT_JOB)
    outcome = job.result
    # messages name files, columns and values from the extract: drawn as text
    if outcome is None:
        st.error(imports.md_escape(job.error or "The import failed."))
    elif not outcome.ok:
        st.error(imports.md_escape(outcome.message))
    else:
        # anything quarantined is said as a warning (an error when a whole file was), never
        # as a green success
        {"success": st.success, "warning": st.warning, "error": st.error}[outcome.level](
            imports.md_escape(outcome.message)
        )
        for notice in outcome.notices:
            st.info(imports.md_escape(notice))
        st.dataframe(imports.files_table(outcome.files), hide_index=True)
        if outcome.identities:
            st.info(imports.md_escape(outcome.identities))


# ---- import -----------------------------------------------------------------
st.header("Import an extract")
if not session.allowed("data", "import"):
    st.caption("Your role cannot import extracts.")
else:
    root = imports.import_root()
    folder = st.text_input("Extract folder on the server", placeholder=f"{root}/2026-06")
    st.caption(f"Server folders are imported only from inside {imports.md_escape(root)} "
               "(set by `ADAPT_IMPORT_ROOT`).")  # fmt: skip
    uploads = st.file_uploader("…or upload the extract's CSV files or Excel workbooks",
                               type=list(imports.UPLOAD_TYPES), accept_multiple_files=True,
                               help="A workbook's sheets are read as the contract files they "
                               "are named after (incidents, involvements, marac, management); "
                               "formulas are read as the values Excel saved.")  # fmt: skip
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
            st.error(imports.md_escape(err))
    _import_result()

# ---- history ------------------------------------------------------------------
st.header("Import history")
st.dataframe(imports.history_table(), hide_index=True)

# ---- quarantine -------------------------------------------------------------------
st.header("Quarantine")
quarantine = imports.quarantine()
q1, q2 = st.columns([2, 1])
q_text = q1.text_input("Search the quarantine", placeholder="reason, column or value")
q_files = q2.multiselect("Files", sorted(quarantine["source_file"].unique()))
shown = imports.filter_quarantine(quarantine, q_text, q_files)
st.caption(f"{len(shown):,} of {len(quarantine):,} quarantined problem(s).")
st.dataframe(imports.quarantine_table(shown), hide_index=True)
if session.allowed("data", "export") and len(shown):
    e1, e2, e3 = st.columns(3)
    purpose = e1.selectbox("Purpose of the export", PURPOSES, index=None,
                           placeholder="Choose a purpose to export")  # fmt: skip
    fmt = e2.radio("Format", ["csv", "xlsx"], horizontal=True)
    if purpose is None:
        e3.caption("Exports are audited with their purpose.")
    else:
        # on the click, on the server: the audit entry first, then the file
        build = audit.audited_download(
            lambda: imports.quarantine_bytes(shown, fmt), action="export", page="data",
            permission="export", purpose=purpose,
            detail=f"quarantine {fmt}: {len(shown)} row(s)",
        )  # fmt: skip
        e3.download_button(
            f"Download quarantine ({fmt.upper()})", data=build,
            file_name=f"quarantine_{datetime.now():%Y%m%d_%H%M}.{fmt}",
            mime=audit.MIME_TYPES[fmt], on_click="ignore",
        )  # fmt: skip


# ---- identity review ---------------------------------------------------------------
def _explanation(pair: review.PairExplanation, key: str) -> None:
    st.dataframe(pair.compared, hide_index=True, column_config=COMPARED_COLUMNS)
    if pair.sentence:
        st.text(pair.sentence)
    else:
        st.caption("No scored link between these two records is stored.")
    if pair.figure is not None:
        charts.chart(pair.figure, alt=pair.sentence or "How the pair was weighed.",
                     name="How the pair was weighed", key=f"waterfall_{key}")  # fmt: skip
    with st.expander("For analysts: row keys, weights and level labels"):
        st.text(f"{pair.row_key_l} and {pair.row_key_r}")
        if pair.link is not None:
            link = pair.link
            st.text(review.link_summary(link))
        st.dataframe(pair.details, hide_index=True)


def _review(user: dict) -> None:
    follow_identity_run(REVIEW_JOB, "Identities re-resolved: the queue below is up to date.")
    if msg := st.session_state.pop(REVIEW_FLASH, None):
        st.success(msg)
    queue = review.queue()
    waiting = len(review.queue(include_decided=True)) - len(queue)
    note = f" {waiting} decided item(s) wait for the identity run." if waiting else ""
    st.caption(f"{len(queue)} item(s) to review, the most useful first. Open one to see the two "
               f"records side by side and decide it.{note}")  # fmt: skip
    st.dataframe(queue, hide_index=True, column_order=list(QUEUE_COLUMNS),
                 column_config=QUEUE_COLUMNS)  # fmt: skip
    if queue.empty:
        return
    titles = {int(r["item"]): review.item_title(r) for r in queue.to_dict("records")}
    chosen = st.selectbox("Open an item", list(titles), index=None, format_func=titles.get,
                          placeholder="Choose an item to review",
                          key=f"review_item_{review.queue_run()}")  # fmt: skip
    if chosen is None:
        return
    item = review.item(chosen)
    if item is None:
        st.info("This item has left the queue: a newer identity run replaced it.")
        return
    pair = item.pair
    if pair is None:
        if len(item.records) < 2:
            st.caption("This person has fewer than two records left: nothing to decide.")
            return
        keys = list(item.records["row_key"])
        shown = dict(zip(keys, item.records["shown"], strict=True))
        st.caption("Choose two of this person's records to compare and decide on.")
        c1, c2 = st.columns(2)
        left = c1.selectbox("First record", keys, format_func=shown.get, key=f"review_l_{chosen}")
        right = c2.selectbox("Second record", keys, index=1, format_func=shown.get,
                             key=f"review_r_{chosen}")  # fmt: skip
        if left == right:
            st.caption("Choose two different records.")
            return
        pair = review.explain_pair(left, right)
    _explanation(pair, str(chosen))
    # keyed by the two records: a submit counts only for the pair that was shown
    with st.form(f"review_decide_{pair.row_key_l}_{pair.row_key_r}", clear_on_submit=True):
        decision = st.radio("Decision", list(review.DECISIONS), index=None, horizontal=True,
                            format_func=review.DECISIONS.get)  # fmt: skip
        reason = st.text_area("Reason for the decision")
        submitted = st.form_submit_button("Record the decision")
    if not submitted:
        return
    session.guard("data", "review_identity")
    if decision is None:
        st.error("Choose 'Same person' or 'Not the same person'.")
        return
    try:
        job_id = review.decide(user, pair.row_key_l, pair.row_key_r, decision, reason,
                               item_id=chosen, person_id=item.person_id)  # fmt: skip
    except ValueError as err:
        st.error(imports.md_escape(err))
        return
    st.session_state[REVIEW_JOB] = job_id
    st.session_state[REVIEW_FLASH] = (
        f"Decision on item {chosen} recorded ({review.DECISIONS[decision].lower()}); identities "
        "are being re-resolved in the background (you may leave this page)."
    )
    st.rerun()


st.header("Identity review queue")
if session.allowed("data", "review_identity"):
    _review(user)
else:
    st.caption("Your role cannot review identities.")

# ---- data quality ---------------------------------------------------------------
st.header("Data quality")
st.dataframe(imports.data_quality(), hide_index=True)

st.header("Identity match model")
card = imports.match_model_card()
if card is None:
    st.caption(
        "No match model has been trained on this force's data yet: identity runs use the "
        f"packaged model (an extract of fewer than {imports.MIN_TRAINING_ROWS:,} person records "
        "is too small to train on)."
    )
else:
    with st.expander("The model trained on this force's records (its card)"):
        st.markdown(card)  # built from figures only: no text from the records
