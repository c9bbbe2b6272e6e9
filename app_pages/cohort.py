"""Cohort (IOM officers): the ranked list as of a date, filters, open a
person, adopt or decline with a reason, export (CSV/XLSX, formula-safe)."""

from __future__ import annotations

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.core.settings import window_words
from adapt.services import audit, cohort, data, session
from adapt.services import settings as saved_settings

PERSON_PAGE = "app_pages/person.py"
FLASH = "cohort_flash"
GO = "cohort_open_person"  # set by a selection's callback: switch before any work
DRAWN = "cohort_drawn_ids"  # the person ids of the rows drawn, for the table's callback


def _picked_from_list() -> None:
    choice = st.session_state.get("cohort_open")
    if choice:
        st.session_state["person_id"] = choice
        st.session_state[GO] = True


def _picked_from_table() -> None:
    event = st.session_state.get("cohort_table")
    rows = event.selection.rows if event else []
    drawn = st.session_state.get(DRAWN)
    if drawn is None:
        return
    selected = cohort.person_at(drawn, rows)
    if selected:
        st.session_state["person_id"] = selected[0]
        st.session_state[GO] = True


def main() -> None:
    user = session.guard("cohort")
    data.hide_table_downloads()
    if st.session_state.pop(GO, False) and st.session_state.get("person_id"):
        st.switch_page(PERSON_PAGE)  # a person was picked: go at once, nothing else to draw
    st.title("Cohort")
    settings = saved_settings.settings_in_force()
    history = data.history()
    if not len(history.incidents):
        st.info("No incidents are stored yet. Import an extract on the Data page.")
        return
    latest = data.default_as_of()
    as_of = st.date_input("As of", value=latest, max_value=latest, format="YYYY-MM-DD")
    ranked = data.ranked(as_of, settings)
    view = cohort.cohort_table(as_of, settings)
    st.caption(
        f"Settings {cohort.md_escape(saved_settings.label(settings))} · "
        f"{int(view['in_cohort'].sum())} in the "
        f"cohort of {len(view)} people who were suspects up to {as_of:%d %b %Y}. "
        "The list is advisory: an officer decides, with a reason."
    )
    if msg := st.session_state.pop(FLASH, None):
        st.success(msg)

    c1, c2, c3, c4, c5 = st.columns(5)
    areas = sorted(a for a in view["area"].unique() if a)
    area = c1.multiselect("Area", areas, placeholder="All areas")
    in_cohort = c2.selectbox("In cohort", list(cohort.CHOICES), index=1)
    managed = c3.selectbox("Already managed", list(cohort.CHOICES))
    escalating = c4.selectbox("Escalating", list(cohort.CHOICES))
    alerts = c5.selectbox("Alerts", list(cohort.ALERT_CHOICES))
    shown = cohort.filter_cohort(
        view,
        area=area,
        in_cohort=cohort.CHOICES[in_cohort],
        managed=cohort.CHOICES[managed],
        escalating=cohort.CHOICES[escalating],
        alerts=cohort.ALERT_CHOICES[alerts],
    )
    drawn = shown.head(cohort.TOP_SHOWN)
    cut = (
        f" The first {len(drawn)} are drawn; narrow the filters to see others, or export "
        "the whole list."
        if len(drawn) < len(shown)
        else ""
    )
    st.markdown(f"**{len(shown)} people shown.** Select a row to open the person.{cut}")
    st.session_state[DRAWN] = drawn[["person_id"]]

    top = max(float(view["score"].max()), 1.0) if len(view) else 1.0
    window = window_words(settings.windows.window_days)
    config = {
        "rank": st.column_config.NumberColumn("Rank", width="small"),
        "person_id": st.column_config.TextColumn("Person"),
        "name": st.column_config.TextColumn("Name"),
        "score": st.column_config.ProgressColumn("Score", format="%.1f", min_value=0,
                                                 max_value=top),
        "attendances_window": st.column_config.NumberColumn(f"Attendances {window}"),
        "victims_window": st.column_config.NumberColumn(f"Victims {window}"),
        "new_victims_window": st.column_config.NumberColumn("New victims"),
        "last_incident": st.column_config.DateColumn("Last incident", format="YYYY-MM-DD"),
        "frequency_trend": st.column_config.TextColumn("Frequency"),
        "severity_trend": st.column_config.TextColumn("Severity"),
        "marac_status": st.column_config.TextColumn("MARAC"),
        "already_managed": st.column_config.TextColumn("Managed"),
        "alerts": st.column_config.TextColumn("Alerts"),
        "in_cohort": st.column_config.CheckboxColumn("In cohort"),
        "decision_status": st.column_config.TextColumn("Decision"),
    }  # fmt: skip
    for part in cohort.PARTS:
        part_top = max(float(view[part].max()), 1.0) if len(view) else 1.0
        config[part] = st.column_config.ProgressColumn(
            cohort.PART_LABELS[part], format="%.0f", min_value=0, max_value=part_top,
            help=cohort.PARTS[part],
        )  # fmt: skip
    columns = [c for c in cohort.DISPLAY_COLUMNS if c != "area"]
    st.dataframe(
        drawn[columns],
        column_order=columns,
        column_config=config,
        hide_index=True,
        on_select=_picked_from_table,
        selection_mode="single-row",
        key="cohort_table",
    )

    labels = dict(zip(drawn["person_id"], drawn["rank"].astype(str) + ". " + drawn["name"],
                      strict=True))  # fmt: skip
    st.selectbox(
        "Open a person",
        list(drawn["person_id"].head(cohort.OPEN_OPTIONS)),
        index=None,
        format_func=lambda p: f"{labels.get(p, p)} ({p})",
        placeholder=f"Choose one of the first {cohort.OPEN_OPTIONS} (or select a row above)",
        key="cohort_open",
        on_change=_picked_from_list,
    )

    _decide(user, drawn, view, as_of, settings)
    _export(shown, ranked, as_of)


def _decide(user: dict, shown, view, as_of, settings) -> None:  # type: ignore[no-untyped-def]
    st.subheader("Adopt or decline")
    if not session.allowed("cohort", "decide"):
        st.caption("Your role can read the list but not decide.")
        return
    if shown.empty:
        st.caption("Nobody is shown.")
        return
    names = dict(zip(shown["person_id"], shown["name"], strict=True))
    with st.form("decision", clear_on_submit=True):
        person_id = st.selectbox(
            "Person", list(shown["person_id"]), format_func=lambda p: f"{names.get(p, p)} ({p})"
        )
        reason = st.text_area("Reason", placeholder="Why adopt or decline (required)")
        left, right = st.columns(2)
        adopt = left.form_submit_button("Adopt", type="primary")
        decline = right.form_submit_button("Decline")
    if not (adopt or decline):
        return
    session.guard("cohort", "decide")
    if not reason or not reason.strip():
        st.error("A reason is required.")
        return
    decision = "adopted" if adopt else "declined"
    cohort.record_decision(user, view, person_id, decision, reason, as_of, settings)
    st.session_state[FLASH] = (
        f"{cohort.md_escape(person_id)} {decision}; the decision and its reason are recorded."
    )
    st.rerun()


def _export(shown, ranked, as_of) -> None:  # type: ignore[no-untyped-def]
    if not session.allowed("cohort", "export"):
        return
    st.subheader("Export the list shown")
    purpose = st.selectbox("Purpose of the export", PURPOSES, index=None,
                           placeholder="Choose a purpose to export")  # fmt: skip
    if purpose is None:
        st.caption("Exports are audited with their purpose.")
        return
    left, right = st.columns(2)
    for column, suffix, mime in (
        (left, ".csv", "text/csv"),
        (right, ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        kind = suffix[1:].upper()
        # on the click, on the server: the audit entry first, then the file
        build = audit.audited_download(
            lambda suffix=suffix: cohort.export_file(shown, ranked, suffix),
            action="export", page="cohort", permission="export", purpose=purpose,
            detail=f"cohort {kind}, {len(shown)} rows, as of {as_of}",
        )  # fmt: skip
        column.download_button(
            f"Download {kind}", data=build, file_name=f"cohort-{as_of:%Y-%m-%d}{suffix}",
            mime=mime, on_click="ignore", key=f"export{suffix}",
        )  # fmt: skip


main()
