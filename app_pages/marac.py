"""MARAC check: find a victim or perpetrator, see the linked perpetrators'
other victims, addresses, MARAC history and SafeLives repeats, and download a
one-page summary for the meeting (a disclosure, audited). A chair also
prepares the meeting list here: SafeLives repeats since the last meeting,
incidents a late flag missed, perpetrators linked to more than one referred
victim; exported and printed (audited). Victims open on the Victim page."""

from __future__ import annotations

from datetime import date, datetime

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.core.settings import window_words
from adapt.services import audit, session
from adapt.services import marac as view

VICTIM_PAGE = "app_pages/victim.py"
GO_VICTIM = "marac_open_victim"  # set by a choice's callback: switch before any work
SEARCH, MEETING = "Search the history", "Meeting list"
EARLIEST = date(1900, 1, 1)


def _victim_chosen(key: str) -> None:
    choice = st.session_state.get(key)
    if choice:
        st.session_state["victim_id"] = choice
        st.session_state[GO_VICTIM] = True


def _victim_link(victims: list[str], label: dict[str, str], key: str) -> None:
    """A box that opens a victim's page (for roles that may see it)."""
    if not victims or not session.allowed("victim", "view"):
        return
    st.selectbox(
        "Open a victim's page", victims, index=None, key=key, on_change=_victim_chosen,
        args=(key,), format_func=lambda p: label.get(p, p),
        placeholder="Choose a victim: their timeline, perpetrators and other victims",
    )  # fmt: skip


def main() -> None:
    user = session.guard("marac")
    if st.session_state.pop(GO_VICTIM, False) and st.session_state.get("victim_id"):
        st.switch_page(VICTIM_PAGE)  # a victim was picked: go at once
    view.hide_table_downloads()
    st.title("MARAC check")
    view.prepare()

    meeting_list = session.allowed("marac", "meeting_list")
    purpose = st.selectbox("Purpose", PURPOSES, index=None, placeholder="Why are you searching?")
    if purpose is None:
        task = "search or prepare a meeting list" if meeting_list else "search"
        st.info(f"Choose a purpose to {task}. Each search and list, and everyone it shows, is "
                "recorded in the audit log.")  # fmt: skip
        return
    if not meeting_list:
        _search(user, purpose)
        return
    search, meeting = st.tabs([SEARCH, MEETING])
    with search:
        _search(user, purpose)
    with meeting:
        _meeting(user, purpose)


# ------------------------------------------------------------------ search
def _search(user: dict, purpose: str) -> None:
    st.caption("Search the police history for a victim or perpetrator.")
    side = st.radio("Looking for a", view.SIDES, horizontal=True)
    with st.form("marac_search"):
        cols = st.columns([3, 1])
        text = cols[0].text_input(
            "Search", help="A name (typos allowed; a surname alone works), a person id or "
            "reference, or a MARAC referral id."
        )  # fmt: skip
        dob = cols[1].date_input("Date of birth", value=None, format="DD/MM/YYYY",
                                 min_value=EARLIEST, max_value=datetime.now())  # fmt: skip
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
        return
    if results.empty:
        st.info("No one matches. Try fewer letters, the surname alone, or the date of birth.")
        return

    st.subheader(f"{len(results)} match(es)")
    picked = st.dataframe(
        view.results_table(results), hide_index=True, width="stretch",
        on_select="rerun", selection_mode="single-row", key="marac_table",
    )  # fmt: skip
    chosen_row = view.result_person(results, picked.selection.rows if picked else [])
    options = results["person_id"].tolist()
    names = dict(zip(results["person_id"], results["name"], strict=True))
    # one match opens at once; among several, the chair chooses whose check to open
    default = options.index(chosen_row) if chosen_row in options else None
    person_id = st.selectbox(
        "Person", options, index=0 if len(options) == 1 else default,
        format_func=lambda p: f"{names.get(p, '')} ({p})",
        placeholder="Choose a person (or a row of the table) to open their check",
    )  # fmt: skip
    if person_id is None:
        return
    _check(user, purpose, person_id)


def _check(user: dict, purpose: str, person_id: str) -> None:
    check = view.check(person_id)
    audit_key = ("marac_check", person_id, purpose)
    done = st.session_state.setdefault("marac_audited", set())
    if audit_key not in done:
        session.audit("marac_check", person_id=person_id, purpose=purpose)
        done.add(audit_key)

    people = [person_id, *check.perpetrators, *check.victims["victim_id"]]
    label = view.labels([*people, *check.referrals["victim_id"]])

    def shown(person: object) -> str:  # a label as Markdown that draws it as text
        return view.md_escape(label.get(str(person), person))

    st.header(shown(person_id))
    victims = [person_id] if view.is_victim(person_id) else []
    victims += [str(v) for v in check.victims["victim_id"]]
    victims += [str(v) for v in check.referrals["victim_id"].dropna()]
    _victim_link(list(dict.fromkeys(victims)), label, f"marac_victim_{person_id}")
    if not check.perpetrators:
        st.info("No perpetrator is linked to this person in the police history.")
    for perp in check.perpetrators:
        with st.expander(f"Perpetrator: {shown(perp)}", expanded=True):
            _perpetrator(check, perp, label, shown)

    own = check.referrals[check.referrals["perpetrator_id"].isna()]
    if len(own):
        st.markdown("**Referrals naming no perpetrator**")
        st.dataframe(view.referrals_table(own, label), hide_index=True)
    _summary_pdf(user, purpose, person_id, check, label)


def _perpetrator(check, perp: str, label: dict[str, str], shown) -> None:  # type: ignore[no-untyped-def]
    vics = check.victims[check.victims["perpetrator_id"] == perp]
    st.markdown(f"**Victims** ({len(vics)}; current: {int(vics['current'].sum())})")
    st.dataframe(view.victims_table(vics, label), hide_index=True)
    st.markdown("**Addresses**")
    adds = check.addresses[check.addresses["perpetrator_id"] == perp]
    st.dataframe(view.addresses_table(adds), hide_index=True)
    refs = check.referrals[check.referrals["perpetrator_id"] == perp]
    st.markdown(f"**MARAC referrals** ({len(refs)})")
    st.dataframe(view.referrals_table(refs, label).drop(columns="Perpetrator"), hide_index=True)
    stat = check.repeat_status[check.repeat_status["perpetrator_id"] == perp]
    st.markdown(f"**SafeLives repeat status** (an incident within "
                f"{window_words(check.repeat_days)} of the pair's last referral)")  # fmt: skip
    for s in stat.itertuples():
        verdict = "a repeat" if s.repeat else "no repeat so far"
        window = "open" if s.window_open else "closed"
        repeats = view.counted(s.repeat_incidents, "repeat incident")
        st.write(
            f"{shown(s.victim_id)}: {verdict} — last referral "
            f"{view.day_words(s.last_referral_date)}, repeat window {window} until "
            f"{view.day_words(s.repeat_window_ends)}; {repeats}, "
            f"{s.late_flag_missed} missed by a late flag."
        )
    reps = check.repeat_incidents[check.repeat_incidents["perpetrator_id"] == perp]
    if len(reps):
        st.markdown("**Repeat incidents** (a late flag: the MARAC flag was not on the police "
                    "system by the day of the incident)")  # fmt: skip
        st.dataframe(view.repeats_table(reps, label), hide_index=True)


def _summary_pdf(user: dict, purpose: str, person_id: str, check, label) -> None:  # type: ignore[no-untyped-def]
    st.subheader("Summary for the meeting")
    if not session.allowed("marac", "pdf"):
        st.caption("Your role cannot generate the meeting summary.")
        return
    recipient = st.text_input("Recipient", value="MARAC meeting attendees", max_chars=200)
    now = datetime.now()
    marking = view.protective_marking()  # read now: the PDF is built on a thread with no session

    def pdf() -> bytes:  # built when the button is pressed, not on every rerun
        return view.summary_pdf(
            check, label, generated_by=user["display_name"], generated_at=now, purpose=purpose,
            recipient=recipient or "(not given)", marking=marking,
        )  # fmt: skip

    # on the click, on the server: the audit entry (a disclosure) first, then the PDF
    build = audit.audited_download(
        pdf, action="marac_pdf", page="marac", permission="pdf", purpose=purpose,
        person_id=person_id, detail=f"recipient: {(recipient or '(not given)')[:200]}",
    )  # fmt: skip
    st.download_button(
        "Download PDF", data=build, file_name=f"marac_check_{person_id}_{now:%Y%m%d_%H%M}.pdf",
        mime="application/pdf", on_click="ignore",
    )  # fmt: skip


# ------------------------------------------------------------ meeting list
MEETING_KEY = "marac_meeting"  # (meeting date, previous meeting date, purpose) last built
MEETING_AUDITED = "marac_meeting_audited"


def _meeting(user: dict, purpose: str) -> None:
    session.guard("marac", "meeting_list")
    st.caption(
        "What to bring to the next meeting: the cases with a SafeLives repeat since the last "
        "meeting, the incidents a late MARAC flag missed, and the perpetrators linked to more "
        "than one referred victim. Building the list records everyone on it in the audit log."
    )
    latest = view.default_meeting_date()
    with st.form("marac_meeting_form"):
        cols = st.columns(2)
        meeting = cols[0].date_input("Meeting date", value=latest, format="DD/MM/YYYY",
                                     min_value=EARLIEST)  # fmt: skip
        since = cols[1].date_input(
            "Previous meeting", value=None, format="DD/MM/YYYY", min_value=EARLIEST,
            help="Empty: one review interval (four weeks by default) before the meeting date.",
        )  # fmt: skip
        built = st.form_submit_button("Build the meeting list")
    if built:
        since = since or view.previous_meeting(meeting)
        if since >= meeting:
            st.error("The previous meeting must be before this meeting.")
            st.session_state.pop(MEETING_KEY, None)
            return
        st.session_state[MEETING_KEY] = (meeting, since, purpose)
    chosen = st.session_state.get(MEETING_KEY)
    if chosen is None or chosen[2] != purpose:  # shown only for the purpose it was audited for
        return
    meeting, since, _ = chosen
    ml = view.meeting_list(meeting, since)
    audited = st.session_state.setdefault(MEETING_AUDITED, set())
    if chosen not in audited:  # a consultation of everyone listed, before they are drawn
        view.record_meeting_list(ml, purpose)
        audited.add(chosen)
    label = view.labels(ml.people())

    st.subheader(f"Meeting list for {meeting:%d/%m/%Y}")
    st.write(view.md_escape(view.summary_words(ml)))
    counts = st.columns(3)
    counts[0].metric("Cases with a repeat", len(ml.repeats))
    counts[1].metric("Incidents a late flag missed", len(ml.late_flags))
    counts[2].metric("Perpetrators with several referred victims", len(ml.serial))

    window = window_words(ml.repeat_days)
    sections = [
        ("Cases with a SafeLives repeat since the last meeting",
         f"A referred pair with an incident within {window} of the pair's last referral, on a "
         "day after the last meeting. Referred again: the pair's next referral, if any.",
         view.meeting_repeats_table(ml, label)),
        ("Incidents a late flag missed",
         "A repeat incident since the last meeting on whose day the referral's MARAC flag was "
         "not yet on the police system (put on later, or not recorded): the officer attending "
         "could not see that the victim had been referred.",
         view.late_flags_table(ml, label)),
        ("Perpetrators linked to more than one referred victim",
         "Named on the victims' referrals or a suspect against them; listed when one of those "
         "victims was referred, or the perpetrator was a suspect, since the last meeting.",
         view.serial_table(ml, label)),
    ]  # fmt: skip
    for title, meaning, table in sections:
        st.markdown(f"**{title}** ({len(table)})")
        st.caption(meaning)
        if table.empty:
            st.write("Nothing since the last meeting.")
        else:
            st.dataframe(table, hide_index=True)
    _victim_link(ml.victims(), label, f"meeting_victim_{meeting}_{since}")
    _meeting_downloads(user, purpose, ml, label)


def _meeting_downloads(user: dict, purpose: str, ml, label: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    st.markdown("**Export or print the list**")
    recipient = st.text_input("Recipient", value="MARAC meeting attendees", max_chars=200,
                              key="meeting_recipient")  # fmt: skip
    now = datetime.now()
    marking = view.protective_marking()  # read now: files are built on a thread with no session
    stem = f"marac_meeting_list_{ml.meeting_date:%Y%m%d}"
    to = (recipient or "(not given)")[:200]
    detail = (f"meeting {ml.meeting_date:%d/%m/%Y} since {ml.since:%d/%m/%Y}, "
              f"{len(ml.people())} people; recipient: {to}")  # fmt: skip
    columns = st.columns(3)
    for column, suffix in zip(columns, (".csv", ".xlsx"), strict=False):
        kind = suffix[1:].upper()
        build = audit.audited_download(
            lambda suffix=suffix: view.meeting_file(ml, label, suffix),
            action="marac_meeting_list", page="marac", permission="meeting_list",
            purpose=purpose, detail=f"{kind}: {detail}",
        )  # fmt: skip
        column.download_button(
            f"Download {kind}", data=build, file_name=f"{stem}{suffix}",
            mime=audit.MIME_TYPES[kind.lower()], on_click="ignore", key=f"meeting{suffix}",
        )  # fmt: skip

    def pdf() -> bytes:
        return view.meeting_pdf(
            ml, label, generated_by=user["display_name"], generated_at=now, purpose=purpose,
            recipient=recipient or "(not given)", marking=marking,
        )  # fmt: skip

    build = audit.audited_download(
        pdf, action="marac_meeting_list", page="marac", permission="meeting_list",
        purpose=purpose, detail=f"PDF: {detail}",
    )  # fmt: skip
    columns[2].download_button(
        "Download PDF to print", data=build, file_name=f"{stem}.pdf", mime="application/pdf",
        on_click="ignore", key="meeting.pdf",
    )  # fmt: skip


main()
