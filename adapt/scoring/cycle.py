"""The four-weekly cycle: reviews of the cohort and what changed between them.

A review is a dated, stored run of the cohort with the approved settings
(:func:`create_review`); :func:`review_export_frame` lists, against the
previous review, who entered and left (with the reason in words), score
changes of at least ``settings.cycle.score_change_step``, new alerts, adopted
people with new incidents, and people whose management ended.

The logic is pure functions of frames: :func:`review_people` (the people of a
review, from a ranked table and the cohort decisions), :func:`review_changes`
(two reviews' people -> one row per change, with its reason in words) and
:func:`changes_by_person` (one row per person, the export). The database is
read and written only through :mod:`adapt.db.reviews`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from adapt.core.settings import Settings, window_words
from adapt.db import app_store, people, reviews
from adapt.db.history import load_history
from adapt.scoring.runner import cohort_table
from adapt.scoring.score import PARTS

#: Alert column of a review -> the alert in words.
ALERTS: dict[str, str] = {
    "alert_new_partner": "new partner",
    "alert_marac_repeat": "MARAC repeat",
    "alert_frequency": "frequency escalation",
    "alert_severity": "severity escalation",
}
#: The kinds of change, in the order a review lists them.
CHANGES: tuple[str, ...] = (
    "entered", "left", "new alert", "new incident while adopted", "management ended",
    "score change",
)  # fmt: skip
#: Each score part in words (a reason names the parts that moved).
PART_WORDS: dict[str, str] = {part: text.split(":")[0] for part, text in PARTS.items()}
#: Management statuses in words (management.csv's codes).
STATUS_WORDS: dict[str, str] = {
    "iom": "IOM", "mappa": "MAPPA", "in_custody": "in custody", "deceased": "deceased",
}  # fmt: skip
#: One row per change (:func:`review_changes`).
CHANGE_COLUMNS = [
    "person_id", "change", "reason", "rank_before", "rank_now", "score_before", "score_now",
    "in_cohort_before", "in_cohort_now", "alerts", "decision", "last_incident_at",
]  # fmt: skip
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class ReviewResult:
    """A stored review: its id, date, settings and how many people it holds."""

    review_id: int
    as_of: date
    settings_name: str
    settings_version: str
    people: int
    in_cohort: int


# ---- the people of a review ------------------------------------------------------------------
def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """``person_id, decision, exit_state``: each person's latest cohort
    decision (:func:`adapt.db.app_store.decisions_frame`; the highest id)."""
    cols = ["person_id", "decision", "exit_state"]
    if decisions is None or decisions.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    frame = decisions.reindex(columns=["id", *cols])
    latest = frame.sort_values("id").drop_duplicates("person_id", keep="last")
    return latest[cols].astype("string").reset_index(drop=True)


def review_people(ranked: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """The people of a review (:data:`adapt.db.reviews.PEOPLE_COLUMNS`), from
    :func:`adapt.scoring.score.rank`'s table and the stored cohort decisions:
    rank, score and parts, in the cohort or not, the four alerts, the figures
    the next review's reasons come from, and the latest decision."""
    out = pd.DataFrame({"person_id": ranked["person_id"].astype("string")})
    out["rank"] = ranked["rank"].astype("int64")
    out["score"] = ranked["score"].astype(float)
    for part in PARTS:
        out[part] = ranked[part].astype(float)
    out["attendances_window"] = ranked["attendances_window"].astype("int64")
    out["days_since_last"] = ranked["days_since_last"].astype("int64")
    out["incidents_total"] = ranked["incidents_total"].astype("int64")
    out["in_cohort"] = ranked["in_cohort"].astype(bool)
    out["alert_new_partner"] = ranked["new_partner_alert"].astype(bool)
    out["alert_marac_repeat"] = ranked["marac_repeats_window"].to_numpy(dtype=np.int64) > 0
    out["alert_frequency"] = ranked["frequency_escalating"].astype(bool)
    out["alert_severity"] = ranked["severity_escalating"].astype(bool)
    for col in ("last_incident_at", "new_partner_first_at", "last_marac_repeat_at"):
        out[col] = pd.to_datetime(ranked[col])
    out["already_managed"] = ranked["already_managed"].astype("string")
    out["decision"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["exit_state"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["reason"] = ranked["reason"].astype("string")
    return with_decisions(out.reset_index(drop=True), decisions)


def with_decisions(people: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """``people`` (:func:`review_people`) with each person's latest decision
    from ``decisions`` (a page keeps the people cached and adds the decisions
    stored now)."""
    latest = latest_decisions(decisions).set_index("person_id")
    out = people.copy()
    out["decision"] = out["person_id"].map(latest["decision"]).astype("string")
    out["exit_state"] = out["person_id"].map(latest["exit_state"]).astype("string")
    return out


# ---- words ---------------------------------------------------------------------------------
def _num(values: pd.Series) -> pd.Series:
    """Numbers as a reason says them: one decimal, none when whole (31, 31.5)."""
    text = pd.Series(np.round(values.to_numpy(dtype=float), 1), index=values.index)
    return text.astype("string").str.replace(r"\.0$", "", regex=True).fillna("")


def _signed(values: pd.Series) -> pd.Series:
    sign = np.where(values.to_numpy(dtype=float) >= 0, "+", "−")
    return sign + _num(values.abs())


def _plural(counts: pd.Series, one: str, many: str) -> pd.Series:
    n = counts.astype("int64")
    return n.astype("string") + pd.Series(np.where(n == 1, one, many), index=counts.index)


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").astype("string").fillna("not recorded")


def status_words(status: pd.Series) -> pd.Series:
    """management.csv's statuses (``iom;mappa``) in words (``IOM, MAPPA``)."""
    text = status.astype("string").fillna("")
    for code, words in STATUS_WORDS.items():
        text = text.str.replace(code, words, regex=False)
    return text.str.replace(";", ", ", regex=False)


def _months(days: pd.Series) -> pd.Series:
    """How long ``days`` is in words: whole months from a month up, else days."""
    d = days.astype("int64")
    months = np.floor(d.to_numpy() / DAYS_PER_MONTH).astype(np.int64)
    as_months = _plural(pd.Series(months, index=days.index), " month", " months")
    return as_months.where(months >= 1, _plural(d, " day", " days"))


def _text(values: pd.Series | np.ndarray) -> np.ndarray:
    """Text as a numpy object array, missing as empty (fast on short columns)."""
    if isinstance(values, pd.Series):
        values = values.astype("string").fillna("")
    return np.asarray(values, dtype=object)


def _join(*parts: pd.Series, sep: str = "; ") -> pd.Series:
    """Join text columns row-wise, skipping empty ones."""
    out = _text(parts[0])
    for part in parts[1:]:
        more = _text(part)
        has = more != ""
        out = np.where(has & (out != ""), out + sep + more, np.where(has, more, out))
    return pd.Series(out, index=parts[0].index, dtype="string")


def alert_words(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.Series:
    """The alerts of each row in words (``new partner; MARAC repeat``)."""
    empty = pd.Series("", index=frame.index, dtype="string")
    names = [
        pd.Series(np.where(frame[c].to_numpy(dtype=bool), ALERTS[c], ""), index=frame.index)
        for c in (columns or list(ALERTS))
    ]
    return _join(empty, *names)


def decision_words(decision: pd.Series, exit_state: pd.Series) -> pd.Series:
    """A cohort decision in words: ``adopted``, ``declined``, ``ended
    (moved away)`` or empty."""
    d = decision.astype("string").fillna("")
    ex = exit_state.astype("string").fillna("")
    return d.where((d != "ended") | (ex == ""), d + " (" + ex + ")").astype("string")


# ---- what changed ---------------------------------------------------------------------------
def _rule_words(settings: Settings) -> str:
    rule = settings.cohort
    parts = []
    if rule.min_attendances is not None:
        parts.append(f"at least {rule.min_attendances} attendances")
    if rule.min_score is not None:
        parts.append(f"a score of at least {rule.min_score:g}")
    return " or ".join(parts) or "none"


def _entered_reasons(m: pd.DataFrame, settings: Settings) -> pd.Series:
    rule = settings.cohort
    window = window_words(settings.windows.window_days)
    att = m["attendances_window_now"].fillna(0).astype("int64")
    score = m["score_now"].astype(float)
    att_met = (att >= rule.min_attendances) if rule.min_attendances is not None else att < 0
    score_met = (score >= rule.min_score) if rule.min_score is not None else score != score
    att_text = _plural(att, " attendance", " attendances") + f" in {window}"
    score_text = "score " + _num(score)
    att_rule = f" (at least {rule.min_attendances})"
    score_rule = f" (≥ {rule.min_score:g})" if rule.min_score is not None else ""
    reason = pd.Series(
        np.select(
            [att_met & score_met, att_met, score_met],
            [
                att_text
                + " and "
                + score_text
                + f" reached the cohort rule ({_rule_words(settings)})",
                att_text + " reached the cohort rule" + att_rule,
                score_text + " reached the cohort rule" + score_rule,
            ],
            "met the cohort rule",
        ),
        index=m.index,
        dtype="string",
    )
    was_managed = (
        m["reason_before"]
        .astype("string")
        .fillna("")
        .str.startswith("Not in cohort: already managed")
    )
    managed = "no longer managed (" + status_words(m["already_managed_before"]) + ")"
    gap = m["days_since_last_before"].astype(float) > rule.max_days_since_last
    back = "a new incident after " + _months(
        m["days_since_last_before"].fillna(0).astype("int64")
    ) + " without one"  # fmt: skip
    extra = pd.Series(np.where(was_managed, managed, np.where(gap, back, "")), index=m.index)
    return _join(reason, extra.astype("string"))


def _left_reasons(m: pd.DataFrame, settings: Settings) -> pd.Series:
    rule = settings.cohort
    window = window_words(settings.windows.window_days)
    gone = m["rank_now"].isna().to_numpy()
    text = m["reason_now"].astype("string").fillna("")
    managed = text.str.startswith("Not in cohort: already managed").to_numpy(dtype=bool)
    days = m["days_since_last_now"].fillna(0).astype("int64")
    counter = days.to_numpy() < 0
    stale = days.to_numpy() > rule.max_days_since_last
    att = m["attendances_window_now"].fillna(0).astype("int64")
    below = []
    if rule.min_attendances is not None:
        below.append(_plural(att, " attendance", " attendances") + f" in {window}")
    if rule.min_score is not None:
        below.append("score " + _num(m["score_now"].fillna(0)))
    below_text = (below[0] + " and " + below[1]) if len(below) == 2 else below[0] if below else ""
    return pd.Series(
        np.select(
            [gone, managed, counter, stale],
            [
                "no longer scored (merged into another person, or erased)",
                "now managed (" + status_words(m["already_managed_now"]) + ")",
                "no incident attributed any more (the other party of a counter-allegation "
                "was judged the predominant aggressor)",
                "no incident for " + _months(days),
            ],
            below_text + f", below the cohort rule ({_rule_words(settings)})",
        ),
        index=m.index,
        dtype="string",
    )


def _score_reasons(m: pd.DataFrame) -> pd.Series:
    delta = m["score_now"].astype(float) - m["score_before"].astype(float)
    head = (
        "score " + _num(m["score_before"]) + " → " + _num(m["score_now"])
        + " (" + _signed(delta) + ")"
    )  # fmt: skip
    moved = []
    for part, words in PART_WORDS.items():  # the parts (a handful), each vectorised
        d = m[f"{part}_now"].astype(float) - m[f"{part}_before"].astype(float)
        text = words + " " + _signed(d)
        moved.append(text.where(d.abs() >= 0.5, ""))
    parts = _join(pd.Series("", index=m.index, dtype="string"), *moved, sep=", ")
    return head.where(parts == "", head + ": " + parts)


def _alert_reasons(m: pd.DataFrame, new: dict[str, np.ndarray]) -> pd.Series:
    empty = pd.Series("", index=m.index, dtype="string")
    pieces = []
    for col, words in ALERTS.items():
        text = pd.Series(words, index=m.index, dtype="string")
        if col == "alert_new_partner":
            text = text + " (first incident with the new partner " + _dates(
                m["new_partner_first_at_now"]
            ) + ")"  # fmt: skip
        elif col == "alert_marac_repeat":
            text = text + " (repeat referral " + _dates(m["last_marac_repeat_at_now"]) + ")"
        pieces.append(text.where(new[col], ""))
    return _join(empty, *pieces)


def _at(masks: dict[str, np.ndarray], rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """``masks`` (over every row of a merged frame with a range index) at ``rows``."""
    at = rows.index.to_numpy()
    return {key: mask[at] for key, mask in masks.items()}


def _incident_reasons(m: pd.DataFrame) -> pd.Series:
    count = m["incidents_total_now"].astype(float) - m["incidents_total_before"].astype(float)
    count = count.where(count >= 1, 1).fillna(1).astype("int64")
    return (
        _plural(count, " new incident", " new incidents") + " since the last review (latest "
        + _dates(m["last_incident_at_now"]) + ")"
    )  # fmt: skip


def _ended_reasons(m: pd.DataFrame, lost: dict[str, np.ndarray]) -> pd.Series:
    decision_before = m["decision_before"].astype("string").fillna("")
    decision = m["decision_now"].astype("string").fillna("")
    ended = ((decision_before == "adopted") & (decision != "adopted")).to_numpy(dtype=bool)
    words = pd.Series(
        np.select(
            [decision == "ended", decision == "declined", m["rank_now"].isna()],
            ["ended: " + m["exit_state_now"].astype("string").fillna("no exit state"),
             "declined after being adopted",
             "no longer scored (merged into another person, or erased)"],
            "no longer adopted",
        ),
        index=m.index,
        dtype="string",
    ).where(ended, "")  # fmt: skip
    for code, gone in lost.items():  # IOM and MAPPA, each vectorised
        piece = f"{STATUS_WORDS[code]} management ended in the force's records"
        words = _join(words, pd.Series(np.where(gone, piece, ""), index=m.index, dtype="string"))
    return words


def _candidates(people: pd.DataFrame) -> np.ndarray:
    """The ids of ``people`` who may take part in a change: in the cohort,
    with an alert, with a decision, or managed by IOM or MAPPA."""
    flags = people[["in_cohort", *ALERTS]].to_numpy(dtype=bool).any(axis=1)
    decided = people["decision"].notna().to_numpy(dtype=bool)
    managed = (
        people["already_managed"].astype("string").fillna("").str.contains("iom|mappa")
    ).to_numpy(dtype=bool)
    return people["person_id"].to_numpy(dtype=object)[flags | decided | managed]


def missing_before(before: pd.DataFrame, now: pd.DataFrame) -> list[str]:
    """The people a change may be about now (in the cohort, alerted, decided or
    managed by IOM/MAPPA) who are not among ``before``'s rows: with their rows of
    the previous review added, a ``before`` read with only the people a change may
    be about there gives the same changes as the whole review."""
    have = pd.Index(before["person_id"].to_numpy(dtype=object))
    wanted = _candidates(now)
    return [str(p) for p in wanted[have.get_indexer(wanted) < 0]]


def review_changes(
    before: pd.DataFrame | None,
    now: pd.DataFrame,
    settings: Settings,
    *,
    before_as_of: date | None = None,
    settings_changed: str = "",
) -> pd.DataFrame:
    """What changed from the review ``before`` (None: there was none) to
    ``now`` (both :func:`review_people` frames): one row per person and kind
    of change (:data:`CHANGE_COLUMNS`, ``change`` one of :data:`CHANGES`),
    ordered by kind, then by rank now.

    * entered / left: in the cohort now and not before, or the reverse, with
      the reason in words (the rule met; or managed now, no incident for so
      long, below the rule, no longer scored);
    * new alert: an alert (:data:`ALERTS`) now that was not raised before;
    * new incident while adopted: adopted now, with an incident after
      ``before_as_of``;
    * management ended: adopted before and not now (ended with an exit state,
      or declined), or IOM/MAPPA management in the force's records ended;
    * score change: in the cohort (or adopted) both times and the score moved
      by ``settings.cycle.score_change_step`` or more (none when the step is 0).

    ``settings_changed`` (words, e.g. ``default v1 → default v2``) is added to
    every entered and left reason: the rule itself may have moved them.
    """
    prior = before if before is not None else now.iloc[0:0]
    # Only people who may have changed are compared (in the cohort, alerted, decided
    # or managed by IOM/MAPPA on either side): every kind of change needs one of these.
    keep = pd.Index(np.concatenate([_candidates(prior), _candidates(now)])).unique()
    prior = prior.loc[keep.get_indexer(prior["person_id"].to_numpy(dtype=object)) >= 0]
    now_kept = now.loc[keep.get_indexer(now["person_id"].to_numpy(dtype=object)) >= 0]
    m = prior.merge(now_kept, on="person_id", how="outer", suffixes=("_before", "_now"))
    m = m.reset_index(drop=True)
    was_scored = m["rank_before"].notna().to_numpy()
    is_scored = m["rank_now"].notna().to_numpy()

    def flag(col: str) -> np.ndarray:
        return m[col].fillna(False).to_numpy(dtype=bool)

    in_before, in_now = flag("in_cohort_before"), flag("in_cohort_now")
    decision_before = m["decision_before"].astype("string").fillna("").to_numpy(dtype=object)
    decision_now = m["decision_now"].astype("string").fillna("").to_numpy(dtype=object)
    adopted_before, adopted_now = decision_before == "adopted", decision_now == "adopted"

    # Which rows change first (cheap, on every row); the words only for those rows.
    found: list[tuple[str, np.ndarray, object]] = []
    note = (
        f"; the settings changed since the last review ({settings_changed})"
        if settings_changed
        else ""
    )
    found.append(("entered", in_now & ~in_before, lambda f: _entered_reasons(f, settings) + note))
    found.append(("left", in_before & ~in_now, lambda f: _left_reasons(f, settings) + note))

    new = {c: flag(f"{c}_now") & ~flag(f"{c}_before") for c in ALERTS}
    any_new = np.logical_or.reduce(list(new.values()))
    found.append(("new alert", any_new, lambda f: _alert_reasons(f, _at(new, f))))

    if before is not None and before_as_of is not None:
        # an as-of date means the end of that day: an incident from the next day on is new
        next_day = pd.Timestamp(before_as_of) + pd.Timedelta(days=1)
        after = (m["last_incident_at_now"] >= next_day).to_numpy(dtype=bool)
        found.append(
            ("new incident while adopted", adopted_now & is_scored & after, _incident_reasons)
        )
        status_before = m["already_managed_before"].astype("string").fillna("")
        status_now = m["already_managed_now"].astype("string").fillna("")
        lost = {
            code: (
                status_before.str.contains(code, regex=False)
                & ~status_now.str.contains(code, regex=False)
            ).to_numpy(dtype=bool)
            & was_scored
            & is_scored
            for code in ("iom", "mappa")
        }
        ended = adopted_before & ~adopted_now
        any_lost = np.logical_or.reduce(list(lost.values()))
        found.append(
            ("management ended", ended | any_lost, lambda f: _ended_reasons(f, _at(lost, f)))
        )

    step = float(settings.cycle.score_change_step)
    if step > 0:
        delta = (m["score_now"].astype(float) - m["score_before"].astype(float)).abs()
        watched = (in_before & in_now) | adopted_now
        moved = (delta >= step).to_numpy(dtype=bool) & was_scored & is_scored & watched
        found.append(("score change", moved, _score_reasons))

    rows = []
    for change, mask, words in found:  # the six kinds, each vectorised
        if not mask.any():
            continue
        f = m.loc[mask]
        rows.append(
            pd.DataFrame(
                {
                    "person_id": f["person_id"],
                    "change": change,
                    "reason": words(f).astype("string"),  # type: ignore[operator]
                    "rank_before": f["rank_before"].astype("Int64"),
                    "rank_now": f["rank_now"].astype("Int64"),
                    "score_before": f["score_before"].astype(float),
                    "score_now": f["score_now"].astype(float),
                    "in_cohort_before": in_before[mask],
                    "in_cohort_now": in_now[mask],
                    "alerts": alert_words(
                        pd.DataFrame({c: flag(f"{c}_now")[mask] for c in ALERTS}, index=f.index)
                    ),
                    "decision": decision_words(f["decision_now"], f["exit_state_now"]),
                    "last_incident_at": f["last_incident_at_now"],
                }
            )
        )
    if not rows:
        return _empty_changes()
    out = pd.concat(rows, ignore_index=True)
    order = out["change"].map({c: i for i, c in enumerate(CHANGES)})
    out = out.assign(_order=order).sort_values(
        ["_order", "rank_now", "rank_before", "person_id"], na_position="last", kind="mergesort"
    )
    return out.drop(columns="_order").reset_index(drop=True)[CHANGE_COLUMNS]


def _empty_changes() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="object") for c in CHANGE_COLUMNS})
    return out.astype({"person_id": "string", "change": "string", "reason": "string"})


def change_counts(changes: pd.DataFrame) -> dict[str, int]:
    """How many people each kind of change lists (every kind, 0 when none)."""
    counts = changes["change"].value_counts()
    return {c: int(counts.get(c, 0)) for c in CHANGES}


EXPORT_COLUMNS = [
    "person_id", "name", "change", "reason", "rank_before", "rank_now", "score_before",
    "score_now", "in_cohort_before", "in_cohort_now", "alerts", "decision", "last_incident",
    "review_as_of", "previous_review_as_of",
]  # fmt: skip


def changes_by_person(
    changes: pd.DataFrame,
    names: pd.DataFrame,
    *,
    review_as_of: date,
    previous_as_of: date | None,
) -> pd.DataFrame:
    """The review export: one row per person who changed (in the order of
    their first change), ``change`` the kinds joined with "; " and ``reason``
    the reasons (each after its kind when there are several);
    :data:`EXPORT_COLUMNS`. ``names``: ``person_id, label``."""
    if changes.empty:
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in EXPORT_COLUMNS})
        return out
    labelled = changes["change"] + ": " + changes["reason"]
    frame = changes.assign(labelled=labelled, first=np.arange(len(changes)))
    grouped = frame.groupby("person_id", sort=False)
    out = grouped.agg(
        change=("change", "; ".join),
        single=("reason", "first"),
        labelled=("labelled", "; ".join),
        n=("change", "size"),
        first=("first", "min"),
    )
    rest = grouped[
        ["rank_before", "rank_now", "score_before", "score_now", "in_cohort_before",
         "in_cohort_now", "alerts", "decision", "last_incident_at"]
    ].first()  # fmt: skip
    out = out.join(rest).sort_values("first").reset_index()
    out["reason"] = out["single"].where(out["n"] == 1, out["labelled"])
    label = names.set_index("person_id")["label"] if len(names) else pd.Series(dtype="string")
    out["name"] = out["person_id"].map(label).astype("string").fillna(out["person_id"])
    out["last_incident"] = _dates(out["last_incident_at"]).replace("not recorded", "")
    out["review_as_of"] = review_as_of.isoformat()
    out["previous_review_as_of"] = previous_as_of.isoformat() if previous_as_of else ""
    return out[EXPORT_COLUMNS].reset_index(drop=True)


def settings_note(before_json: str | None, before_label: str, now_json: str, now_label: str) -> str:
    """Words for a settings change between two reviews (empty when the same)."""
    if before_json is None or before_json == now_json:
        return ""
    return f"{before_label} → {now_label}"


# ---- on the database ------------------------------------------------------------------------
def store_review(
    engine: Engine,
    ranked: pd.DataFrame,
    *,
    as_of: date,
    settings: Settings,
    username: str,
) -> ReviewResult:
    """Store ``ranked`` (:func:`adapt.scoring.score.rank` as of ``as_of`` under
    ``settings``) as a review with today's cohort decisions (audited
    ``review_created`` with ``username``)."""
    frame = review_people(ranked, app_store.decisions_frame(engine))
    in_cohort = int(frame["in_cohort"].sum())
    label = f"{settings.name} v{settings.version}"
    review_id = reviews.store_review(
        engine, frame, as_of=as_of, settings_name=settings.name,
        settings_version=settings.version, settings_json=settings.to_json(), username=username,
        detail=f"as of {as_of.isoformat()}, settings {label}, {in_cohort} in the cohort of "
        f"{len(frame)} people scored",
    )  # fmt: skip
    return ReviewResult(review_id, as_of, settings.name, settings.version, len(frame), in_cohort)


def create_review(
    engine: Engine, *, as_of: object | None, settings: Settings, username: str
) -> ReviewResult:
    """Store a review of the cohort as of ``as_of`` (default: the latest
    incident date) under ``settings`` (audited ``review_created`` with
    ``username``). Raises ValueError when nothing can be scored."""
    history = load_history(engine, with_protected=False)
    if history.last_date is None:
        raise ValueError("nothing to review: no incidents are stored (run `adapt load` first)")
    try:
        day, table = cohort_table(history, as_of, settings)
    except RuntimeError as exc:  # not resolved yet
        raise ValueError(str(exc)) from exc
    return store_review(engine, table, as_of=day, settings=settings, username=username)


def pick_reviews(stored: pd.DataFrame, as_of: object | None) -> tuple[int | None, int | None]:
    """From :func:`adapt.db.reviews.reviews_frame`: the review as of ``as_of``
    (the latest dated on or before it; the latest of all when None) and the
    one before it (dated earlier, or the same day and made earlier)."""
    if stored.empty:
        return None, None
    ordered = stored.sort_values(["as_of", "review_id"]).reset_index(drop=True)
    if as_of is not None:
        ordered = ordered[ordered["as_of"] <= pd.Timestamp(as_of).date()].reset_index(drop=True)
    if ordered.empty:
        return None, None
    current = int(ordered["review_id"].iloc[-1])
    previous = int(ordered["review_id"].iloc[-2]) if len(ordered) > 1 else None
    return current, previous


def compare_reviews(
    engine: Engine, current_id: int, previous_id: int | None
) -> tuple[pd.DataFrame, str, date, date | None]:
    """What changed from review ``previous_id`` to ``current_id`` (both
    stored): the changes (:func:`review_changes`), the words on the settings,
    and the two dates."""
    now_head = reviews.review_header(engine, current_id)
    if now_head is None:
        raise ValueError(f"no review {current_id}")
    settings = Settings.from_json(now_head.settings_json)
    now = reviews.review_people_frame(engine, current_id)
    before, before_as_of, note = None, None, ""
    if previous_id is not None:
        head = reviews.review_header(engine, previous_id)
        if head is not None:
            before = reviews.review_people_frame(engine, previous_id)
            before_as_of = head.as_of
            note = settings_note(
                head.settings_json, f"{head.settings_name} v{head.settings_version}",
                now_head.settings_json, f"{now_head.settings_name} v{now_head.settings_version}",
            )  # fmt: skip
    changes = review_changes(before, now, settings, before_as_of=before_as_of,
                             settings_changed=note)  # fmt: skip
    return changes, note, now_head.as_of, before_as_of


def review_export_frame(engine: Engine, *, as_of: object | None = None) -> tuple[pd.DataFrame, str]:
    """The review as of ``as_of`` (the latest when None) against the review
    before it: one row per person who changed, at least ``person_id, name,
    change, reason``; and a few words on what it holds (for the audit entry).
    The first review is compared with nothing: everyone in its cohort
    entered, every alert is new. Raises ValueError when no review is stored
    (on or before ``as_of``)."""
    current, previous = pick_reviews(reviews.reviews_frame(engine), as_of)
    if current is None:
        when = f" on or before {pd.Timestamp(as_of).date()}" if as_of is not None else ""
        raise ValueError(f"no review is stored{when}: run `adapt review` first")
    changes, note, day, before_day = compare_reviews(engine, current, previous)
    frame = changes_by_person(
        changes, people.person_labels(engine), review_as_of=day, previous_as_of=before_day
    )
    against = f"against the review as of {before_day}" if before_day else "the first review"
    about = f"review {current} as of {day}, {against}" + (
        f", settings changed ({note})" if note else ""
    )
    return frame, about
