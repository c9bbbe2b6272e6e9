"""What an officer's Caseload page shows, computed (pure functions on frames).

The people an officer manages are those whose latest cohort decision is an
adoption (:func:`managed_people`): adopted by the officer, or with an open
plan entry the officer owns (:func:`caseload_people`). A decision "ended"
(:func:`adapt.db.app_store.end_management`) takes a person off every
caseload; a later adoption puts them back.

For each of them:

* the plan review due date: the last plan review held (a plan entry of kind
  ``review`` recorded as done) or, before any, the adoption, plus
  ``settings.cycle.plan_review_days`` (:func:`review_status`);
* the last contact: the last plan note or action recorded (any version);
* the incidents since the last contact (since the adoption when none is
  recorded) in which they are a suspect (:func:`new_incidents`);
* their open actions, by owner and due date (:func:`open_actions`).

Dates are shown as "5 Dec 2026"; a missing one says "not recorded", a
missing text is empty; never "None", "nan" or "NaT".
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from adapt.views.text import NOT_RECORDED

Labels = pd.Series | dict[str, str]  # person id -> name
#: A review falling due within this many days is listed as "due soon".
SOON_DAYS = 7
CONTACT_KINDS = ("note", "action")
EXIT_STATE_WORDS = {
    "completed": "Completed",
    "moved away": "Moved away",
    "in custody": "In custody",
    "deceased": "Deceased",
    "transferred": "Transferred",
}
REVIEW_ORDER = {"overdue": 0, "due today": 1, "due soon": 2, "not yet due": 3}
_ABBREVIATIONS = {"abh": "ABH (actual bodily harm)", "gbh": "GBH (grievous bodily harm)"}

CASELOAD_COLUMNS = [
    "name", "person_id", "on_caseload", "adopted_on", "review_due", "review", "last_contact",
    "new_incidents", "open_actions",
]  # fmt: skip
CASELOAD_LABELS = {
    "name": "Name",
    "person_id": "Person id",
    "on_caseload": "On the caseload as",
    "adopted_on": "Adopted on",
    "review_due": "Plan review due",
    "review": "Plan review",
    "last_contact": "Last contact",
    "new_incidents": "New incidents",
    "open_actions": "Open actions",
}


# ------------------------------------------------------------------ words
def date_words(values: pd.Series) -> pd.Series:
    """Each date as "5 Dec 2026", "not recorded" where missing."""
    stamps = pd.to_datetime(values, errors="coerce")
    text = stamps.dt.strftime("%-d %b %Y").astype("string")
    return text.fillna(NOT_RECORDED).astype(str)


def offence_words(values: pd.Series) -> pd.Series:
    """An offence code in words: "common_assault" -> "Common assault",
    "abh" -> "ABH (actual bodily harm)"; empty where missing."""
    codes = values.astype("string")
    words = codes.str.replace("_", " ", regex=False).str.capitalize()
    words = codes.map(_ABBREVIATIONS).fillna(words)
    return words.fillna("").astype(str)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").astype(str)


def _lookup(ids: pd.Series, values: pd.Series) -> pd.Series:
    """``values[id]`` for each of ``ids`` (missing where it has none), on
    ``ids``' index. (pandas 3 fails to ``map`` through an empty datetime
    series, so this reindexes.)"""
    found = values.reindex(ids.astype(str).to_numpy())
    return pd.Series(found.to_numpy(), index=ids.index, dtype=values.dtype)


def _labels(ids: pd.Series, labels: Labels) -> pd.Series:
    """Each id's name ("" when it has none). ``labels``: person id -> name, a
    Series indexed by person id (fast: the app caches one) or a dict."""
    if isinstance(labels, dict):
        labels = pd.Series(labels, dtype="object")
    return _lookup(ids, labels).fillna("").astype(str)


# ------------------------------------------------------------- who is managed
def managed_people(decisions: pd.DataFrame) -> pd.DataFrame:
    """From :func:`adapt.db.app_store.decisions_frame`: the people whose latest
    decision is an adoption: ``person_id, adopted_by, adopted_on`` (the day
    the decision was recorded) and ``adopted_as_of`` (the data date decided
    on). A person whose management ended, or who was declined after, is not
    in it."""
    cols = ["person_id", "adopted_by", "adopted_on", "adopted_as_of"]
    if decisions.empty:
        return pd.DataFrame(
            {
                "person_id": pd.Series(dtype="string"),
                "adopted_by": pd.Series(dtype="string"),
                "adopted_on": pd.Series(dtype="datetime64[ns]"),
                "adopted_as_of": pd.Series(dtype="datetime64[ns]"),
            }
        )
    latest = decisions.sort_values("id").drop_duplicates("person_id", keep="last")
    adopted = latest[latest["decision"] == "adopted"]
    out = pd.DataFrame(
        {
            "person_id": adopted["person_id"].astype("string"),
            "adopted_by": adopted["author"].astype("string"),
            "adopted_on": pd.to_datetime(adopted["decided_at"]).dt.normalize(),
            "adopted_as_of": pd.to_datetime(adopted["as_of"]),
        }
    )
    return out[cols].sort_values("person_id").reset_index(drop=True)


def ended_managements(decisions: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """Every ending, newest first, in words: ``Name, Person id, Ended on,
    Exit state, Reason, Ended by``."""
    cols = ["Name", "Person id", "Ended on", "Exit state", "Reason", "Ended by"]
    if decisions.empty or "exit_state" not in decisions:
        return pd.DataFrame(columns=cols)
    ended = decisions[decisions["decision"] == "ended"].sort_values("id", ascending=False)
    return pd.DataFrame(
        {
            "Name": _labels(ended["person_id"], labels),
            "Person id": _text(ended["person_id"]),
            "Ended on": date_words(ended["decided_at"]),
            "Exit state": _text(ended["exit_state"].map(EXIT_STATE_WORDS)),
            "Reason": _text(ended["reason"]),
            "Ended by": _text(ended["author"]),
        }
    ).reset_index(drop=True)


def current_plan(plan_versions: pd.DataFrame) -> pd.DataFrame:
    """The current (latest) version of each plan entry."""
    if plan_versions.empty:
        return plan_versions
    ordered = plan_versions.sort_values(["entry_key", "version"], kind="stable")
    return ordered.drop_duplicates("entry_key", keep="last").reset_index(drop=True)


def caseload_people(
    managed: pd.DataFrame, plan_versions: pd.DataFrame, officer: str | None
) -> pd.DataFrame:
    """The managed people on ``officer``'s caseload (everyone's when None):
    those they adopted and those with an open plan entry they own, with
    ``on_caseload`` saying which ("adopted", "owner of an open plan entry",
    or "adopted by NAME" on the whole team's list)."""
    out = managed.copy()
    if officer is None:
        out["on_caseload"] = ("adopted by " + out["adopted_by"].astype(str)).astype(str)
        return out.reset_index(drop=True)
    plan = current_plan(plan_versions)
    owns = set()
    if not plan.empty:
        mine = plan[(plan["status"] == "open") & (plan["owner"].astype("string") == officer)]
        owns = set(mine["person_id"].astype(str))
    adopted = (out["adopted_by"].astype("string") == officer).fillna(False).to_numpy(dtype=bool)
    owner = out["person_id"].astype(str).isin(owns).to_numpy(dtype=bool)
    out["on_caseload"] = np.where(adopted, "adopted", "owner of an open plan entry")
    return out[adopted | owner].reset_index(drop=True)


# ------------------------------------------------------------- per person
def _latest_per_person(versions: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    if versions.empty:
        return pd.Series(dtype="datetime64[ns]")
    picked = versions[mask]
    return pd.to_datetime(picked["recorded_at"]).groupby(picked["person_id"].astype(str)).max()


def last_reviews(plan_versions: pd.DataFrame) -> pd.Series:
    """The day of each person's last plan review held: the latest version of
    a ``review`` entry recorded as done."""
    if plan_versions.empty:
        return pd.Series(dtype="datetime64[ns]")
    mask = ((plan_versions["kind"] == "review") & (plan_versions["status"] == "done")).to_numpy(
        dtype=bool
    )
    return _latest_per_person(plan_versions, mask).dt.normalize()


def last_contacts(plan_versions: pd.DataFrame) -> pd.Series:
    """When each person was last in contact: the latest plan note or action
    recorded (any version)."""
    if plan_versions.empty:
        return pd.Series(dtype="datetime64[ns]")
    mask = plan_versions["kind"].isin(CONTACT_KINDS).to_numpy(dtype=bool)
    return _latest_per_person(plan_versions, mask)


def review_status(
    people: pd.DataFrame, plan_versions: pd.DataFrame, today: date, review_days: int
) -> pd.DataFrame:
    """``people`` (from :func:`caseload_people`) with ``last_review``,
    ``review_due`` (the last review, else the adoption, plus ``review_days``),
    ``review_state`` (overdue, due today, due soon, not yet due) and
    ``review`` in words ("overdue by 3 days", "due in 5 days")."""
    out = people.copy()
    ids = out["person_id"].astype(str)
    out["last_review"] = pd.to_datetime(_lookup(ids, last_reviews(plan_versions)))
    base = out["last_review"].fillna(out["adopted_on"])
    out["review_due"] = (base + pd.to_timedelta(review_days, unit="D")).dt.normalize()
    days = ((out["review_due"] - pd.Timestamp(today)) / pd.Timedelta(days=1)).to_numpy()
    days = np.nan_to_num(days.astype(float), nan=0.0).astype(int)
    state = np.select(
        [days < 0, days == 0, days <= SOON_DAYS], ["overdue", "due today", "due soon"],
        "not yet due",
    )  # fmt: skip
    plural = np.where(np.abs(days) == 1, "", "s")
    words = np.where(
        days < 0,
        np.char.add(
            np.char.add("overdue by ", np.abs(days).astype(str)), np.char.add(" day", plural)
        ),
        np.char.add(np.char.add("due in ", days.astype(str)), np.char.add(" day", plural)),
    )
    out["review_state"] = state
    out["review"] = np.where(days == 0, "due today", words).astype(str)
    return out


def new_incidents(
    people: pd.DataFrame, plan_versions: pd.DataFrame, incidents: pd.DataFrame
) -> pd.DataFrame:
    """The incidents, after each person's last contact (after the adoption
    day when no contact is recorded), in which they are a suspect.

    ``incidents``: one row per (incident, suspect person): ``person_id,
    incident_id, occurred_at, offence, harm``. Returns ``person_id,
    incident_id, occurred_at, offence, harm, since`` (the contact or adoption
    it is counted from), oldest first."""
    ids = people["person_id"].astype(str)
    since = _lookup(ids, last_contacts(plan_versions))
    since = pd.to_datetime(since).fillna(people["adopted_on"] + pd.Timedelta(days=1))
    start = pd.Series(pd.to_datetime(since).to_numpy(), index=ids.to_numpy())
    rows = incidents[incidents["person_id"].astype(str).isin(set(ids))].copy()
    rows["since"] = pd.to_datetime(_lookup(rows["person_id"], start))
    rows = rows[rows["occurred_at"] > rows["since"]]
    cols = ["person_id", "incident_id", "occurred_at", "offence", "harm", "since"]
    return rows[cols].sort_values(["occurred_at", "incident_id"]).reset_index(drop=True)


def open_actions(
    people: pd.DataFrame, plan_versions: pd.DataFrame, labels: Labels, today: date
) -> pd.DataFrame:
    """The open actions of the people on the caseload, by owner then due date
    (no due date last), in words: ``Owner, Due, When, Name, Person id,
    Pathway, Action``."""
    cols = ["Owner", "Due", "When", "Name", "Person id", "Pathway", "Action"]
    plan = current_plan(plan_versions)
    if plan.empty:
        return pd.DataFrame(columns=cols)
    ids = set(people["person_id"].astype(str))
    acts = plan[
        (plan["kind"] == "action")
        & (plan["status"] == "open")
        & plan["person_id"].astype(str).isin(ids)
    ].copy()
    acts["_due"] = pd.to_datetime(acts["due_date"])
    acts["_owner"] = acts["owner"].astype("string").fillna("")
    acts["_none"] = acts["_owner"] == ""  # no owner: last
    acts = acts.sort_values(
        ["_none", "_owner", "_due", "entry_key"], na_position="last", kind="stable"
    )
    days = ((acts["_due"] - pd.Timestamp(today)) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    when = np.select(
        [np.isnan(days), days < 0, days == 0], ["no due date", "overdue", "due today"], "to come"
    )
    return pd.DataFrame(
        {
            "Owner": acts["_owner"].replace("", "no owner").astype(str),
            "Due": date_words(acts["_due"]),
            "When": when,
            "Name": _labels(acts["person_id"], labels),
            "Person id": _text(acts["person_id"]),
            "Pathway": _text(acts["pathway"]),
            "Action": _text(acts["text"]),
        }
    ).reset_index(drop=True)


def caseload_table(
    people: pd.DataFrame,
    plan_versions: pd.DataFrame,
    incidents: pd.DataFrame,
    labels: Labels,
    today: date,
    review_days: int,
) -> pd.DataFrame:
    """One row per person on the caseload (:data:`CASELOAD_COLUMNS`), reviews
    most pressing first; plus ``review_state`` for the page's summary."""
    if people.empty:
        return pd.DataFrame(columns=[*CASELOAD_COLUMNS, "review_state"])
    out = review_status(people, plan_versions, today, review_days)
    ids = out["person_id"].astype(str)
    new = new_incidents(people, plan_versions, incidents)
    counts = new.groupby(new["person_id"].astype(str)).size()
    plan = current_plan(plan_versions)
    if plan.empty:
        open_counts = pd.Series(dtype="int64")
    else:
        opened = plan[(plan["kind"] == "action") & (plan["status"] == "open")]
        open_counts = opened.groupby(opened["person_id"].astype(str)).size()
    contact = pd.to_datetime(_lookup(ids, last_contacts(plan_versions)))
    out = out.assign(
        name=_labels(ids, labels),
        last_contact=date_words(contact),
        new_incidents=_lookup(ids, counts.astype(float)).fillna(0).astype(int),
        open_actions=_lookup(ids, open_counts.astype(float)).fillna(0).astype(int),
        _order=out["review_state"].map(REVIEW_ORDER),
    )
    out = out.sort_values(["_order", "review_due", "person_id"], kind="stable")
    shown = out.assign(
        adopted_on=date_words(out["adopted_on"]), review_due=date_words(out["review_due"])
    )
    return shown[[*CASELOAD_COLUMNS, "review_state"]].reset_index(drop=True)


def reviews_due(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`caseload_table` whose plan review is overdue or due
    within :data:`SOON_DAYS` days."""
    return table[table["review_state"] != "not yet due"].reset_index(drop=True)


def new_incidents_table(new: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """:func:`new_incidents` in words: ``Name, Person id, Date, Offence,
    Harm (days), Counted since``."""
    return pd.DataFrame(
        {
            "Name": _labels(new["person_id"], labels),
            "Person id": _text(new["person_id"]),
            "Date": date_words(new["occurred_at"]),
            "Offence": offence_words(new["offence"]),
            "Harm (days)": new["harm"].astype(float).round(1),
            "Counted since": date_words(new["since"]),
        }
    )


def summary_sentence(table: pd.DataFrame, whose: str) -> str:
    """One sentence: how many people, reviews overdue and due soon, people
    with new incidents. ``whose``: "You manage" or "The team manages"."""
    n = len(table)
    if n == 0:
        return f"{whose} nobody at the moment."
    state = table["review_state"]
    overdue = int((state == "overdue").sum())
    due = int(state.isin(["due today", "due soon"]).sum())
    incidents = int((table["new_incidents"] > 0).sum())
    people = "person" if n == 1 else "people"
    return (
        f"{whose} {n} {people}: {overdue} plan review{'' if overdue == 1 else 's'} overdue, "
        f"{due} due in the next {SOON_DAYS} days; {incidents} "
        f"{'person has' if incidents == 1 else 'people have'} new incidents since the last "
        "contact."
    )


def person_choices(table: pd.DataFrame) -> dict[str, str]:
    """``person_id -> "Name (id)"`` for the page's choosers, in table order."""
    ids = table["person_id"].astype(str)
    names = table["name"].astype(str)
    shown = (names + " (" + ids + ")").where(names != "", ids)
    return dict(zip(ids.tolist(), shown.tolist(), strict=True))
