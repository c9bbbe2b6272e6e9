"""Victim (MARAC chairs, officers): a victim's timeline (incidents, harm,
MARAC referrals), the perpetrators and each perpetrator's other victims.

Opening a victim's page needs a purpose and is audited (``view_person``),
as the Person page is; so is everyone else it shows."""

from __future__ import annotations

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.services import charts, data, session
from adapt.services import victim as views

VIEWED = "victim_viewed"  # (victim_id, purpose) last audited in this session
PERSON_PAGE = "app_pages/person.py"
GO_PERSON = "victim_open_person"


def _other_chosen(key: str) -> None:  # another victim: this page, redrawn for them
    choice = st.session_state.get(key)
    if choice:
        st.session_state["victim_id"] = choice


def _perpetrator_chosen(key: str) -> None:
    choice = st.session_state.get(key)
    if choice:
        st.session_state["person_id"] = choice
        st.session_state[GO_PERSON] = True


def main() -> None:
    session.guard("victim")
    if st.session_state.pop(GO_PERSON, False) and st.session_state.get("person_id"):
        st.switch_page(PERSON_PAGE)
    data.hide_table_downloads()
    st.title("Victim")
    if not len(data.history().incidents):
        st.info("No incidents are stored yet.")
        return
    current = st.session_state.get("victim_id")
    query = st.text_input("Find a victim", placeholder="Part of a name or a person id",
                          key="victim_find")  # fmt: skip
    options, matches = views.victim_options(query, current)
    if matches > views.PERSON_OPTIONS and (query or current is None):
        st.caption(f"{matches:,} victims match; the first {views.PERSON_OPTIONS} are offered. "
                   "Type part of a name or id to find someone else.")  # fmt: skip
    names = views.labels(options)
    victim_id = st.selectbox(
        "Victim", options, index=options.index(current) if current in options else None,
        format_func=lambda p: names.get(p, p),
        placeholder="Choose a victim (or open one from MARAC check)",
    )  # fmt: skip
    if victim_id is None:
        return
    st.session_state["victim_id"] = victim_id
    purpose = st.selectbox(
        "Purpose", PURPOSES, index=None, placeholder="Why are you opening this record?",
        key=f"victim_purpose_{victim_id}",
    )  # fmt: skip
    if purpose is None:
        st.info("Choose a purpose to open the record. Opening it, and everyone it shows, is "
                "recorded in the audit log.")  # fmt: skip
        return
    view = views.victim(victim_id)
    if st.session_state.get(VIEWED) != (victim_id, purpose):
        views.record_view(view, purpose)
        st.session_state[VIEWED] = (victim_id, purpose)

    label = views.labels([victim_id, *view.people()])
    st.header(views.md_escape(label.get(victim_id, victim_id)))
    st.write(views.md_escape(views.summary_words(view)))

    st.subheader("Timeline")
    timeline = views.timeline_table(view, label)
    if len(timeline):
        charts.chart(
            views.timeline_figure(view, label),
            alt="The chart shows the harm of each incident by date (Cambridge Crime Harm Index "
            "days), by perpetrator; the table lists the same events in words.",
            name="The victim's timeline",
            key="victim_timeline",
        )
        wide = {"Details": st.column_config.TextColumn(width="large")}
        st.dataframe(timeline, hide_index=True, column_config=wide)
    else:
        st.write("No incidents or referrals are recorded for this victim.")

    st.subheader("Perpetrators")
    perps = view.perpetrators
    if perps.empty:
        st.write("No perpetrator is recorded against this victim.")
        return
    st.dataframe(views.perpetrators_table(view, label), hide_index=True)
    if session.allowed("person", "view"):
        st.selectbox(
            "Open a perpetrator's pathway", perps["perpetrator_id"].tolist(), index=None,
            key=f"victim_perp_{victim_id}", on_change=_perpetrator_chosen,
            args=(f"victim_perp_{victim_id}",), format_func=lambda p: label.get(p, p),
            placeholder="Choose a perpetrator to open their Person pathway",
        )  # fmt: skip
    st.subheader("Each perpetrator's other victims")
    for perp in perps["perpetrator_id"]:
        others = views.other_victims_table(view, label, perp)
        who = views.md_escape(label.get(perp, perp))
        title = f"{who}: {views.counted(len(others), 'other victim')}"
        with st.expander(title, expanded=len(perps) == 1):
            if others.empty:
                st.write("No other victim is recorded.")
            else:
                st.dataframe(others, hide_index=True)
    others = list(dict.fromkeys(view.other_victims["victim_id"].astype(str)))
    if others:
        st.selectbox(
            "Open another victim's page", others, index=None, key=f"victim_other_{victim_id}",
            on_change=_other_chosen, args=(f"victim_other_{victim_id}",),
            format_func=lambda p: label.get(p, p),
            placeholder="Choose one of the perpetrators' other victims",
        )  # fmt: skip


main()
