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
