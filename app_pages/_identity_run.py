"""Following an identity run a page asked for (an analyst's split on the
Person pathway, a review decision on the Data page): its progress while it
runs on the server, then how it ended, shown once. Not a page itself."""

from __future__ import annotations

import streamlit as st

from adapt.services import review


@st.fragment(run_every=2.0)
def _progress(state_key: str) -> None:
    job = review.identity_job(st.session_state.get(state_key))
    if job is None or not job.active:
        st.rerun(scope="app")  # finished: redraw the page on the new identities
    st.progress(job.fraction, text=review.md_escape(job.status))


def follow(state_key: str, done: str) -> None:
    """Draw the state of the identity run whose job id is in ``state_key``."""
    job = review.identity_job(st.session_state.get(state_key))
    if job is None:
        return
    if job.active:
        _progress(state_key)
    elif job.id == st.session_state.get(state_key):
        st.session_state.pop(state_key)
        if job.error:
            st.error(f"Identities were not re-resolved: {review.md_escape(job.error)}")
        else:
            st.success(done)
