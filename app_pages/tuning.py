"""Tuning: edit every setting and see what it does to the cohort, the score
distribution and the backtest; save a named version as a draft; a second
person (analyst or administrator, not its author) approves or rejects it,
seeing what it would change against the live version; compare two versions.

Features are cached per as-of date and feature settings; a change of a
weight, band or threshold only re-ranks."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from adapt.core.settings import MANAGEMENT_STATUSES, SettingsError
from adapt.services import charts, data, session
from adapt.services import settings as saved_settings
from adapt.services import tuning as view

# who enters and leaves, in words (the tables' columns are the engine's names)
CHANGE_COLUMNS = {
    "person_id": "Person", "reason": "Why",
    "rank_saved": "Rank (saved)", "score_saved": "Score (saved)",
    "rank_new": "Rank (edited)", "score_new": "Score (edited)",
    "rank_live": "Rank (live)", "score_live": "Score (live)",
    "rank_draft": "Rank (draft)", "score_draft": "Score (draft)",
}  # fmt: skip

user = session.guard("tuning")
st.title("Tuning")
st.caption(
    "Change any setting: the cohort is re-ranked at once. A saved version is a draft "
    "until a second person approves it. Synthetic data."
)
if flash := st.session_state.pop("tune_flash", None):
    st.success(view.md_escape(flash))

versions = saved_settings.versions()
choices = saved_settings.choices(versions)
help_text = saved_settings.descriptions()
live, live_words = saved_settings.live()
as_of = data.default_as_of()
st.info(f"Live settings (used by every page): {view.md_escape(live_words)}")

# ---- saved versions and approval --------------------------------------------
st.header("Saved versions")
if versions.empty:
    st.caption("No version is saved yet.")
else:
    st.dataframe(
        versions[["name", "version", "status", "live", "author", "saved_at", "reason",
                  "decided_by", "decided_at", "decision_reason"]],
        hide_index=True, height=min(38 + 35 * len(versions), 250),
    )  # fmt: skip
waiting = saved_settings.drafts(versions)
if waiting.empty:
    st.caption("No draft awaits approval.")
elif not saved_settings.may_decide(user):
    st.caption(
        f"{len(waiting)} draft(s) await approval by an analyst or an administrator "
        "other than their author."
    )
else:
    with st.expander(f"Approve or reject a draft ({len(waiting)} waiting)", expanded=True):
        draft_choices = [saved_settings.choice_of(r.name, r.version) for r in waiting.itertuples()]
        pick = st.selectbox("Draft", draft_choices, key="approve_pick")
        row = waiting.iloc[draft_choices.index(pick)]
        st.caption(
            f"Saved by {view.md_escape(row['author'])} on {row['saved_at']:%d/%m/%Y %H:%M}. "
            f"Reason: {view.md_escape(row['reason'])}"
        )
        draft = saved_settings.load_choice(pick)
        st.markdown("**What changes against the live settings**")
        changed = view.settings_diff(live, draft)
        if changed.empty:
            st.caption("No setting differs from the live settings.")
        else:
            st.dataframe(changed.rename(columns={"a": "live", "b": "draft"}), hide_index=True)
        moved = view.cohort_difference(draft, live, as_of)
        d1, d2, d3 = st.columns(3)
        d1.metric("Cohort under the draft", moved.cohort_draft,
                  delta=moved.cohort_draft - moved.cohort_live)  # fmt: skip
        d2.metric("Would enter", moved.entering_count)
        d3.metric("Would leave", moved.leaving_count)
        st.caption(
            f"As of {moved.as_of:%d/%m/%Y} (the latest data); the lists show at most "
            f"{view.DIFFERENCE_ROWS} people each."
        )
        enter_col, leave_col = st.columns(2)
        enter_col.markdown("**Who would enter**")
        enter_col.dataframe(
            moved.entering, hide_index=True, height=200, column_config=CHANGE_COLUMNS
        )
        leave_col.markdown("**Who would leave**")
        leave_col.dataframe(
            moved.leaving, hide_index=True, height=200, column_config=CHANGE_COLUMNS
        )
        if not saved_settings.may_decide(user, str(row["author"])):
            st.warning("You saved this draft: a second person must approve or reject it.")
        else:
            decision_reason = st.text_area("Reason for the decision (required)",
                                           key="approve_reason")  # fmt: skip
            b1, b2 = st.columns(2)
            approve = b1.button("Approve (it becomes live)", type="primary")
            reject = b2.button("Reject")
            if approve or reject:
                try:
                    saved_settings.decide(user, pick, approve=approve, reason=decision_reason)
                except (saved_settings.ApprovalRefused,
                        saved_settings.SettingsVersionNotFound) as err:  # fmt: skip
                    st.error(view.md_escape(str(err)))
                else:
                    st.session_state.pop("approve_reason", None)
                    st.session_state["tune_flash"] = (
                        f"{'Approved' if approve else 'Rejected'} {pick}."
                        + (" It is now live." if approve else "")
                    )
                    st.rerun()

# ---- the editors ------------------------------------------------------------
st.header("Edit")
start = st.selectbox(
    "Start from (the saved settings compared against)",
    choices,
    index=choices.index(saved_settings.live_choice(versions)),
    format_func=lambda choice: saved_settings.choice_caption(choice, versions),
)
saved = saved_settings.load_choice(start)
st.caption(f"Ranked as of {as_of:%d/%m/%Y} (the latest data).")

scalars: dict[tuple[str, ...], float | int | None] = {}
bands: dict[str, str] = {}
# A save starts a new generation of the editors' keys: the next version starts
# from its base again, not from the edits just saved.
generation = st.session_state.setdefault("tune_generation", 0)
key = f"tune:{generation}:{start}"
with st.expander("Settings", expanded=True):
    sections: dict[str, list] = {}
    for path, value in view.scalar_settings(saved):
        sections.setdefault(path[0], []).append((path, value))
    tabs = st.tabs([view.setting_label((s,)) for s in sections])
    for tab, (section, items) in zip(tabs, sections.items(), strict=True):
        with tab:
            if help_text.get(section):
                st.caption(help_text[section])
            cols = st.columns(3)
            for i, (path, value) in enumerate(items):
                integer = view.is_integer_setting(saved, path)
                optional = value is None or (path[0] == "cohort" and path[1].startswith("min_"))
                kwargs = {"step": 1 if integer else 0.5, "min_value": 0 if integer else 0.0}
                scalars[path] = cols[i % 3].number_input(
                    view.setting_label(path),
                    value=(int(value) if integer else float(value)) if value is not None else None,
                    key=f"{key}:{'.'.join(path)}",
                    placeholder="not used" if optional else None,
                    help=help_text.get(".".join(path)) or None,
                    **kwargs,
                )
            if section in view.BANDED:
                bands[section] = st.text_area(
                    f"{view.setting_label((section,))} bands (JSON)",
                    value=view.bands_json(saved, section),
                    key=f"{key}:{section}.bands",
                    height=180,
                    help=help_text.get(f"{section}.bands") or None,
                )
    excluded = st.multiselect(
        "Cohort excludes people under", MANAGEMENT_STATUSES,
        default=saved.cohort.exclude_statuses, key=f"{key}:exclude",
        help=help_text.get("cohort.exclude_statuses") or None,
    )  # fmt: skip

try:
    edited = view.apply_edits(saved, scalars, bands, excluded)
except SettingsError as err:
    st.error(f"These settings are not valid: {view.md_escape(str(err))}")
    st.stop()

# ---- what the edits do ----------------------------------------------------
ranked_saved = data.ranked(as_of, saved)
ranked_new = data.ranked(as_of, edited)
size_saved = int(ranked_saved["in_cohort"].sum())
size_new = int(ranked_new["in_cohort"].sum())
changes = view.cohort_changes(ranked_saved, ranked_new)

c1, c2, c3 = st.columns(3)
c1.metric("Cohort size", size_new, delta=size_new - size_saved)
c2.metric("Entering", len(changes["entering"]))
c3.metric("Leaving", len(changes["leaving"]))
left, right = st.columns(2)
with left:
    st.markdown("**Who enters**")
    st.dataframe(changes["entering"], hide_index=True, height=220, column_config=CHANGE_COLUMNS)
with right:
    st.markdown("**Who leaves**")
    st.dataframe(changes["leaving"], hide_index=True, height=220, column_config=CHANGE_COLUMNS)

bins = view.score_histogram(ranked_new)
fig = px.bar(
    view.histogram_frame(bins), x="score", y="people", color="group", pattern_shape="group",
    color_discrete_sequence=charts.COLOURS, pattern_shape_sequence=["", "/"],
    labels={"score": "Score", "people": "People", "group": ""},
    title="Score distribution (edited settings)",
)  # fmt: skip
fig.update_traces(
    width=bins["width"].iloc[0] if len(bins) else None,
    marker_pattern_fillmode="overlay", marker_pattern_fgcolor="#ffffff",
)  # fmt: skip
fig.update_layout(bargap=0)
charts.chart(
    fig, alt=view.histogram_sentence(ranked_new), table=view.histogram_table(bins),
    key="tune_histogram",
)  # fmt: skip

# ---- backtest ---------------------------------------------------------------
st.header("Backtest")


@st.fragment(run_every=1.0)
def _backtest_progress(job_id: str) -> None:
    job = view.backtest_job(job_id)
    if job is None or not job.active:
        st.rerun(scope="app")
    st.progress(job.fraction, text=job.status)


bt_as_of = view.backtest_as_of()
if bt_as_of is None:
    st.info("The data spans less than two years: there is no year to backtest on.")
# off by default: it ranks a second date for every change (a background job)
elif st.toggle("Show the backtest capture curve", value=False, key="tune_backtest"):
    job_id = view.submit_backtest(user, bt_as_of, edited)  # the same settings: the same job
    job = view.backtest_job(job_id)
    if job is None or job.active:
        _backtest_progress(job_id)
    elif job.result is None:
        st.warning(f"The backtest did not finish. {job.error}")
    else:
        result = job.result
        fig = px.line(
            view.capture_frame(result.curve), x="k", y="harm_share", color="method",
            line_dash="method", color_discrete_sequence=charts.COLOURS,
            labels={"k": "Top K (people)", "harm_share": "Share of the next year's harm",
                    "method": "Ranked by"},
            title=f"Share of the next year's harm captured by the top K, ranked as of "
            f"{result.as_of:%d/%m/%Y}",
        )  # fmt: skip
        fig.update_yaxes(tickformat=".0%")
        fig.add_vline(x=result.cohort, line_dash="dot", annotation_text="cohort size")
        charts.chart(
            fig, alt=view.capture_sentence(result.curve, result.cohort, result.as_of),
            table=view.capture_table(result.curve, result.cohort), key="tune_backtest_chart",
        )  # fmt: skip

# ---- save -------------------------------------------------------------------
st.header("Save as a named version (a draft)")
if session.allowed("tuning", "save_settings"):
    st.caption("A saved version is not used until a second person approves it.")
    with st.form(f"save_settings:{generation}"):
        name = st.text_input("Name", value=saved.name, key=f"{key}:save:name")
        version = st.text_input("Version", value=view.next_version(versions, name or saved.name),
                                key=f"{key}:save:version")  # fmt: skip
        reason = st.text_area("Reason (required)", key=f"{key}:save:reason")
        do_save = st.form_submit_button("Save settings")
    if do_save:
        if not reason.strip():
            st.error("Give a reason for this version.")
        else:
            try:
                final = saved_settings.save(edited, name=name, version=version,
                                            author=user["username"], reason=reason)  # fmt: skip
            except (SettingsError, saved_settings.SettingsVersionExists) as err:
                st.error(view.md_escape(str(err)))
            else:
                for stale in [k for k in st.session_state if str(k).startswith("tune:")]:
                    del st.session_state[stale]
                st.session_state["tune_generation"] = generation + 1
                st.session_state["tune_flash"] = (
                    f"Saved {final.name} v{final.version} as a draft: it is used once a second "
                    "person approves it. The editors start again from their base settings."
                )
                st.rerun()
else:
    st.caption("Your role cannot save settings.")

# ---- compare ----------------------------------------------------------------
st.header("Compare two versions")
if len(choices) < 2:
    st.caption("Save a version to compare it with another.")
else:
    ca, cb = st.columns(2)
    caption = lambda choice: saved_settings.choice_caption(choice, versions)  # noqa: E731
    pick_a = ca.selectbox("Version A", choices, index=0, key="cmp_a", format_func=caption)
    pick_b = cb.selectbox("Version B", choices, index=1, key="cmp_b", format_func=caption)
    a, b = saved_settings.load_choice(pick_a), saved_settings.load_choice(pick_b)
    diff = view.settings_diff(a, b)
    st.dataframe(diff.rename(columns={"a": pick_a, "b": pick_b}), hide_index=True)
    ranked_a = data.ranked(as_of, a)
    ranked_b = data.ranked(as_of, b)
    moved = view.cohort_changes(ranked_a, ranked_b)
    st.write(
        f"Cohort: {int(ranked_a['in_cohort'].sum())} under A, {int(ranked_b['in_cohort'].sum())} "
        f"under B; {len(moved['entering'])} enter and {len(moved['leaving'])} leave going A → B."
    )
    left, right = st.columns(2)
    left.dataframe(moved["entering"], hide_index=True, height=200, column_config=CHANGE_COLUMNS)
    right.dataframe(moved["leaving"], hide_index=True, height=200, column_config=CHANGE_COLUMNS)
