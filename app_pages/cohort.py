"""Cohort (IOM officers): what changed since the last review (entered, left,
new alerts, adopted people with new incidents, management ended, score
changes) and a new review; then the ranked list as of a date, filters, open a
person, adopt or decline with a reason, export (CSV/XLSX, formula-safe)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from adapt.core.access import PURPOSES
from adapt.core.settings import window_words
from adapt.services import audit, charts, cohort, data, session
from adapt.services import settings as saved_settings

PERSON_PAGE = "app_pages/person.py"
FLASH = "cohort_flash"
GO = "cohort_open_person"  # set by a selection's callback: switch before any work
DRAWN = "cohort_drawn_ids"  # the person ids of the rows drawn, for the table's callback
AS_OF = "cohort_as_of"  # the As of field's key
# Enter in a date field closes its calendar (as Escape does), which applies the date
# typed; static, no data. Added to the document once.
ENTER_APPLIES_DATE = """<script>
(() => {
  if (document.adaptEnterAppliesDate) return;
  document.adaptEnterAppliesDate = true;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !event.target.closest) return;
    if (!event.target.closest('[data-testid="stDateInput"]')) return;
    event.target.dispatchEvent(new KeyboardEvent("keydown", {
      key: "Escape", code: "Escape", keyCode: 27, bubbles: true, cancelable: true,
    }));
  }, true);
})();
</script>"""


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


def _picked_from_group(key: str):  # type: ignore[no-untyped-def]
    """The callback of a "since the last review" table: open the person picked."""

    def picked() -> None:
        event = st.session_state.get(key)
        rows = event.selection.rows if event else []
        drawn = st.session_state.get(f"{key}_ids")
        if drawn is None:
            return
        selected = cohort.person_at(drawn, rows)
        if selected:
            st.session_state["person_id"] = selected[0]
            st.session_state[GO] = True

    return picked


def _as_of(latest):  # type: ignore[no-untyped-def]
    """The as-of date. A date typed into the field applies on Enter (the
    field itself applies it only when its calendar closes: the script turns
    Enter into that), as it does when picked from the calendar."""
    st.html(ENTER_APPLIES_DATE, unsafe_allow_javascript=True)
    picked = st.date_input(
        "As of", value=latest, max_value=latest, format="YYYY-MM-DD", key=AS_OF,
        help="The cohort as it stood at the end of this day. Type a date and press Enter, "
        "or pick one from the calendar.",
    )  # fmt: skip
    return min(picked or latest, latest)


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
    as_of = _as_of(latest)
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

    _since_last_review(user, as_of, settings)

    st.header("Ranked cohort")
    c1, c2, c3, c4, c5 = st.columns(5)
    areas = sorted(a for a in view["area"].unique() if a)
    area = c1.multiselect("Area", areas, placeholder="All areas")
    in_cohort = c2.selectbox("In cohort", list(cohort.CHOICES), index=1)
    managed = c3.selectbox("Already managed", list(cohort.CHOICES))
    escalating = c4.selectbox("Escalating", list(cohort.CHOICES))
    alerts = c5.selectbox("Alerts", list(cohort.ALERT_CHOICES))
    filters = {
        "area": area, "in_cohort": cohort.CHOICES[in_cohort], "managed": cohort.CHOICES[managed],
        "escalating": cohort.CHOICES[escalating], "alerts": cohort.ALERT_CHOICES[alerts],
    }  # fmt: skip
    shown = cohort.filter_cohort(view, **filters)
    drawn = shown.head(cohort.TOP_SHOWN)
    cut = (
        f" The first {len(drawn)} are drawn; narrow the filters to see others, or export "
        "the whole list."
        if len(drawn) < len(shown)
        else ""
    )
    kept = len(shown) - len(cohort.filter_cohort(view, **filters, keep_adopted_alerts=False))
    always = (
        f" {kept} adopted {'person' if kept == 1 else 'people'} with an alert "
        f"{'is' if kept == 1 else 'are'} shown whatever the filters."
        if kept
        else ""
    )
    st.markdown(f"**{len(shown)} people shown.** Select a row to open the person.{always}{cut}")
    if hidden := cohort.hidden_alerts(view, shown):
        st.caption(
            f"The filters leave out {hidden} with an alert. Choose Any under In cohort and "
            "Any alert under Alerts to see them; new alerts since the last review are listed "
            "above whatever the filters."
        )
    st.caption(cohort.rank_words(len(shown), len(view)))
    st.session_state[DRAWN] = drawn[["person_id"]]

    top = max(float(view["score"].max()), 1.0) if len(view) else 1.0
    window = window_words(settings.windows.window_days)
    config = {
        "rank": st.column_config.NumberColumn("Rank", width="small", pinned=True),
        "person_id": st.column_config.TextColumn("Person"),
        "name": st.column_config.TextColumn("Name", pinned=True),
        "score": st.column_config.ProgressColumn("Score", format="%.1f", min_value=0,
                                                 max_value=top),
        "attendances_window": st.column_config.NumberColumn(f"Attendances {window}"),
        "victims_window": st.column_config.NumberColumn(f"Victims {window}"),
        "new_victims_window": st.column_config.NumberColumn("New victims"),
        "last_incident": st.column_config.TextColumn("Last incident"),
        "frequency_trend": st.column_config.TextColumn("Frequency trend"),
        "severity_trend": st.column_config.TextColumn("Severity trend"),
        "marac_status": st.column_config.TextColumn("MARAC status"),
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
    columns = ["rank", "name", *[c for c in columns if c not in ("rank", "name")]]
    advised = cohort.with_advice(drawn, as_of, settings)
    if advised["model_probability"].notna().any():  # a model trained on this force
        version = cohort.md_escape(str(advised["model_version"].dropna().iloc[0]))
        config["model_probability"] = st.column_config.NumberColumn(
            "Model (advice)", format="%.0f%%",
            help=f"The learned model's chance of any further incident in the next 12 months "
            f"(model {version}): {cohort.ADVICE_WORDS}.",
        )  # fmt: skip
        columns.insert(columns.index("score") + 1, "model_probability")
    st.dataframe(
        cohort.display_frame(advised)[columns],
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

    _spread(ranked, view)
    _decide(user, drawn, view, as_of, settings)
    _export(shown, ranked, as_of)


def _since_last_review(user: dict, as_of, settings) -> None:  # type: ignore[no-untyped-def]
    st.header("Since the last review")
    since = cohort.since_last_review(as_of, settings)
    if since.baseline is None:
        if since.on_date is not None:
            st.info(
                f"The first review is stored, as of {since.on_date.as_of:%d %b %Y}. From the "
                "next date on, this part shows what changed since it."
            )
        else:
            st.info(
                "No review of the cohort is stored yet. A review records who is in the cohort "
                "on a date, with their scores and alerts, so that the next time this page can "
                "show who entered or left, new alerts, adopted people with new incidents, "
                "management that ended and big score changes."
            )
        _review_button(user, since, as_of, settings)
        return
    base = since.baseline
    st.markdown(
        f"From the review as of **{base.as_of:%d %b %Y}** (made by "
        f"{cohort.md_escape(base.created_by)}) to {as_of:%d %b %Y}: "
        f"{cohort.md_escape(since.summary())}"
    )
    _review_button(user, since, as_of, settings)
    if since.settings_note:
        st.warning(
            f"The settings changed since that review ({cohort.md_escape(since.settings_note)}): "
            "some people entered or left because the rule itself changed."
        )
    config = {
        "name": st.column_config.TextColumn("Name", pinned=True),
        "person_id": st.column_config.TextColumn("Person", width="small"),
        "reason": st.column_config.TextColumn("Why", width=480),
        "score": st.column_config.TextColumn("Score now", width="small"),
        "rank": st.column_config.TextColumn("Rank now", width="small"),
        "in_cohort": st.column_config.TextColumn("In cohort now", width="small"),
        "decision": st.column_config.TextColumn("Decision"),
        "alerts": st.column_config.TextColumn("Alerts now"),
    }
    for change, rows in since.groups.items():
        title = cohort.GROUP_TITLES[change]
        if change == "score change":
            title = f"{title} of {since.step:g} points or more"
        urgent = change in ("new alert", "new incident while adopted")
        with st.expander(
            f"{title} ({len(rows)})", expanded=0 < len(rows) <= (50 if urgent else 10)
        ):
            if rows.empty:
                st.caption("Nobody.")
                continue
            key = "review_" + change.replace(" ", "_")
            st.session_state[f"{key}_ids"] = rows[["person_id"]]
            st.dataframe(
                rows, column_order=list(config), column_config=config, hide_index=True,
                on_select=_picked_from_group(key), selection_mode="single-row", key=key,
            )  # fmt: skip


def _review_button(user: dict, since, as_of, settings) -> None:  # type: ignore[no-untyped-def]
    due = since.next_due
    if since.on_date is not None:
        made = since.on_date
        st.caption(
            f"A review as of {made.as_of:%d %b %Y} is stored (made by "
            f"{cohort.md_escape(made.created_by)}); the next is due on {due:%d %b %Y}."
        )
        return
    if due is not None and as_of >= due:
        st.warning(
            f"A review is due: the last one was as of {since.last.as_of:%d %b %Y}, "
            f"and the cohort is reviewed every {since.interval_days} days."
        )
    elif due is not None:
        st.caption(f"The next review is due on {due:%d %b %Y}.")
    if not session.allowed("cohort", "review"):
        st.caption("Your role can read reviews but not create one.")
        return
    if st.button(f"Create a review as of {as_of:%d %b %Y}", key="cohort_create_review"):
        session.guard("cohort", "review")
        result = cohort.create_review(user, as_of, settings)
        st.session_state[FLASH] = (
            f"Review stored as of {result.as_of:%d %b %Y}: {result.in_cohort} in the cohort of "
            f"{result.people} people scored. The next review is due in "
            f"{since.interval_days} days."
        )
        st.rerun()


def _spread(ranked, view) -> None:  # type: ignore[no-untyped-def]
    with st.expander("How the scores are spread"):
        bins = cohort.score_histogram(ranked)
        bins["group"] = bins["in_cohort"].map({True: "In the cohort", False: "Not in the cohort"})
        fig = px.bar(
            bins, x="score", y="people", color="group", pattern_shape="group",
            color_discrete_sequence=charts.COLOURS, title="Scores, in the cohort and not",
            labels={"score": "Score", "people": "People (log scale)", "group": ""},
            log_y=True,  # the many low scores would flatten the cohort's few bars
        )  # fmt: skip
        inside = view.loc[view["in_cohort"], "score"]
        if len(inside):
            fig.add_vrect(
                x0=float(inside.min()), x1=float(inside.max()), fillcolor="#1d70b8",
                opacity=0.08, line_width=0, annotation_text="in-cohort range",
                annotation_position="top left",
            )  # fmt: skip
        fig.update_traces(width=float(bins["width"].iloc[0]) if len(bins) else None)
        fig.update_layout(bargap=0, height=320, margin={"t": 40, "b": 10})
        charts.chart(fig, alt=cohort.score_spread(view), key="cohort_spread")


def _decide(user: dict, shown, view, as_of, settings) -> None:  # type: ignore[no-untyped-def]
    st.header("Adopt or decline")
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
        f"{cohort.md_escape(names.get(person_id, person_id))}, {cohort.md_escape(person_id)} "
        f"{decision}; the decision and its reason are recorded."
    )
    st.rerun()


def _export(shown, ranked, as_of) -> None:  # type: ignore[no-untyped-def]
    if not session.allowed("cohort", "export"):
        return
    st.header("Export the list shown")
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
