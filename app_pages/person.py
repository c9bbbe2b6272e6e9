"""Person pathway: who this is and why, the timeline, escalation signals,
victims and addresses, the ego network, the management plan and the outcome.

Opening a record needs a purpose and is audited; splitting a wrong join and
editing the plan are re-checked against the role table here."""

from __future__ import annotations

import streamlit as st

from adapt.core.access import PURPOSES
from adapt.services import charts, data, lineage, session
from adapt.services import person as views
from adapt.services import settings as saved_settings
from app_pages._identity_run import follow as follow_identity_run

FLASH = "person_flash"
IDENTITY_JOB = "person_identity_job"  # the identity run this session's split asked for
VIEWED = "person_viewed"  # (person_id, purpose) last audited in this session
LAZY = ("Timeline", "Victims and addresses", "Network")  # drawn only when their tab is open


def main() -> None:
    user = session.guard("person")
    data.hide_table_downloads()
    st.title("Person pathway")
    follow_identity_run(
        IDENTITY_JOB, "Identities re-resolved: the person's rows below are up to date."
    )
    labels = data.labels()
    if labels.empty:
        st.info("No resolved people yet. Import an extract and resolve identities first.")
        return
    names = data.label_map()
    current = st.session_state.get("person_id")
    if current not in names:
        current = None
    query = st.text_input("Find a person", placeholder="Part of a name or a person id",
                          key="person_find")  # fmt: skip
    options, matches = views.person_options(labels, query, current)
    if matches > views.PERSON_OPTIONS:
        st.caption(
            f"{matches:,} people match; the first {views.PERSON_OPTIONS} are offered. "
            "Type part of a name or id to find someone else."
        )
    person_id = st.selectbox(
        "Person",
        options,
        index=options.index(current) if current in options else None,
        format_func=lambda p: f"{names.get(p, p)} ({p})",
        placeholder="Choose a person (or open one from the Cohort page)",
    )
    if person_id is None:
        return
    st.session_state["person_id"] = person_id
    purpose = st.selectbox(
        "Purpose", PURPOSES, index=None, placeholder="Why are you opening this record?",
        key=f"purpose_{person_id}",
    )  # fmt: skip
    if purpose is None:
        st.info("Choose a purpose to open the record. Opening it is recorded in the audit log.")
        return
    if st.session_state.get(VIEWED) != (person_id, purpose):
        session.audit("view_person", person_id=person_id, purpose=purpose)
        st.session_state[VIEWED] = (person_id, purpose)
    if msg := st.session_state.pop(FLASH, None):
        st.success(msg)

    st.header(views.md_escape(f"{names.get(person_id, person_id)} ({person_id})"))
    settings = saved_settings.settings_in_force()
    history = data.history()
    as_of = data.default_as_of()
    local = views.local_history(person_id)
    near = labels[labels["person_id"].isin(local.involvements["person_id"].dropna())]
    incidents = views.person_incidents(local, person_id, settings.harm_table, near)

    titles = ["Who this is", "Score", "Timeline", "Escalation", "Victims and addresses",
              "Network", "Management plan", "Outcome"]  # fmt: skip
    tabs = dict(zip(titles, st.tabs(titles, key="person_tabs", on_change="rerun"), strict=True))

    def show(title: str) -> bool:  # the costly tabs run only when open
        return title not in LAZY or tabs[title].open is not False

    with tabs["Who this is"]:
        _who(user, person_id)
    with tabs["Score"]:
        _score(person_id, as_of, settings)
    with tabs["Timeline"]:
        if show("Timeline"):
            _timeline(local, person_id, incidents, history.last_date)
    with tabs["Escalation"]:
        signals = views.signals(person_id, as_of, settings)
        shown_settings = views.md_escape(saved_settings.label(settings))
        st.caption(f"As of {as_of:%d %b %Y}, settings {shown_settings}.")
        if signals.empty:
            st.write("Not a suspect in any incident up to this date.")
        else:
            st.dataframe(views.plain_table(signals), hide_index=True)
    with tabs["Victims and addresses"]:
        if show("Victims and addresses"):
            _victims_addresses(person_id, incidents)
    with tabs["Network"]:
        if show("Network"):
            _network(person_id, labels)
    with tabs["Management plan"]:
        _plan(user, person_id)
    with tabs["Outcome"]:
        _outcome(person_id, incidents, history.last_date)


def _score(person_id: str, as_of, settings) -> None:  # type: ignore[no-untyped-def]
    """The RFG score with its parts and reason, and beside it the learned
    model's probability with its parts: advice, not a decision."""
    summary, parts = views.score_parts(person_id, as_of, settings)
    shown_settings = views.md_escape(saved_settings.label(settings))
    st.caption(f"As of {as_of:%d %b %Y}, settings {shown_settings}.")
    if summary is None:
        st.write("Not a suspect in any incident up to this date: no score.")
        return
    cohort = "in the cohort" if summary["in_cohort"] else "not in the cohort"
    st.markdown(
        f"**RFG score {summary['score']:g}**: rank {summary['rank']:,} of "
        f"{summary['people']:,} people ranked, {cohort}."
    )
    if summary["reason"]:
        st.text(f"Why: {summary['reason']}")  # text, not Markdown
    left, right = st.columns(2)
    with left:
        st.markdown("**The score's parts** (points)")
        st.dataframe(views.plain_table(parts), hide_index=True)
    with right:
        st.markdown("**The learned model** (advice beside the RFG score, not a decision)")
        advice, model_parts = views.model_parts(person_id, as_of, settings)
        if advice is None:
            st.caption(
                "No model has been trained on this force's own past yet (`adapt calibrate` "
                "trains one), or the person was not a suspect by this date. The score stands "
                "on its own."
            )
            return
        st.markdown(
            f"**{advice.probability:.0%}** chance of a further incident as a suspect in the "
            f"next 12 months (model {views.md_escape(advice.version)})."
        )
        st.caption(
            f"{views.ADVICE_WORDS[0].upper() + views.ADVICE_WORDS[1:]}: "
            "it changes no score, rank or cohort place. "
            "What moved the probability most, against a person with the average record:"
        )
        st.dataframe(views.plain_table(model_parts), hide_index=True)


def _who(user: dict, person_id: str) -> None:
    rows = views.rows(person_id)
    st.markdown(f"**{len(rows)} records** are joined into this person.")
    # merges and splits, in words (text, not Markdown)
    for line in lineage.lineage_lines(person_id):
        st.text(line)
    st.markdown("**Names and dates of birth as recorded**")
    st.dataframe(views.plain_table(views.aliases(rows)), hide_index=True)
    st.markdown("**Records joined** (ages as stated on each record)")
    st.dataframe(views.plain_table(views.identity_rows(rows).drop(columns="row_key")),
                 hide_index=True)  # fmt: skip
    _why_joined(rows)
    if session.allowed("person", "split_identity") and len(rows) > 1:
        _split(user, person_id, rows)
    if session.allowed("person", "split_identity"):
        _move_items(user, person_id)


def _move_items(user: dict, person_id: str) -> None:
    """After a split, the analyst says which part the case items belong to
    (by default they stay with the part that kept the id)."""
    parts, items = lineage.split_parts(person_id), lineage.case_items(person_id)
    if not parts or items.empty:
        return
    shown = dict(zip(items["item_id"], items["summary"], strict=True))
    st.markdown("**After a split: which part these decisions and plan entries belong to**")
    st.caption("They stay with this person unless you move them.")
    with st.form("move_case_items", clear_on_submit=True):
        to_id = st.selectbox("Move to", parts)
        chosen = st.multiselect("Items", list(shown), format_func=lambda k: shown.get(k, k))
        reason = st.text_area("Reason for the move")
        submitted = st.form_submit_button("Move these items")
    if not submitted:
        return
    session.guard("person", "split_identity")
    try:
        moved = lineage.move_case_items(user, person_id, to_id, chosen, reason)
    except ValueError as exc:
        st.error(views.md_escape(exc))
        return
    st.session_state[FLASH] = f"{moved} item(s) moved to {views.md_escape(to_id)}."
    st.rerun()


def _why_joined(rows) -> None:  # type: ignore[no-untyped-def]
    st.markdown("**Why they were joined**: each join in words, the weakest first")
    lines = views.person_links(rows)
    if lines.empty:
        st.caption("A single record, or records joined by an analyst's decision only.")
        return
    st.dataframe(lines[["why", "first record", "second record", "probability"]], hide_index=True,
                 column_config={"why": st.column_config.TextColumn(width="large")})  # fmt: skip
    shown = [f"{a} and {b}" for a, b in zip(lines["first record"], lines["second record"],
                                             strict=True)]  # fmt: skip
    pick = st.selectbox("Show how a join was weighed", range(len(lines)),
                        format_func=lambda i: shown[i], key="person_join")  # fmt: skip
    pair = views.explain_pair(lines.at[pick, "row_key_l"], lines.at[pick, "row_key_r"])
    st.text(pair.sentence)
    if pair.figure is not None:
        charts.chart(pair.figure, alt=pair.sentence or "How the join was weighed.",
                     name="How the join was weighed", key="person_waterfall")  # fmt: skip
    with st.expander("For analysts: row keys, weights and level labels"):
        st.dataframe(lines, hide_index=True)
        if pair.link is not None:
            st.text(f"{pair.row_key_l} and {pair.row_key_r}: {views.link_summary(pair.link)}")
        st.dataframe(pair.details, hide_index=True)
        st.dataframe(views.join_reasons(rows), hide_index=True)


def _split(user: dict, person_id: str, rows) -> None:  # type: ignore[no-untyped-def]
    st.markdown("**Split a wrong join**")
    keys = list(rows["row_key"])
    shown = views.record_choices(rows)
    with st.form("split_identity", clear_on_submit=True):
        left = st.selectbox("First row", keys, format_func=lambda k: shown.get(k, k))
        right = st.selectbox("Second row", keys, index=1,
                             format_func=lambda k: shown.get(k, k))  # fmt: skip
        reason = st.text_area("Reason for the split")
        submitted = st.form_submit_button("Split these rows")
    if not submitted:
        return
    session.guard("person", "split_identity")
    if left == right:
        st.error("Choose two different records.")
        return
    if not reason or not reason.strip():
        st.error("A reason is required.")
        return
    st.session_state[IDENTITY_JOB] = views.split(user, person_id, left, right, reason)
    st.session_state[FLASH] = (
        "The records are recorded as different people; identities are being re-resolved in the "
        "background (you may leave this page)."
    )
    st.rerun()


def _timeline(history, person_id: str, incidents, last_date) -> None:  # type: ignore[no-untyped-def]
    events = views.person_events(history, person_id)
    periods = views.person_periods(history, person_id)
    shown = incidents.drop_duplicates("incident_id")
    charts.chart(
        views.timeline_figure(incidents, events, periods, last_date),
        alt=views.plain_table(shown[["occurred_at", "offence", "harm", "victim"]]),
        name="Timeline of incidents, harm and MARAC events",
        key="person_timeline",
    )
    if len(periods):
        st.markdown("**Custody and management periods**")
        st.dataframe(views.plain_table(periods), hide_index=True)
    if len(events):
        st.markdown("**MARAC referrals and flags**")
        st.dataframe(views.plain_table(events), hide_index=True)


def _victims_addresses(person_id: str, incidents) -> None:  # type: ignore[no-untyped-def]
    st.markdown("**Victims**")
    st.dataframe(views.plain_table(views.person_victims(incidents)), hide_index=True)
    links, addresses = data.graph()
    st.markdown("**Addresses**")
    st.dataframe(views.plain_table(views.person_addresses(links, addresses, person_id)),
                 hide_index=True)  # fmt: skip


def _network(person_id: str, labels) -> None:  # type: ignore[no-untyped-def]
    links, addresses = data.graph()
    nodes, edges, attrs = views.network_frames(links, addresses, person_id, labels, depth=2)
    note = " (cut to the nearest)" if attrs.get("capped") else ""
    st.caption(f"People and addresses within two steps: {len(nodes)} nodes{note}.")
    charts.chart(
        views.network_figure(nodes, edges),
        alt=f"People and addresses within two steps of this person: {len(nodes)} in all"
        f"{note}. The Victims and addresses tab lists them in words.",
        name="Network of people and addresses",
        key="person_network",
    )


def _plan(user: dict, person_id: str) -> None:
    plan = views.plan(person_id)
    if plan.empty:
        st.caption("No plan entries yet.")
    else:
        st.dataframe(views.plain_table(plan), hide_index=True)
    if session.allowed("person", "edit_plan"):
        _plan_form(user, person_id, plan)
    with st.expander("Plan history (every version)"):
        st.dataframe(views.plain_table(views.plan_history(person_id)), hide_index=True)


def _plan_form(user: dict, person_id: str, plan) -> None:  # type: ignore[no-untyped-def]
    entries = {"": None} | {
        k: t for k, t in zip(plan.get("entry_key", []), plan.get("text", []), strict=True)
    }
    key = st.selectbox(
        "Plan entry to edit", list(entries), format_func=lambda k: "New entry" if not k else
        f"{entries[k][:60]} ({k})",
    )  # fmt: skip
    row = plan[plan["entry_key"] == key].iloc[0] if key else None
    pathways = [None, *views.IOM_PATHWAYS]

    def pick(options, value):  # type: ignore[no-untyped-def]
        return options.index(value) if value in options else 0

    with st.form(f"plan_{key or 'new'}", clear_on_submit=True):
        pathway = st.selectbox("Pathway", pathways, index=pick(pathways, row["pathway"] if key
                               else None), format_func=lambda p: p or "(none)")  # fmt: skip
        kinds = list(views.PLAN_KINDS)
        kind = st.selectbox("Kind", kinds, index=pick(kinds, row["kind"] if key else None))
        text = st.text_area("Entry", value=row["text"] if key else "")
        owner = st.text_input("Owner", value=(row["owner"] or "") if key else "")
        due = st.date_input("Due or review date", value=row["due_date"] if key else None)
        statuses = list(views.PLAN_STATUSES)
        status = st.selectbox("Status", statuses, index=pick(statuses, row["status"] if key
                              else None))  # fmt: skip
        saved = st.form_submit_button("Save plan entry")
    if not saved:
        return
    session.guard("person", "edit_plan")
    if not text or not text.strip():
        st.error("The entry needs a text.")
        return
    views.save_plan_entry(
        user, person_id, kind=kind, text=text, pathway=pathway, owner=owner.strip() or None,
        due_date=due, status=status, entry_key=key or None,
    )  # fmt: skip
    st.session_state[FLASH] = "Plan entry saved (earlier versions are kept)."
    st.rerun()


def _outcome(person_id: str, incidents, last_date) -> None:  # type: ignore[no-untyped-def]
    decisions = views.decisions(person_id)
    if not decisions.empty:
        st.markdown("**Cohort decisions**")
        st.dataframe(
            views.plain_table(
                decisions.reindex(
                    columns=[
                        "decision",
                        "exit_state",
                        "author",
                        "decided_at",
                        "as_of",
                        "reason",
                        "score",
                    ]
                ).rename(columns={"exit_state": "how management ended"})
            ),
            hide_index=True,
        )
    adopted = views.adoption_date(decisions)
    if adopted is None:
        st.caption("The outcome is shown once the person is adopted into the cohort.")
        return
    st.markdown(f"**Outcome**: 12 months before and after adoption (data date {adopted:%d %b %Y})")
    st.dataframe(views.plain_table(views.outcome_before_after(incidents, adopted, last_date)),
                 hide_index=True)  # fmt: skip


main()
