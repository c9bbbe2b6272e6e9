"""MARAC check: find a victim or perpetrator, see the linked perpetrators'
other victims, addresses, MARAC history and SafeLives repeats, and download a
one-page summary for the meeting (a disclosure, audited)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.core.settings import window_words
from adapt.services import audit, session
from adapt.services import marac as view

user = session.guard("marac")
view.hide_table_downloads()
st.title("MARAC check")
st.caption("Search the police history for a victim or perpetrator.")
view.prepare()

purpose = st.selectbox("Purpose", PURPOSES, index=None, placeholder="Why are you searching?")
if purpose is None:
    st.info("Choose a purpose to search. Each search, and everyone it shows, is recorded in the "
            "audit log.")  # fmt: skip
    st.stop()
side = st.radio("Looking for a", view.SIDES, horizontal=True)
with st.form("marac_search"):
    cols = st.columns([3, 1])
    text = cols[0].text_input(
        "Search", help="A name (typos allowed; a surname alone works), a person id or "
        "reference, or a MARAC referral id."
    )  # fmt: skip
    dob = cols[1].date_input("Date of birth", value=None, format="DD/MM/YYYY",
                             min_value=datetime(1900, 1, 1), max_value=datetime.now())  # fmt: skip
    submitted = st.form_submit_button("Search")

if submitted:
    if not text.strip() and dob is None:
        st.warning("Enter a name, reference or referral id, or a date of birth.")
        st.session_state.pop("marac_results", None)
    else:
        found = view.search(text, date_of_birth=dob, side=side)
        # a consultation of everyone shown (DPA 2018 s.62), with the term, before they are drawn
        view.record_search(found, text, date_of_birth=dob, side=side, purpose=purpose)
        st.session_state["marac_results"] = found
        st.session_state["marac_results_purpose"] = purpose

if st.session_state.get("marac_results_purpose") != purpose:
    st.session_state.pop("marac_results", None)  # shown only for the purpose it was audited for
results = st.session_state.get("marac_results")
if results is None:
    st.stop()
if results.empty:
    st.info("No one matches. Try fewer letters, the surname alone, or the date of birth.")
    st.stop()

st.subheader(f"{len(results)} match(es)")
picked = st.dataframe(
    results, hide_index=True, use_container_width=True, on_select="rerun",
    selection_mode="single-row", key="marac_table",
)  # fmt: skip
chosen_row = view.result_person(results, picked.selection.rows if picked else [])
options = results["person_id"].tolist()
names = dict(zip(results["person_id"], results["name"], strict=True))
person_id = st.selectbox(
    "Person", options, index=options.index(chosen_row) if chosen_row in options else 0,
    format_func=lambda p: f"{names.get(p, '')} ({p})",
)  # fmt: skip

check = view.check(person_id)
audit_key = ("marac_check", person_id, purpose)
done = st.session_state.setdefault("marac_audited", set())
if audit_key not in done:
    session.audit("marac_check", person_id=person_id, purpose=purpose)
    done.add(audit_key)

label = view.labels(
    [person_id, *check.perpetrators, *check.victims["victim_id"], *check.referrals["victim_id"]],
)


def _shown(person: object) -> str:  # a label as Markdown that draws it as text
    return view.md_escape(label.get(str(person), person))


def _named(frame, *columns):  # type: ignore[no-untyped-def]
    out = frame.copy()
    for col in columns:
        out[col] = out[col].map(lambda p: label.get(str(p), p))
    return out


st.header(_shown(person_id))
if not check.perpetrators:
    st.info("No perpetrator is linked to this person in the police history.")
for perp in check.perpetrators:
    with st.expander(f"Perpetrator: {_shown(perp)}", expanded=True):
        vics = check.victims[check.victims["perpetrator_id"] == perp]
        st.markdown(f"**Victims** ({len(vics)}; current: {int(vics['current'].sum())})")
        st.dataframe(_named(vics.drop(columns="perpetrator_id"), "victim_id"), hide_index=True)
        st.markdown("**Addresses**")
        adds = check.addresses[check.addresses["perpetrator_id"] == perp]
        st.dataframe(adds.drop(columns="perpetrator_id"), hide_index=True)
        refs = check.referrals[check.referrals["perpetrator_id"] == perp]
        st.markdown(f"**MARAC referrals** ({len(refs)})")
        st.dataframe(_named(refs.drop(columns="perpetrator_id"), "victim_id"), hide_index=True)
        stat = check.repeat_status[check.repeat_status["perpetrator_id"] == perp]
        st.markdown(f"**SafeLives repeat status** (an incident within "
                    f"{window_words(check.repeat_days)} of the pair's last referral)")  # fmt: skip
        for s in stat.itertuples():
            verdict = "a repeat" if s.repeat else "no repeat so far"
            window = "open" if s.window_open else "closed"
            st.write(
                f"{_shown(s.victim_id)}: {verdict} — last referral "
                f"{s.last_referral_date:%d/%m/%Y}, repeat window {window} until "
                f"{s.repeat_window_ends:%d/%m/%Y}; {s.repeat_incidents} repeat incident(s), "
                f"{s.late_flag_missed} missed by a late flag."
            )
        reps = check.repeat_incidents[check.repeat_incidents["perpetrator_id"] == perp]
        if len(reps):
            st.markdown("**Repeat incidents** (late_flag: the flag was not on by that day)")
            st.dataframe(_named(reps.drop(columns="perpetrator_id"), "victim_id"), hide_index=True)

own = check.referrals[check.referrals["perpetrator_id"].isna()]
if len(own):
    st.markdown("**Referrals naming no perpetrator**")
    st.dataframe(_named(own, "victim_id"), hide_index=True)

st.subheader("Summary for the meeting")
if not session.allowed("marac", "pdf"):
    st.caption("Your role cannot generate the meeting summary.")
    st.stop()
recipient = st.text_input("Recipient", value="MARAC meeting attendees", max_chars=200)
now = datetime.now()
marking = view.protective_marking()  # read now: the PDF is built on a thread with no session


def _pdf() -> bytes:  # built when the button is pressed, not on every rerun
    return view.summary_pdf(
        check, label, generated_by=user["display_name"], generated_at=now, purpose=purpose,
        recipient=recipient or "(not given)", marking=marking,
    )  # fmt: skip


# on the click, on the server: the audit entry (a disclosure) first, then the PDF
pdf = audit.audited_download(
    _pdf, action="marac_pdf", page="marac", permission="pdf", purpose=purpose,
    person_id=person_id, detail=f"recipient: {(recipient or '(not given)')[:200]}",
)  # fmt: skip
st.download_button(
    "Download PDF", data=pdf, file_name=f"marac_check_{person_id}_{now:%Y%m%d_%H%M}.pdf",
    mime="application/pdf", on_click="ignore",
)  # fmt: skip
