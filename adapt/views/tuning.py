"""The tuning page's logic: which settings are edited how, the settings an
analyst's edits give, what they change (cohort size, who enters and leaves),
the diff between two versions and the backtest capture curve from cached
features.

Every number in the settings is an editable scalar (:func:`scalar_settings`);
bands are edited as JSON lists; the cohort rule's excluded statuses as a list.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings, SettingsError
from adapt.evaluation.backtest import Future, capture_by_k, method_rankings

BANDED = ("recency", "frequency", "gravity", "serious_history")
META = ("name", "version", "author", "reason")
CURVE_METHODS = ("score", "attendances_window", "seven_in_12", "harm_window", "visible_oracle")
SECTION_LABELS = {
    "windows": "", "escalation": "Escalation", "recency": "Recency", "frequency": "Frequency",
    "gravity": "Gravity", "serial": "Serial", "escalation_points": "Escalation points",
    "markers": "Markers", "marac": "MARAC", "serious_history": "Serious history",
    "cohort": "Cohort",
}  # fmt: skip


def setting_label(path: tuple[str, ...]) -> str:
    """A readable label for a setting path: ``("gravity", "weight")`` → "Gravity weight"."""
    section = SECTION_LABELS.get(path[0], path[0].replace("_", " ").capitalize())
    field = " ".join(path[1:]).replace("_", " ")
    text = f"{section} {field}".strip() or "Windows"
    return text[0].upper() + text[1:]


def scalar_settings(settings: Settings) -> list[tuple[tuple[str, ...], float | int | None]]:
    """Every numeric setting as (path, value), in the settings' order (bands excluded)."""
    data = settings.model_dump(mode="json")
    out: list[tuple[tuple[str, ...], float | int | None]] = []
    for section, value in data.items():
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            if key == "bands" or isinstance(item, (list, dict, str, bool)):
                continue
            out.append(((section, key), item))
    return out


def is_integer_setting(settings: Settings, path: tuple[str, ...]) -> bool:
    section = getattr(settings, path[0])
    annotation = type(section).model_fields[path[1]].annotation
    return annotation in (int, int | None)


def bands_json(settings: Settings, part: str) -> str:
    return json.dumps(getattr(settings, part).model_dump(mode="json")["bands"], indent=1)


def apply_edits(
    base: Settings,
    scalars: dict[tuple[str, ...], float | int | None],
    bands: dict[str, str],
    exclude_statuses: list[str] | None = None,
    **meta: str,
) -> Settings:
    """The validated settings the edits give; :class:`SettingsError` names a bad setting."""
    changes: dict = {}
    for (section, key), value in scalars.items():
        changes.setdefault(section, {})[key] = value
    for part, text in bands.items():
        try:
            changes.setdefault(part, {})["bands"] = json.loads(text)
        except json.JSONDecodeError as err:
            raise SettingsError(
                f"{part}.bands: not valid JSON (line {err.lineno}, column {err.colno})"
            ) from None
    if exclude_statuses is not None:
        changes.setdefault("cohort", {})["exclude_statuses"] = list(exclude_statuses)
    return base.with_changes(changes, **meta)


def _flat(settings: Settings) -> dict[str, object]:
    out: dict[str, object] = {}
    for section, value in settings.model_dump(mode="json").items():
        if isinstance(value, dict):
            for key, item in value.items():
                out[f"{section}.{key}"] = json.dumps(item) if isinstance(item, list) else item
        else:
            out[section] = value
    return out


def settings_diff(a: Settings, b: Settings, *, include_meta: bool = False) -> pd.DataFrame:
    """The settings that differ: ``setting, a, b`` (bands and lists as JSON)."""
    fa, fb = _flat(a), _flat(b)
    rows = [
        {"setting": k, "a": fa.get(k), "b": fb.get(k)}
        for k in dict.fromkeys([*fa, *fb])
        if fa.get(k) != fb.get(k) and (include_meta or k not in META)
    ]
    return pd.DataFrame(rows, columns=["setting", "a", "b"]).astype({"a": str, "b": str})


def cohort_changes(saved: pd.DataFrame, edited: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Who enters and who leaves the cohort when ``saved`` ranking becomes ``edited``.

    Both are :func:`adapt.scoring.score.rank` tables. Returns ``entering`` and
    ``leaving``: ``person_id, rank_saved, score_saved, rank_new, score_new, reason``.
    """
    cols = ["person_id", "rank", "score", "in_cohort", "reason"]
    both = saved[cols].merge(edited[cols], on="person_id", how="outer", suffixes=("_saved", "_new"))
    both[["in_cohort_saved", "in_cohort_new"]] = (
        both[["in_cohort_saved", "in_cohort_new"]].fillna(False).astype(bool)
    )
    show = ["person_id", "rank_saved", "score_saved", "rank_new", "score_new"]
    entering = both[~both["in_cohort_saved"] & both["in_cohort_new"]]
    leaving = both[both["in_cohort_saved"] & ~both["in_cohort_new"]]
    return {
        "entering": entering.sort_values("rank_new")[[*show, "reason_new"]]
        .rename(columns={"reason_new": "reason"})
        .reset_index(drop=True),
        "leaving": leaving.sort_values("rank_saved")[[*show, "reason_saved"]]
        .rename(columns={"reason_saved": "reason"})
        .reset_index(drop=True),
    }


def backtest_as_of(history: History, min_years: float = 2.0) -> date | None:
    """One year before the latest incident, or None when the data spans less
    than ``min_years`` (there would be too little before the date to rank on)."""
    inc = history.incidents["occurred_at"]
    if not len(inc):
        return None
    first, last = inc.min().normalize(), inc.max().normalize()
    if (last - first).days < 365.25 * min_years:
        return None
    return (last - pd.DateOffset(years=1)).date()


def capture_curve_from(
    ranked: pd.DataFrame, future: Future, settings: Settings, max_k: int = 500
) -> pd.DataFrame:
    """The capture curve (``method, k, harm_share, incident_share``) for the
    score and the baselines from a ranking already computed on cached features."""
    rankings = method_rankings(ranked, future, settings)
    n = min(max_k, max(len(ranked), 1))
    frames = [
        capture_by_k(rankings[m], future, n).assign(method=m)
        for m in CURVE_METHODS
        if m in rankings
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["method", "k", "harm_share", "incident_share"]]


def score_histogram(ranked: pd.DataFrame, bins: int = 40) -> pd.DataFrame:
    """The score distribution binned here (a few rows go to the browser, not
    every person's score): ``score`` (bin centre), ``width``, ``in_cohort``, ``people``."""
    import numpy as np

    scores = ranked["score"].to_numpy(dtype=float)
    if not len(scores):
        return pd.DataFrame(columns=["score", "width", "in_cohort", "people"])
    edges = np.histogram_bin_edges(scores, bins=bins)
    frames = []
    for flag in (False, True):
        counts, _ = np.histogram(scores[ranked["in_cohort"].to_numpy(dtype=bool) == flag], edges)
        frames.append(
            pd.DataFrame(
                {
                    "score": (edges[:-1] + edges[1:]) / 2,
                    "width": np.diff(edges),
                    "in_cohort": flag,
                    "people": counts,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def next_version(existing: pd.DataFrame, name: str) -> str:
    """A suggested new version for ``name``: one more than its highest numeric version."""
    versions = existing.loc[existing["name"] == name, "version"] if len(existing) else []
    numbers = [int(v) for v in versions if str(v).isdigit()]
    return str(max(numbers, default=0) + 1)


# ---- the charts' text alternatives (adapt.services.charts) -------------------
METHOD_LABELS = {
    "score": "The score",
    "attendances_window": "Attendances in the window",
    "seven_in_12": "7 incidents in 12 months",
    "harm_window": "Harm in the window",
    "visible_oracle": "Best possible (hindsight)",
}
CAPTURE_KS = (10, 25, 50, 100, 200, 500)
IN_COHORT_LABELS = {True: "In the cohort", False: "Not in the cohort"}


def histogram_frame(bins: pd.DataFrame) -> pd.DataFrame:
    """:func:`score_histogram`'s bins with the cohort flag in words (the
    chart's legend): ``score, width, people, group``."""
    return bins.assign(group=bins["in_cohort"].map(IN_COHORT_LABELS)).drop(columns="in_cohort")


def histogram_table(bins: pd.DataFrame) -> pd.DataFrame:
    """The score histogram as a table: one row a score band that holds someone,
    lowest first, with the people in and not in the cohort.

    >>> bins = pd.DataFrame({"score": [1.0, 3.0, 1.0, 3.0], "width": 2.0,
    ...                      "in_cohort": [False, False, True, True], "people": [5, 0, 0, 2]})
    >>> histogram_table(bins).values.tolist()
    [['0.0', '2.0', 0, 5], ['2.0', '4.0', 2, 0]]
    """
    columns = ["Scores from", "Scores to", *IN_COHORT_LABELS.values()]
    if bins.empty:
        return pd.DataFrame(columns=columns)
    wide = bins.pivot_table(
        index=["score", "width"], columns="in_cohort", values="people", aggfunc="sum"
    ).reindex(columns=[True, False], fill_value=0)
    wide = wide.fillna(0).astype(int).reset_index()
    out = pd.DataFrame(
        {
            "Scores from": (wide["score"] - wide["width"] / 2).map("{:.1f}".format),
            "Scores to": (wide["score"] + wide["width"] / 2).map("{:.1f}".format),
            "In the cohort": wide[True].to_numpy(),
            "Not in the cohort": wide[False].to_numpy(),
        }
    )
    held = (out["In the cohort"] + out["Not in the cohort"]) > 0
    return out[held].reset_index(drop=True)[columns]


def histogram_sentence(ranked: pd.DataFrame) -> str:
    """What the score histogram shows, in a sentence.

    >>> ranked = pd.DataFrame({"score": [1.0, 2.5, 9.0, 12.25], "in_cohort": [0, 0, 1, 1]})
    >>> print(histogram_sentence(ranked))  # doctest: +NORMALIZE_WHITESPACE
    4 people scored from 1.0 to 12.2: the 2 in the cohort from 9.0 to 12.2,
    the other 2 from 1.0 to 2.5.
    >>> histogram_sentence(ranked.assign(in_cohort=False))
    '4 people scored from 1.0 to 12.2; nobody is in the cohort.'
    """
    if ranked.empty:
        return "Nobody is scored as of this date."
    scores = ranked["score"].astype(float)
    inside = ranked["in_cohort"].astype(bool)

    def span(s: pd.Series) -> str:
        return f"from {s.min():.1f} to {s.max():.1f}"

    head = f"{len(ranked):,} people scored {span(scores)}"
    if not inside.any():
        return f"{head}; nobody is in the cohort."
    if inside.all():
        return f"{head}, all of them in the cohort."
    return (
        f"{head}: the {int(inside.sum()):,} in the cohort {span(scores[inside])}, "
        f"the other {int((~inside).sum()):,} {span(scores[~inside])}."
    )


def capture_frame(curve: pd.DataFrame) -> pd.DataFrame:
    """The capture curve with the methods in words (the chart's legend)."""
    return curve.assign(method=curve["method"].map(METHOD_LABELS).fillna(curve["method"]))


def capture_table(curve: pd.DataFrame, cohort: int) -> pd.DataFrame:
    """The capture curve at a few list sizes (and the cohort's): the share of
    the next year's harm each method's top K had, as percentages."""
    sizes = sorted({*CAPTURE_KS, int(cohort)} & set(curve["k"].astype(int)))
    rows = curve[curve["k"].isin(sizes)]
    wide = rows.pivot_table(index="k", columns="method", values="harm_share", aggfunc="first")
    wide = wide.reindex(columns=[m for m in CURVE_METHODS if m in wide.columns])
    shares = wide.apply(lambda col: col.map(lambda x: "" if pd.isna(x) else f"{x:.1%}"))
    shares.columns = [METHOD_LABELS.get(m, m) for m in shares.columns]
    top = [f"{k:,} (the cohort size)" if k == cohort else f"{k:,}" for k in shares.index]
    return shares.reset_index(drop=True).assign(**{"Top K": top})[["Top K", *shares.columns]]


def capture_sentence(curve: pd.DataFrame, cohort: int, as_of: date) -> str:
    """What the capture curve says at the cohort size, in a sentence."""
    k = min(int(cohort), int(curve["k"].max())) if len(curve) else 0
    at = curve[curve["k"] == k].set_index("method")["harm_share"]
    if k == 0 or "score" not in at.index:
        return f"No capture curve for {as_of:%d/%m/%Y}."
    others = "; ".join(
        f"{METHOD_LABELS[m].lower()} {at[m]:.1%}" for m in CURVE_METHODS[1:] if m in at.index
    )
    return (
        f"Ranked as of {as_of:%d/%m/%Y}, the top {k:,} by the score (the cohort size) had "
        f"{at['score']:.1%} of the next year's harm" + (f"; by {others}." if others else ".")
    )
