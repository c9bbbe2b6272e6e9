"""The Cohort page's table: the ranked list as an officer reads it, the
filters, the decision status, and the mapping from a selected row to a person.

Everything here is a pure function of frames (the ranked table from
:func:`adapt.scoring.score.rank`, the history, stored decisions); the page
only calls these and draws.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.exports import table_bytes
from adapt.scoring.cycle import CHANGES, status_words
from adapt.scoring.export import cohort_export_frame
from adapt.scoring.score import PART_LABELS, PARTS  # noqa: F401  (labels: the registry's)

NEW_SINCE_REVIEW = "new in the cohort, to decide"  # no decision since they entered
ALERTS = ("new partner", "counter-allegation", "late-flag repeat")
DISPLAY_COLUMNS = [
    "rank", "person_id", "name", "score", *PARTS, "attendances_window", "victims_window",
    "new_victims_window", "last_incident", "frequency_trend", "severity_trend", "marac_status",
    "already_managed", "alerts", "in_cohort", "decision_status", "area",
]  # fmt: skip


def latest_area(history: History) -> pd.Series:
    """Each suspect's most recent incident's area (for the area filter only)."""
    inv = history.involvements
    sus = inv.loc[
        (inv["role"] == "suspect") & inv["person_id"].notna(), ["incident_id", "person_id"]
    ]
    inc = history.incidents[["incident_id", "occurred_at", "area"]]
    joined = sus.merge(inc, on="incident_id").dropna(subset=["area"])
    joined = joined.sort_values(["person_id", "occurred_at", "incident_id"], kind="stable")
    last = joined.drop_duplicates("person_id", keep="last")
    return last.set_index("person_id")["area"].astype("string").rename("area")


def latest_decision_per_person(decisions: pd.DataFrame) -> pd.DataFrame:
    """From :func:`adapt.db.app_store.decisions_frame`: the latest decision of
    each person (``person_id, decision, author, decided_at, reason, as_of``)."""
    cols = ["person_id", "decision", "author", "decided_at", "reason", "as_of"]
    if decisions.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    latest = decisions.sort_values("id").drop_duplicates("person_id", keep="last")
    return latest[cols].reset_index(drop=True)


def decision_status(
    in_cohort: pd.Series,
    person_ids: pd.Series,
    decisions: pd.DataFrame,
    first_in_cohort: pd.DataFrame | None = None,
    as_of: date | None = None,
) -> pd.Series:
    """``adopted``, ``declined``, :data:`NEW_SINCE_REVIEW` or empty, per row.

    New since the last review: in the cohort now and either no decision yet,
    or first seen in a cohort (a stored score run, or this one) on an as-of
    date after the as-of date of the latest decision.
    """
    latest = latest_decision_per_person(decisions).set_index("person_id")
    ids = person_ids.astype("string")
    decision = ids.map(latest["decision"]).astype("string")
    decided_as_of = pd.to_datetime(ids.map(latest["as_of"]))
    first = pd.Series(pd.NaT, index=ids.index, dtype="datetime64[ns]")
    if first_in_cohort is not None and len(first_in_cohort):
        seen = first_in_cohort.set_index("person_id")["first_in_cohort"]
        first = pd.to_datetime(ids.map(seen)).astype("datetime64[ns]")
    now_in = in_cohort.to_numpy(dtype=bool)
    if as_of is not None:  # in the cohort now and never stored: first seen today
        today = pd.Timestamp(as_of)
        first = first.where(first.notna() | ~now_in, today)
    entered_after = (first > decided_as_of).to_numpy(dtype=bool)
    no_decision = decision.isna().to_numpy()
    new = now_in & (no_decision | entered_after)
    out = decision.fillna("").to_numpy(dtype=object)
    return pd.Series(np.where(new, NEW_SINCE_REVIEW, out), index=in_cohort.index, dtype="string")


def _trend(rising: pd.Series, falling: pd.Series, ratio: pd.Series) -> pd.Series:
    values = ratio.to_numpy(dtype=float, na_value=np.nan)
    text = pd.Series([f" (x{r:.1f})" if r == r else "" for r in values.tolist()], index=ratio.index)
    base = np.select(
        [rising.to_numpy(dtype=bool), falling.to_numpy(dtype=bool)], ["rising", "falling"], "steady"
    )
    return (pd.Series(base, index=ratio.index) + text).astype("string")


def _marac_status(table: pd.DataFrame) -> pd.Series:
    repeats = table["marac_repeats_window"].to_numpy(dtype=int)
    recent = table["marac_referrals_window"].to_numpy(dtype=int)
    total = table["marac_referrals_total"].to_numpy(dtype=int)
    status = np.select(
        [repeats > 0, recent > 0, total > 0],
        ["repeat (SafeLives)", "referred in 12 months", "referred before"],
        "",
    )
    return pd.Series(status, index=table.index, dtype="string")


def _alerts(table: pd.DataFrame) -> pd.Series:
    flags = {
        "new partner": table["new_partner_alert"].to_numpy(dtype=bool),
        "counter-allegation": table["counter_allegation"].to_numpy(dtype=bool),
        "late-flag repeat": table["late_flag_repeats_total"].to_numpy(dtype=int) > 0,
    }
    out = pd.Series("", index=table.index, dtype="string")
    for name, hit in flags.items():  # three alert kinds, each vectorised
        out = out.where(~hit, np.where(out == "", name, out + "; " + name))
    return out


NO_DECISIONS = pd.DataFrame(
    {c: pd.Series(dtype="object") for c in ["id", "person_id", "decision", "as_of"]}
)
TOP_SHOWN = 500  # rows drawn on the Cohort page; the export has every row shown
OPEN_OPTIONS = 100  # people offered in "Open a person" (every option is sent to the browser)


def with_decisions(
    view: pd.DataFrame,
    decisions: pd.DataFrame,
    first_in_cohort: pd.DataFrame | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """``view`` (a :func:`cohort_view` table) with ``decision_status`` recomputed
    from ``decisions``: the same as building the view with them."""
    out = view.copy()
    # A row's status depends on that row only, and is empty unless the person is in the
    # cohort or has a decision: work out the few rows that may have one.
    decided = decisions["person_id"].dropna().astype(str).unique() if len(decisions) else []
    some = out["in_cohort"].to_numpy(dtype=bool) | out["person_id"].isin(decided).to_numpy(
        dtype=bool
    )
    status = np.full(len(out), "", dtype=object)
    status[some] = decision_status(
        out["in_cohort"][some], out["person_id"][some], decisions, first_in_cohort, as_of
    ).to_numpy(dtype=object)
    out["decision_status"] = pd.Series(status, index=out.index, dtype="string")
    return out


def cohort_view(
    table: pd.DataFrame,
    labels: pd.DataFrame,
    history: History,
    decisions: pd.DataFrame,
    first_in_cohort: pd.DataFrame | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """The ranked table as shown: :data:`DISPLAY_COLUMNS`, best first.

    ``table`` is :func:`adapt.scoring.score.rank`'s output; ``labels`` is
    ``person_id, label`` (:func:`adapt.db.people.person_labels`); ``decisions``
    is :func:`adapt.db.app_store.decisions_frame`.
    """
    ids = table["person_id"].astype("string")
    out = pd.DataFrame(index=table.index)
    out["rank"] = table["rank"].astype("int64")
    out["person_id"] = ids
    name = ids.map(labels.set_index("person_id")["label"]) if len(labels) else ids
    out["name"] = pd.Series(name, index=table.index).astype("string").fillna(ids)
    out["score"] = table["score"].astype(float)
    for part in PARTS:
        out[part] = table[part].astype(float)
    out["attendances_window"] = table["attendances_window"].astype("int64")
    out["victims_window"] = table["victims_window"].astype("int64")
    out["new_victims_window"] = table["new_victims_window"].astype("int64")
    out["last_incident"] = pd.to_datetime(table["last_incident_at"]).dt.normalize()
    out["frequency_trend"] = _trend(
        table["frequency_escalating"],
        table["frequency_deescalating"],
        table["frequency_rate_ratio"],
    )
    ratio = table["severity_ratio"].astype(float)
    out["severity_trend"] = _trend(table["severity_escalating"], ratio < 1.0, ratio)
    out["marac_status"] = _marac_status(table)
    out["already_managed"] = table["already_managed"].astype("string").fillna("")
    out["alerts"] = _alerts(table)
    out["in_cohort"] = table["in_cohort"].astype(bool)
    out["decision_status"] = decision_status(
        out["in_cohort"], ids, decisions, first_in_cohort, as_of
    )
    out["area"] = ids.map(latest_area(history)).astype("string").fillna("")
    # Kept for filters and the score snapshot; not drawn.
    out["escalating"] = table["frequency_escalating"].astype(bool) | table[
        "severity_escalating"
    ].astype(bool)
    return out.reset_index(drop=True)


def filter_cohort(
    table: pd.DataFrame,
    *,
    area: str | Iterable[str] | None = None,
    in_cohort: bool | None = None,
    managed: bool | None = None,
    escalating: bool | None = None,
    alerts: bool | str | None = None,
    keep_adopted_alerts: bool = True,
) -> pd.DataFrame:
    """The rows of a :func:`cohort_view` table that pass every filter given.

    ``area``: one area or several (None or empty: all). ``in_cohort``,
    ``managed``, ``escalating``: True keeps only those, False only the others,
    None both. ``alerts``: True any alert, False none, or one of
    :data:`ALERTS` for that alert.

    An adopted person with an alert is never hidden by a filter (unless
    ``keep_adopted_alerts`` is False): an officer managing them must see it.
    """
    keep = pd.Series(True, index=table.index)
    if area:
        areas = [area] if isinstance(area, str) else list(area)
        if areas:
            keep &= table["area"].isin(areas)
    if in_cohort is not None:
        keep &= table["in_cohort"].astype(bool) == in_cohort
    if managed is not None:
        keep &= (table["already_managed"].fillna("") != "") == managed
    if escalating is not None:
        keep &= table["escalating"].astype(bool) == escalating
    if isinstance(alerts, str):
        keep &= table["alerts"].str.contains(alerts, regex=False).fillna(False).astype(bool)
    elif alerts is not None:
        keep &= (table["alerts"].fillna("") != "") == alerts
    if keep_adopted_alerts:
        keep |= adopted_with_alerts(table)
    return table.loc[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def hidden_alerts(view: pd.DataFrame, shown: pd.DataFrame) -> str:
    """Who with an alert the filters leave out, in words by kind ("28 people
    (new partner 28, late-flag repeat 3)"), or empty when nobody."""
    alerted = view.loc[view["alerts"].fillna("") != "", ["person_id", "alerts"]]
    out = alerted.loc[~alerted["person_id"].isin(shown["person_id"])]
    if out.empty:
        return ""
    kinds = out["alerts"].str.split("; ").explode().value_counts()
    by_kind = ", ".join(f"{kind} {n}" for kind, n in kinds.items())
    people = "1 person" if len(out) == 1 else f"{len(out):,} people"
    return f"{people} ({by_kind})"


def adopted_with_alerts(table: pd.DataFrame) -> pd.Series:
    """Rows of a :func:`cohort_view` table whose person is adopted and has an alert."""
    adopted = table["decision_status"].fillna("") == "adopted"
    return (adopted & (table["alerts"].fillna("") != "")).astype(bool)


def person_at(table: pd.DataFrame, positions: Sequence[int]) -> list[str]:
    """The person ids at ``positions`` (row positions, as
    ``st.dataframe(on_select=...)`` returns them) of the table drawn; positions
    outside it are ignored."""
    n = len(table)
    ids = table["person_id"].astype("string").to_numpy()
    return [str(ids[p]) for p in positions if isinstance(p, int | np.integer) and 0 <= p < n]


def score_snapshot(table: pd.DataFrame, person_id: str) -> dict:
    """What the decider saw for ``person_id``: rank, score, parts and the
    figures beside them, as plain JSON-ready values (no names)."""
    row = table.loc[table["person_id"] == person_id]
    if row.empty:
        raise KeyError(person_id)
    keep = [
        "rank", "score", *PARTS, "attendances_window", "victims_window", "new_victims_window",
        "last_incident", "frequency_trend", "severity_trend", "marac_status",
        "already_managed", "alerts", "in_cohort", "decision_status",
    ]  # fmt: skip
    values = row.iloc[0][[c for c in keep if c in row.columns]].to_dict()
    return json.loads(json.dumps(values, default=_plain))


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return None if pd.isna(value) else str(value)  # type: ignore[arg-type]


def export_frame(view: pd.DataFrame, ranked: pd.DataFrame) -> pd.DataFrame:
    """The list as exported: the people shown (in the order shown), with the
    cohort export's columns (:func:`adapt.scoring.export.cohort_export_frame`)
    and the page's name, alerts and decision status."""
    base = cohort_export_frame(ranked)
    extra = view[["person_id", "name", "alerts", "marac_status", "decision_status", "area"]]
    out = extra.merge(base, on="person_id", how="left")
    first = ["rank", "person_id", "name"]
    return out[[*first, *[c for c in out.columns if c not in first]]]


def settings_label(settings: Settings) -> str:
    return f"{settings.name} v{settings.version}"


CHOICES: dict[str, bool | None] = {"Any": None, "Yes": True, "No": False}
ALERT_CHOICES: dict[str, bool | str | None] = {
    "Any": None, "Any alert": True, "No alert": False, **{a: a for a in ALERTS},
}  # fmt: skip


def export_bytes(frame: pd.DataFrame, suffix: str, sheet: str = "Cohort") -> bytes:
    """The cohort as a formula-safe CSV or XLSX file's bytes."""
    return table_bytes(frame, suffix, sheet)


# ---- plain words for the page ------------------------------------------------------------
def display_frame(shown: pd.DataFrame) -> pd.DataFrame:
    """The rows drawn, in words: management statuses as words (``IOM``, ``in
    custody``), the last incident as a date or "not recorded", nothing
    missing shown as "None"; ``model_probability`` (when there) as a
    percentage (0-100)."""
    out = shown.copy()
    out["already_managed"] = status_words(out["already_managed"]).astype("string")
    last = pd.to_datetime(out["last_incident"])
    out["last_incident"] = last.dt.strftime("%Y-%m-%d").astype("string").fillna("not recorded")
    for col in ("frequency_trend", "severity_trend", "marac_status", "alerts",
                "decision_status", "area", "name"):  # fmt: skip
        out[col] = out[col].astype("string").fillna("")
    if "model_probability" in out.columns:  # a share as a percentage (a number, to sort)
        out["model_probability"] = (out["model_probability"].astype(float) * 100).round(1)
    return out


def percent(shares: pd.Series) -> pd.Series:
    """Shares (0-1) as percentages in words ("12%", "0.4%"); empty when missing.

    >>> percent(pd.Series([0.123, 0.004, None])).tolist()
    ['12%', '0.4%', '']
    """
    values = pd.to_numeric(shares, errors="coerce").astype(float) * 100
    whole = values.round(0).astype("Int64").astype("string") + "%"
    small = values.round(1).astype("string").str.replace(r"\.0$", "", regex=True) + "%"
    return whole.where(values >= 1, small).astype("string").fillna("")


def rank_words(shown: int, scored: int) -> str:
    """Why ranks skip: they are places among everyone scored, not in the view."""
    if shown >= scored:
        return f"Rank is the place among all {scored:,} people scored."
    return (
        f"Rank is the place among all {scored:,} people scored; where the ranks skip a "
        f"number, the people in between are left out by the filters ({scored - shown:,} "
        "in all)."
    )


def score_spread(view: pd.DataFrame) -> str:
    """The in-cohort range of scores in a sentence (the histogram's text
    alternative)."""
    inside = view.loc[view["in_cohort"].astype(bool), "score"].astype(float)
    outside = view.loc[~view["in_cohort"].astype(bool), "score"].astype(float)
    if inside.empty:
        first = "Nobody is in the cohort."
    else:
        first = (
            f"The {len(inside):,} people in the cohort score from {inside.min():.0f} to "
            f"{inside.max():.0f} (half score {inside.median():.0f} or more)."
        )
    if outside.empty:
        return first
    return (
        f"{first} The other {len(outside):,} score from {outside.min():.0f} to {outside.max():.0f}."
    )


# ---- since the last review ---------------------------------------------------------------
#: A review's kinds of change as the Cohort page titles them.
GROUP_TITLES: dict[str, str] = {
    "entered": "Entered the cohort",
    "left": "Left the cohort",
    "new alert": "New alerts",
    "new incident while adopted": "Adopted, with new incidents",
    "management ended": "Management ended",
    "score change": "Score changes",
}
GROUP_COLUMNS = ["name", "person_id", "reason", "score", "rank", "in_cohort", "decision", "alerts"]


def review_groups(changes: pd.DataFrame, labels: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """:func:`adapt.scoring.cycle.review_changes`'s rows by kind of change
    (every kind, in :data:`adapt.scoring.cycle.CHANGES` order), each as the
    page draws it (:data:`GROUP_COLUMNS`, all text: a name beside every id,
    the score and rank now, "Yes"/"No", nothing shown as "None")."""
    label = labels.set_index("person_id")["label"] if len(labels) else pd.Series(dtype="string")
    ids = changes["person_id"].astype("string")
    frame = pd.DataFrame(
        {
            "name": ids.map(label).astype("string").fillna(ids),
            "person_id": ids,
            "reason": changes["reason"].astype("string").fillna(""),
            "score": _number_text(changes["score_now"], 1),
            "rank": _number_text(changes["rank_now"], 0),
            "in_cohort": pd.Series(
                np.where(changes["in_cohort_now"].fillna(False).astype(bool), "Yes", "No"),
                index=changes.index, dtype="string",
            ),
            "decision": changes["decision"].astype("string").fillna(""),
            "alerts": changes["alerts"].astype("string").fillna(""),
        }
    )  # fmt: skip
    kinds = changes["change"].astype("string")
    return {c: frame.loc[(kinds == c).to_numpy(dtype=bool)].reset_index(drop=True) for c in CHANGES}


def _number_text(values: pd.Series, decimals: int) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype(float).round(decimals)
    text = numbers.astype("string").str.replace(r"\.0$", "", regex=True)
    return text.fillna("")


def review_summary(counts: dict[str, int], step: float) -> str:
    """The groups' sizes in one sentence."""
    words = {
        "entered": ("entered the cohort", "entered the cohort"),
        "left": ("left it", "left it"),
        "new alert": ("new alert", "new alerts"),
        "new incident while adopted": ("adopted with new incidents", "adopted with new incidents"),
        "management ended": ("whose management ended", "whose management ended"),
        "score change": (f"score change of {step:g} points or more",
                         f"score changes of {step:g} points or more"),
    }  # fmt: skip
    return (
        ", ".join(
            f"{counts.get(c, 0):,} {words[c][0 if counts.get(c, 0) == 1 else 1]}" for c in CHANGES
        )
        + "."
    )
