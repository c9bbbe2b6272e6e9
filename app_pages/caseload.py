"""Caseload (IOM officers): the people this officer manages, plan reviews due
and overdue, actions by owner and due date, new incidents since the last
contact; a plan review or contact recorded; management ended with an exit
state; and the outcome panel for the whole cohort. Writing is re-checked
against the role table here and in the service."""

from __future__ import annotations

import streamlit as st

from adapt.services import caseload, data, session

FLASH = "caseload_flash"
WHOLE_TEAM = "The whole team"
REVIEW_HELD = "A plan review held"
CONTACT = "A contact (a note)"


def _table(frame, columns: dict[str, str] | None = None) -> None:  # type: ignore[no-untyped-def]
    shown = frame if columns is None else frame[list(columns)].rename(columns=columns)
    st.dataframe(shown, hide_index=True)


def _whose(user: dict, officers: list[str]) -> str | None:
    """The officer whose caseload is shown (None: the whole team)."""
    if user["role"] == "iom_officer":
        team = st.toggle("Show the whole team's caseload", key="caseload_team")
        return None if team else user["username"]
    options = [WHOLE_TEAM, *[o for o in officers if o != WHOLE_TEAM]]
    chosen = st.selectbox("Whose caseload", options, key="caseload_officer")
    return None if chosen == WHOLE_TEAM else chosen


def _flash(where: str) -> None:
    """The message of what was just done, shown where it was done (a rerun
    keeps the scroll position: a message at the top would go unseen)."""
    flash = st.session_state.get(FLASH)
    if flash and flash[0] == where:
        st.session_state.pop(FLASH)
        st.success(flash[1])


def _record_contact(user: dict, load: caseload.Caseload) -> None:
    st.header("Record a plan review or a contact")
    _flash("contact")
    with st.form("caseload_contact", clear_on_submit=True):
        person = st.selectbox(
            "Person seen or reviewed",
            list(load.choices),
            format_func=lambda p: load.choices.get(p, p),
            index=None,
            placeholder="Choose a person on the caseload",
            key="contact_person",
        )
        what = st.radio("What happened", [REVIEW_HELD, CONTACT], horizontal=True)
        text = st.text_area("What was done or said (required)")
        submitted = st.form_submit_button("Record it")
    if not submitted:
        return
    if person is None or not text.strip():
        st.error("Choose a person and say what was done or said.")
        return
    caseload.record_contact(user, person, what == REVIEW_HELD, text)
    st.session_state[FLASH] = (
        "contact",
        (
            f"Contact recorded for {load.choices.get(person, person)}."
            if what == CONTACT
            else f"Plan review recorded for {load.choices.get(person, person)}; the next one is "
            f"due in {load.review_days} days."
        ),
    )
    st.rerun()


def _end_management(user: dict, load: caseload.Caseload) -> None:
    st.header("End management")
    _flash("end")
    st.caption(
        "The person leaves the caseload and is no longer managed; the ending, its exit "
        "state and reason stay in their decision history."
    )
    with st.form("caseload_end", clear_on_submit=True):
        person = st.selectbox(
            "Person whose management ends",
            list(load.choices),
            format_func=lambda p: load.choices.get(p, p),
            index=None,
            placeholder="Choose a person on the caseload",
            key="end_person",
        )
        words = st.radio(
            "Exit state", list(caseload.EXIT_STATE_CHOICES), index=None, horizontal=True
        )
        state = caseload.EXIT_STATE_CHOICES.get(words) if words else None
        reason = st.text_area("Reason (required)")
        submitted = st.form_submit_button("End management")
    if not submitted:
        return
    if person is None or state is None or not reason.strip():
        st.error("Choose a person and an exit state, and give the reason.")
        return
    caseload.end_management(user, person, state, reason)
    st.session_state[FLASH] = (
        "end",
        (
            f"Management of {load.choices.get(person, person)} ended "
            f"({caseload.EXIT_STATE_WORDS[state].lower()}); the reason is recorded."
        ),
    )
    st.rerun()


def _outcome() -> None:
    st.header("Outcomes across the cohort")
    result = caseload.outcome()
    st.markdown(caseload.md_escape(result.sentence()))
    if result.matched:
        st.markdown("Average harm per person (days) in the 12 months before adoption and after it")
        st.bar_chart(
            result.chart_frame(),
            stack=False,
            horizontal=True,
            x_label="",  # horizontal: this names the axis of the periods
            y_label="Harm (days per person)",
        )
        st.markdown("The same figures as a table:")
        _table(result.table())
    st.markdown("**What this cannot tell you.** " + caseload.md_escape(result.caveat()))


def main() -> None:
    user = session.guard("caseload")
    data.hide_table_downloads()
    st.title("Caseload")
    officer = _whose(user, caseload.officers())
    load = caseload.load(officer, user["username"])
    st.markdown(caseload.md_escape(load.summary))

    st.header("Plan reviews due and overdue")
    if load.reviews_due.empty:
        st.markdown(f"No plan review is overdue or due in the next {caseload.SOON_DAYS} days.")
    else:
        _table(load.reviews_due, {k: caseload.CASELOAD_LABELS[k] for k in
               ("name", "person_id", "review_due", "review", "last_contact")})  # fmt: skip
    st.caption(
        f"A plan review falls due {load.review_days} days after the adoption or the last "
        "plan review held."
    )

    st.header("People managed")
    if load.table.empty:
        st.markdown("Nobody is on this caseload.")
    else:
        _table(load.table, {k: caseload.CASELOAD_LABELS[k] for k in caseload.CASELOAD_COLUMNS})

    st.header("Actions by owner and due date")
    if load.actions.empty:
        st.markdown("No open action.")
    else:
        _table(load.actions)

    st.header("New incidents since the last contact")
    if load.new_incidents.empty:
        st.markdown("No new incident since the last contact.")
    else:
        _table(load.new_incidents)
    st.caption(
        "The last contact is the last plan note or action recorded; with none, incidents "
        "are counted from the day after the adoption."
    )

    if load.choices and session.allowed("caseload", "edit_plan"):
        _record_contact(user, load)
    if load.choices and session.allowed("caseload", "end_management"):
        _end_management(user, load)

    if flash := st.session_state.pop(FLASH, None):  # its form is gone (nobody left)
        st.success(flash[1])

    st.header("Management ended")
    ended = caseload.ended()
    if ended.empty:
        st.markdown("No management has ended yet.")
    else:
        _table(ended)

    _outcome()


main()
