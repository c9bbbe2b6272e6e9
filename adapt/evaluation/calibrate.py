"""Calibrating the score on a force's own past: a small, bounded search over the
parts' weights, judged out of time (pure functions on a :class:`History`).

Rolling origin. For a date T the as-of dates (*origins*) are T-3y, T-2y and
T-1y, each kept only when about a year of history (:data:`MIN_HISTORY_DAYS`)
lies before it; the
outcome of an origin is the year after it (the last origin's year ends at T).
The search is fitted on every origin but the last, and judged on the last
(the *held-out* origin), whose outcome year nobody fitted on. Nothing after T
is read: the history is cut at the end of T first (:func:`history_until`), and
the fit reads nothing after the held-out origin's date.

The search. Each part of :data:`adapt.scoring.score.PARTS` is linear in the
settings that give its points (a weight, or every points figure of the part
and its cap), so the part scaled by a multiplier m is m times the part
(:func:`scaled_settings`). Features are computed once per origin under the
live settings, the parts once, and each candidate is only a weighted sum and
a sort: coordinate ascent over :data:`MULTIPLIERS` per part, at most
``passes`` passes, maximising the mean capture of next-year harm by the top
K/2, K and 2K over the fit origins (K clipped to the people ranked; three
K rather than one, and a move kept only when it adds :data:`MIN_GAIN`, so
that the search does not chase the noise of a hundred people). The cohort's ``min_score``
does not change a top-K ranking; it is rescaled so that as many people reach
it at the last fit origin as under the live settings (:func:`_rescaled_min_score`).

The evidence: the share of next-year harm the top K captured at K = 25, 50,
100, 200 for the draft, the live settings, the baselines and the oracles, at
every origin (:func:`calibrate`), with the spread across origins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from adapt.core.dates import cutoff_of
from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.evaluation.backtest import BASELINES, DEFAULT_KS, ORACLES, Future, evaluate
from adapt.evaluation.backtest import method_rankings as _method_rankings
from adapt.features import compute_features
from adapt.scoring.score import PARTS, rank, score_parts

MULTIPLIERS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
DEFAULT_K = 100
# A move must add this much mean capture (half a point): no chasing the noise of
# a hundred people. Chosen on one generator seed (11, 40k incidents, T at the
# end of year 3, judged on the year after T): 0.002 let the search zero out
# frequency there and lose 4.5 points on the later year; 0.005 lost 0.8.
MIN_GAIN = 0.005
ORIGIN_YEARS = (3, 2, 1)
# "At least a year of history" before an origin, with a month's grace: an
# extract of exactly three years rarely starts on the anniversary to the day.
MIN_HISTORY_DAYS = 335
FIT, HELD_OUT, SPREAD = "fit", "held_out", "spread"
DRAFT, LIVE = "draft", "live"
EVIDENCE_METHODS = (DRAFT, LIVE, *BASELINES, *ORACLES)


class CalibrationError(ValueError):
    """The history cannot be calibrated on (too short, nothing resolved)."""


# ---- the settings a multiplier scales ----------------------------------------


def _scaled_part(settings: Settings, part: str, m: float) -> dict:
    """The settings changes that multiply ``part`` by ``m`` (nested dict)."""
    s = settings
    if part == "score_recency":
        return {"recency": {"weight": s.recency.weight * m}}
    if part == "score_frequency":
        return {"frequency": {"weight": s.frequency.weight * m}}
    if part == "score_gravity":
        return {"gravity": {"weight": s.gravity.weight * m}}
    if part == "score_serious_history":
        return {"serious_history": {"weight": s.serious_history.weight * m}}
    if part == "score_serial":
        return {
            "serial": {
                "points_per_extra_victim": s.serial.points_per_extra_victim * m,
                "max_points": s.serial.max_points * m,
            }
        }
    if part == "score_frequency_escalation":
        return {"escalation_points": {"frequency_points": s.escalation_points.frequency_points * m}}
    if part == "score_severity_escalation":
        return {"escalation_points": {"severity_points": s.escalation_points.severity_points * m}}
    if part == "score_markers":
        return {"markers": {k: v * m for k, v in s.markers.model_dump().items()}}
    if part == "score_marac":
        return {
            "marac": {
                "repeat_points": s.marac.repeat_points * m,
                "referral_points": s.marac.referral_points * m,
            }
        }
    raise KeyError(part)


def _merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merge(out[key], value) if isinstance(out.get(key), dict) else value
    return out


def scaled_settings(settings: Settings, multipliers: Mapping[str, float], **meta: str) -> Settings:
    """``settings`` with each part of ``multipliers`` multiplied by its value.

    >>> from adapt.core.settings import default_settings
    >>> s = scaled_settings(default_settings(), {"score_gravity": 2.0, "score_marac": 0.5})
    >>> s.gravity.weight, s.marac.repeat_points, s.marac.referral_points
    (2.0, 2.0, 1.0)
    """
    changes: dict = {}
    for part, m in multipliers.items():
        if float(m) != 1.0:
            changes = _merge(changes, _scaled_part(settings, part, float(m)))
    return settings.with_changes(changes, **meta) if (changes or meta) else settings


# ---- the origins ----------------------------------------------------------------


def history_until(history: History, as_of: object) -> History:
    """The history as it stood at the end of ``as_of``: later incidents, their
    involvements, later MARAC referrals and later management records cut."""
    cutoff = cutoff_of(as_of)
    inc = history.incidents[history.incidents["occurred_at"] < cutoff]
    inv = history.involvements[history.involvements["incident_id"].isin(inc["incident_id"])]
    marac = history.marac[history.marac["referral_date"] < cutoff]
    man = history.management[~(history.management["from_date"] >= cutoff)]
    # replace() keeps any other part of the history (an officer's labels) as it is
    return replace(history, incidents=inc, involvements=inv, marac=marac, management=man)


@dataclass(frozen=True)
class OriginDate:
    """An as-of date of the rolling origin and its outcome year's length."""

    as_of: pd.Timestamp
    horizon_days: int
    role: str  # FIT or HELD_OUT


def rolling_origins(history: History, as_of: object) -> list[OriginDate]:
    """T-3y, T-2y, T-1y with at least a year of history before them; the last is held out.

    Raises :class:`CalibrationError` when fewer than two qualify (one to fit, one to check).

    >>> inc = pd.DataFrame({"incident_id": ["I1"], "occurred_at": pd.to_datetime(["2020-06-01"]),
    ...                     "offence": ["common_assault"], "is_crime": True})
    >>> inv = pd.DataFrame({"incident_id": ["I1"], "role": "suspect", "person_id": ["P1"]})
    >>> [(str(o.as_of.date()), o.horizon_days, o.role)
    ...  for o in rolling_origins(History.build(inc, inv), "2023-12-31")]
    [('2021-12-31', 365, 'fit'), ('2022-12-31', 365, 'held_out')]
    """
    end = pd.Timestamp(as_of).normalize()
    first = history.incidents["occurred_at"].min()
    if pd.isna(first):
        raise CalibrationError("no incidents are stored: nothing to calibrate on")
    dates = [end - pd.DateOffset(years=y) for y in ORIGIN_YEARS]
    dates = [d for d in dates if (d - first.normalize()).days >= MIN_HISTORY_DAYS]
    if len(dates) < 2:
        raise CalibrationError(
            "calibration needs about three years of history before the as-of date (a year "
            "before each of two as-of dates, and a year of outcome after each); the history "
            f"starts {first:%Y-%m-%d} and the as-of date is {end:%Y-%m-%d}"
        )
    return [
        OriginDate(
            d, int((d + pd.DateOffset(years=1) - d).days), HELD_OUT if i == len(dates) - 1 else FIT
        )
        for i, d in enumerate(dates)
    ]


# ---- one origin prepared once, re-scored per candidate ------------------------------


@dataclass(frozen=True)
class Origin:
    """An origin's features, base parts and next-year outcome, prepared once."""

    date: OriginDate
    features: pd.DataFrame
    future: Future
    parts: np.ndarray  # people x PARTS, under the base settings
    tiebreak: tuple[np.ndarray, ...] = field(repr=False)  # lexsort keys after the score
    suspect_pos: np.ndarray = field(repr=False)  # per future (incident, suspect) row: person row
    suspect_incident: np.ndarray = field(repr=False)  # ... and incident row
    harm: np.ndarray = field(repr=False)  # per future incident

    @property
    def people(self) -> int:
        return len(self.features)


def prepare_origin(history: History, origin: OriginDate, settings: Settings) -> Origin:
    """Features (once), parts and the future of one origin."""
    features = compute_features(history, origin.as_of, settings)
    future = Future.after(history, origin.as_of, origin.horizon_days, settings.harm_table)
    parts = score_parts(features, settings)[list(PARTS)].to_numpy(dtype=float)
    n = len(features)
    # rank()'s order after the score: harm, attendances (both high first), recency, id
    tiebreak = (
        np.arange(n),  # features are sorted by person id
        features["days_since_last"].to_numpy(dtype=float),
        -features["attendances_window"].to_numpy(dtype=float),
        -features["harm_window"].to_numpy(dtype=float),
    )
    row = pd.Series(np.arange(n), index=features.index)
    inc_row = pd.Series(np.arange(len(future.incidents)), index=future.incidents["incident_id"])
    sus = future.suspects
    known = sus["person_id"].isin(features.index).to_numpy()
    return Origin(
        date=origin,
        features=features,
        future=future,
        parts=parts,
        tiebreak=tiebreak,
        suspect_pos=row.reindex(sus["person_id"][known]).to_numpy(dtype=np.int64),
        suspect_incident=inc_row.reindex(sus["incident_id"][known]).to_numpy(dtype=np.int64),
        harm=future.incidents["harm"].to_numpy(dtype=float),
    )


def capture(origin: Origin, weights: np.ndarray, k: int) -> float:
    """Share of the origin's next-year harm the top ``k`` (clipped to the people
    ranked) of the score ``parts @ weights`` captures (ranked as :func:`rank` does)."""
    total_harm = origin.harm.sum()
    if total_harm <= 0 or origin.people == 0:
        return 0.0
    total = np.round(origin.parts @ weights, 4)
    order = np.lexsort((*origin.tiebreak, -total))
    top = np.zeros(origin.people, dtype=bool)
    top[order[: min(int(k), origin.people)]] = True
    hit = np.zeros(len(origin.harm), dtype=bool)
    hit[origin.suspect_incident[top[origin.suspect_pos]]] = True
    return float(origin.harm[hit].sum() / total_harm)


def search(
    origins: Iterable[Origin],
    k: int = DEFAULT_K,
    multipliers: Iterable[float] = MULTIPLIERS,
    passes: int = 3,
    min_gain: float = MIN_GAIN,
) -> tuple[dict[str, float], float]:
    """Coordinate ascent: for each part in turn the multiplier that most raises
    the mean capture by the top ``k``/2, ``k`` and 2``k`` over ``origins``, from
    all 1 (the base settings), at most ``passes`` passes; a change is kept only
    when it adds at least ``min_gain``.

    Returns the multipliers per part and the fitted mean capture (an in-sample
    figure: judge the result on an origin it was not fitted on)."""
    fit = list(origins)
    grid = [float(m) for m in multipliers]
    names = list(PARTS)
    w = np.ones(len(names))

    ks = (max(int(k) // 2, 1), int(k), 2 * int(k))

    def objective(weights: np.ndarray) -> float:
        return float(np.mean([capture(o, weights, kk) for o in fit for kk in ks]))

    best = objective(w)
    for _ in range(max(int(passes), 0)):
        moved = False
        for j in range(len(names)):
            for m in grid:
                if m == w[j]:
                    continue
                trial = w.copy()
                trial[j] = m
                value = objective(trial)
                if value > best + min_gain:
                    best, w, moved = value, trial, True
        if not moved:
            break
    return dict(zip(names, w.tolist(), strict=True)), best


def _rescaled_min_score(live: Settings, origin: Origin, weights: np.ndarray) -> float | None:
    """A min_score under the draft that as many people reach at ``origin`` as reach
    the live one under the live settings (None when the rule has none)."""
    old = live.cohort.min_score
    if old is None:
        return None
    base = np.round(origin.parts.sum(axis=1), 4)
    reach = int((base >= old).sum())
    draft = np.sort(np.round(origin.parts @ weights, 4))[::-1]
    if reach == 0 or len(draft) == 0:
        return old
    return float(np.floor(draft[min(reach, len(draft)) - 1] * 10) / 10)


# ---- the whole calibration ----------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """A calibration's result: the draft, its multipliers and the evidence."""

    as_of: pd.Timestamp
    k: int
    draft: Settings
    multipliers: dict[str, float]
    fitted_capture: float  # in-sample: never the figure to judge the draft by
    origins: list[OriginDate]
    evidence: pd.DataFrame  # origin, role, method, k, harm_share, incident_share, people
    spread: pd.DataFrame  # method, k, mean, min, max over every origin

    @property
    def held_out(self) -> OriginDate:
        return self.origins[-1]

    def out_of_time(self, k: int | None = None) -> dict[str, float]:
        """Held-out harm share at ``k`` (default the search's K) per method."""
        k = self.k if k is None else int(k)
        e = self.evidence
        rows = e[(e["role"] == HELD_OUT) & (e["k"] == k)]
        return dict(zip(rows["method"], rows["harm_share"].astype(float), strict=True))

    def reason(self) -> str:
        """The draft's reason: what was fitted and the out-of-time figures."""
        held = self.held_out.as_of
        fits = ", ".join(f"{o.as_of:%Y-%m-%d}" for o in self.origins if o.role == FIT)
        oot = self.out_of_time()
        best = max(BASELINES, key=lambda m: oot.get(m, 0.0))
        changed = ", ".join(
            f"{p.removeprefix('score_')} x{m:g}" for p, m in self.multipliers.items() if m != 1.0
        )
        return (
            f"adapt calibrate on this force's history up to {self.as_of:%Y-%m-%d}: part "
            f"multipliers on the live settings ({changed or 'none changed'}), searched to "
            f"maximise top-{self.k} capture of next-year harm as of {fits}. Out of time (as of "
            f"{held:%Y-%m-%d}, the year to {self.as_of:%Y-%m-%d}, not fitted on): top "
            f"{self.k} captured {oot.get(DRAFT, 0.0):.1%} of next-year harm, against "
            f"{oot.get(LIVE, 0.0):.1%} for the live settings and {oot.get(best, 0.0):.1%} for "
            f"the best baseline ({best}). In-sample (fitted) figure "
            f"{self.fitted_capture:.1%}, not to be judged by."
        )[:2000]


def origin_evidence(
    origin: Origin, draft: Settings, live: Settings, ks: Iterable[int]
) -> pd.DataFrame:
    """Capture at each K for the draft, the live settings, the baselines and oracles."""
    ks = list(ks)
    live_rankings = _method_rankings(rank(origin.features, live), origin.future, live)
    draft_rankings = _method_rankings(rank(origin.features, draft), origin.future, draft)
    rankings = {DRAFT: draft_rankings["score"], LIVE: live_rankings["score"]}
    rankings.update({m: live_rankings[m] for m in (*BASELINES, *ORACLES)})
    out = evaluate(rankings, origin.future, ks)
    out.insert(0, "role", origin.date.role)
    out.insert(0, "origin", origin.date.as_of.date())
    return out


def spread(evidence: pd.DataFrame) -> pd.DataFrame:
    """Mean, least and most harm share over the origins, per method and K."""
    g = evidence.groupby(["method", "k"], sort=False)["harm_share"]
    out = g.agg(mean="mean", min="min", max="max").reset_index()
    return out


def calibrate(
    history: History,
    as_of: object,
    live: Settings,
    k: int = DEFAULT_K,
    ks: Iterable[int] = DEFAULT_KS,
    multipliers: Iterable[float] = MULTIPLIERS,
    passes: int = 3,
    min_gain: float = MIN_GAIN,
    **meta: str,
) -> Calibration:
    """Fit the part multipliers on the fit origins and gather the evidence.

    ``live`` is the settings in force (the search starts from them and they are
    judged beside the draft); ``meta`` (name, version, author, reason) names
    the draft; the reason defaults to :meth:`Calibration.reason`."""
    end = pd.Timestamp(as_of).normalize()
    past = history_until(history, end)
    dates = rolling_origins(past, end)
    prepared = [prepare_origin(past, d, live) for d in dates]
    fit = [o for o in prepared if o.date.role == FIT]
    chosen, fitted = search(fit, k, multipliers, passes, min_gain)
    weights = np.array([chosen[p] for p in PARTS])
    min_score = _rescaled_min_score(live, fit[-1], weights)
    draft = scaled_settings(live, chosen)
    if min_score is not None and min_score != live.cohort.min_score:
        draft = draft.with_changes({"cohort": {"min_score": min_score}})
    ks = sorted({*map(int, ks), int(k)})
    evidence = pd.concat([origin_evidence(o, draft, live, ks) for o in prepared], ignore_index=True)
    result = Calibration(
        as_of=end,
        k=int(k),
        draft=draft,
        multipliers=chosen,
        fitted_capture=fitted,
        origins=dates,
        evidence=evidence,
        spread=spread(evidence),
    )
    meta = dict(meta)
    meta.setdefault("reason", result.reason())
    named = draft.with_changes({}, **meta)
    return Calibration(**{**result.__dict__, "draft": named})
