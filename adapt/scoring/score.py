"""The RFG score, its parts, the ranking and the cohort rule.

A score is the sum of its parts (:data:`PARTS`), each a weight times the points
of a band, or points for a signal that is present. Ranking only re-reads the
features: change a weight and :func:`rank` recomputes everything here in
milliseconds without recomputing a feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapt.core.settings import Settings, window_words

# The ranked order (person_id last: a total order). One rule for both engines:
# adapt.scoring.partitions sorts the buckets' tables by it too.
ORDER = ["score", "harm_window", "attendances_window", "days_since_last", "person_id"]
ASCENDING = [False, False, False, True, True]

# part column -> what it is; the score is their sum.
PARTS: dict[str, str] = {
    "score_recency": (
        "recency: weight x points of the band the days since the last incident fall in"
    ),
    "score_frequency": (
        "frequency: weight x points of the highest band the attendances in the window reach"
    ),
    "score_gravity": (
        "gravity: weight x points of the highest band the harm (CHI days) in the window reaches"
    ),
    "score_serial": (
        "serial: points per victim beyond the first in the serial window, capped (only if serial)"
    ),
    "score_frequency_escalation": (
        "frequency escalation: points when the recent rate is significantly higher"
    ),
    "score_severity_escalation": (
        "severity escalation: points when harm per incident rose by the set ratio"
    ),
    "score_markers": "high-risk markers: points per marker kind present in the window, capped",
    "score_marac": "MARAC: points for a SafeLives repeat and for a referral in the window",
    "score_serious_history": (
        "history of serious harm: weight x (points of the highest band the largest harm on"
        " record reaches + points per serious incident beyond the first), capped; over the"
        " whole history up to the date"
    ),
}
# part column -> its short label (a table header); one per part of PARTS.
PART_LABELS: dict[str, str] = {
    "score_recency": "Recency",
    "score_frequency": "Frequency",
    "score_gravity": "Gravity",
    "score_serial": "Serial",
    "score_frequency_escalation": "Freq. escalation",
    "score_severity_escalation": "Sev. escalation",
    "score_markers": "Markers",
    "score_marac": "MARAC",
    "score_serious_history": "Serious history",
}
COHORT_COLUMNS = ["rank", "person_id", "score", "in_cohort", "reason", *PARTS, "already_managed"]
_MARKERS = ("strangulation", "weapon", "threats_to_kill", "breach", "children_present", "dash_high")


def _banded_at_least(
    values: np.ndarray, thresholds: list[float], points: list[float]
) -> np.ndarray:
    """Points of the highest band whose threshold the value reaches (0 below all)."""
    if not thresholds:
        return np.zeros(len(values))
    idx = np.searchsorted(np.asarray(thresholds, dtype=float), values, side="right")
    return np.concatenate([[0.0], np.asarray(points, dtype=float)])[idx]


def _banded_at_most(values: np.ndarray, limits: list[int], points: list[float]) -> np.ndarray:
    """Points of the first band whose limit the value is within (0 beyond all or if < 0)."""
    if not limits:
        return np.zeros(len(values))
    idx = np.searchsorted(np.asarray(limits, dtype=float), values, side="left")
    out = np.concatenate([np.asarray(points, dtype=float), [0.0]])[idx]
    return np.where(values < 0, 0.0, out)


def score_parts(features: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One column per part of :data:`PARTS`, indexed like ``features``."""
    s = settings
    f = features
    parts = pd.DataFrame(index=f.index)
    parts["score_recency"] = s.recency.weight * _banded_at_most(
        f["days_since_last"].to_numpy(dtype=float),
        [b.at_most_days for b in s.recency.bands],
        [b.points for b in s.recency.bands],
    )
    parts["score_frequency"] = s.frequency.weight * _banded_at_least(
        f["attendances_window"].to_numpy(dtype=float),
        [b.at_least for b in s.frequency.bands],
        [b.points for b in s.frequency.bands],
    )
    parts["score_gravity"] = s.gravity.weight * _banded_at_least(
        f["harm_window"].to_numpy(dtype=float),
        [b.at_least for b in s.gravity.bands],
        [b.points for b in s.gravity.bands],
    )
    extra = np.clip(f["victims_serial_window"].to_numpy(dtype=float) - 1, 0, None)
    parts["score_serial"] = np.where(
        f["serial"].to_numpy(dtype=bool),
        np.minimum(s.serial.max_points, s.serial.points_per_extra_victim * extra),
        0.0,
    )
    parts["score_frequency_escalation"] = np.where(
        f["frequency_escalating"].to_numpy(dtype=bool), s.escalation_points.frequency_points, 0.0
    )
    parts["score_severity_escalation"] = np.where(
        f["severity_escalating"].to_numpy(dtype=bool), s.escalation_points.severity_points, 0.0
    )
    markers = np.zeros(len(f))
    for kind in _MARKERS:  # six marker kinds, each a vectorised column
        markers += np.where(
            f[f"{kind}_window"].to_numpy(dtype=float) > 0, getattr(s.markers, kind), 0.0
        )
    parts["score_markers"] = np.minimum(markers, s.markers.max_points)
    repeats = f["marac_repeats_window"].to_numpy(dtype=float) > 0
    referrals = f["marac_referrals_window"].to_numpy(dtype=float) > 0
    parts["score_marac"] = np.where(repeats, s.marac.repeat_points, 0.0) + np.where(
        referrals, s.marac.referral_points, 0.0
    )
    parts["score_serious_history"] = _serious_history(f, s)
    return parts.round(4)


def _serious_history(f: pd.DataFrame, s: Settings) -> np.ndarray:
    """Points for serious harm over the whole history: the band of the largest
    harm on record plus points per serious incident beyond the first, capped,
    times the weight; 0 without a serious incident."""
    h = s.serious_history
    serious = f["serious_incidents_total"].to_numpy(dtype=float)
    band = _banded_at_least(
        f["max_harm_total"].to_numpy(dtype=float),
        [b.at_least for b in h.bands],
        [b.points for b in h.bands],
    )
    points = np.minimum(h.max_points, band + h.points_per_extra_incident * (serious - 1))
    return np.where(serious > 0, h.weight * points, 0.0)


def _ago_words(days: pd.Series) -> pd.Series:
    """How long ago, in words, from whole days (vectorised): days under a month,
    months under a year, else years (rounded to the nearest whole one).

    >>> _ago_words(pd.Series([0, 1, 20, 45, 300, 365, 710, 1200])).tolist()
    ['today', '1 day ago', '20 days ago', '1 month ago', '10 months ago', '1 year ago',
     '2 years ago', '3 years ago']
    """
    d = days.to_numpy(dtype=float)
    months = np.maximum(np.round(d / (365.2425 / 12)), 1).astype(np.int64)
    years = np.maximum(np.round(d / 365.2425), 1).astype(np.int64)
    n = np.select([d < 31, d < 365], [d.astype(np.int64), months], years)
    unit = np.select([d < 31, d < 365], ["day", "month"], "year")
    word = pd.Series(unit, index=days.index) + np.where(n == 1, "", "s")
    text = pd.Series(n, index=days.index).astype("string") + " " + word + " ago"
    return text.where(d != 0, "today")


def serious_history_words(features: pd.DataFrame) -> pd.Series:
    """The serious history in words for each person, empty without one:
    ``a serious incident (harm 2555 days) 2 years ago`` or ``2 serious
    incidents (largest harm 2555 days), the last 2 years ago``."""
    n = features["serious_incidents_total"].fillna(0).astype("int64")
    harm = features["max_harm_total"].fillna(0.0).round().astype("int64").astype("string")
    ago = _ago_words(features["days_since_last_serious"].clip(lower=0))
    one = "a serious incident (harm " + harm + " days) " + ago
    many = (
        n.astype("string") + " serious incidents (largest harm " + harm + " days), the last " + ago
    )
    out = one.where(n == 1, many).where(n > 0, "")
    return out.astype("string").fillna("")


def _cohort(features: pd.DataFrame, total: np.ndarray, s: Settings) -> tuple[np.ndarray, pd.Series]:
    rule = s.cohort
    att = features["attendances_window"].to_numpy(dtype=np.int64)
    days = features["days_since_last"].to_numpy(dtype=np.int64)
    status = features["managed_status"].astype("string").fillna("")
    by_status = {  # the excluded statuses each distinct status text names, in the rule's order
        text: ", ".join(x for x in rule.exclude_statuses if f";{x};" in f";{text};")
        for text in status.unique().tolist()
    }
    excluded_list = [by_status[text] for text in status.tolist()]
    excluded = np.fromiter((e != "" for e in excluded_list), bool, len(excluded_list))
    by_att = (
        att >= rule.min_attendances
        if rule.min_attendances is not None
        else np.zeros(len(att), bool)
    )
    by_score = total >= rule.min_score if rule.min_score is not None else np.zeros(len(att), bool)
    recent = (days >= 0) & (days <= rule.max_days_since_last)
    meets = by_att | by_score
    in_cohort = meets & recent & ~excluded

    # The reasons' text, row by row in plain Python (pandas string ops cost ~0.3 s at 40k).
    att_rule = (
        f" (rule: at least {rule.min_attendances})" if rule.min_attendances is not None else ""
    )
    score_rule = f" (rule: at least {rule.min_score:g})" if rule.min_score is not None else ""
    scores = pd.Series(np.round(total, 1), index=features.index).astype("string").tolist()
    stale_rule = f" days ago (rule: within {rule.max_days_since_last})"
    in_window = f" in {window_words(s.windows.window_days)}"  # the window the settings give
    counter = "Not in cohort: no incident attributed (secondary party of a counter-allegation)"
    reasons = []
    flags = zip(excluded.tolist(), meets.tolist(), recent.tolist(), in_cohort.tolist(),
                by_att.tolist(), by_score.tolist(), strict=True)  # fmt: skip
    for i, (a, d, (ex, meet, rec, inside, b_att, b_score)) in enumerate(
        zip(att.tolist(), days.tolist(), flags, strict=True)
    ):
        if ex and d >= 0:
            reasons.append(f"Not in cohort: already managed ({excluded_list[i]})")
            continue
        if d < 0:
            reasons.append(counter)
            continue
        if meet and not rec:
            reasons.append(f"Not in cohort: last incident {d}{stale_rule}")
            continue
        att_text = f"{a}{' attendance' if a == 1 else ' attendances'}{in_window}{att_rule}"
        score_text = f"score {scores[i]}{score_rule}"
        if not inside:
            if rule.min_attendances is None:
                missed = score_text
            elif rule.min_score is None:
                missed = att_text
            else:
                missed = f"{att_text} and {score_text}"
            reasons.append(f"Not in cohort: {missed}")
            continue
        met = att_text if b_att else ""
        if b_score:
            met = score_text if met == "" else f"{met} and {score_text}"
        reasons.append(f"In cohort: {met}")
    reason = pd.Series(reasons, index=features.index, dtype="string")
    # The serious history in words, after the counts (not on already-managed or
    # counter-allegation rows, whose one reason decides).
    words = serious_history_words(features)
    said = (words != "").to_numpy() & ~excluded & (days >= 0)
    reason = reason.where(~said, reason + "; history: " + words)
    return in_cohort, reason


def rank(features: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Score, rank and apply the cohort rule: the cohort table, best first.

    Columns: :data:`COHORT_COLUMNS` followed by the features. Ties on score are
    broken by harm, then attendances in the window, then recency, then id.
    """
    parts = score_parts(features, settings)
    total = parts.to_numpy().sum(axis=1).round(4)
    in_cohort, reason = _cohort(features, total, settings)
    out = pd.concat([parts, features], axis=1)
    out.insert(0, "score", total)
    out.insert(1, "in_cohort", in_cohort)
    out.insert(2, "reason", reason)
    out["already_managed"] = features["managed_status"].astype("string")
    out = out.reset_index()
    out = out.sort_values(ORDER, ascending=ASCENDING, kind="mergesort")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    ordered = [*COHORT_COLUMNS, *[c for c in out.columns if c not in COHORT_COLUMNS]]
    return out[ordered].reset_index(drop=True)
