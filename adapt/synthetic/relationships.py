"""Perpetrator careers: who abuses whom, how often, when and how badly.

Owns the behavioural core of the synthetic world, as arrays for one district
(chunk), with no names, addresses or recording noise. It is built to be as
hard as real life (issue 13 item 5; the figures are measured by
:mod:`adapt.synthetic.research` and ``benchmarks/generator_figures.py``):

* perpetrators in three latent classes (low, mid, high); harm comes from a
  "power few" of grave pairs (under 2% of pairs cause 80% of the harm, as in
  Suffolk), and about three quarters of pairs are seen only once;
* dyads (perpetrator, victim slot): intimate partners one after another for
  serial perpetrators (a later partner is more often a grave pair), and
  family abuse against a parent or sibling;
* careers on an open timeline that starts before the extract's window and
  runs past it, with heavy-tailed gaps between incidents and months to years
  between partners, so the window sees a random slice of each career and
  who is seen next year is only partly foreseeable from history (the
  published AUC for "any further incident" is about 0.75);
* a severity level 0–3 per incident (later an offence) that tends to fall
  across a pair's incidents after the first call (which is often the worst,
  so most of the highest-harm pairs are new to police); escalation patterns
  (frequency first then severity, severity only, frequency only,
  de-escalation), severity escalation rare and mostly among the grave few;
* counter-allegations (roles swapped, or both recorded as suspects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Latent perpetrator classes: low, mid and high (the "power few").
CLASS_P = np.array([0.79, 0.17, 0.04])
CLASS_BASE = (0.85, 0.95, 1.0)  # severity score base by class (level = floor of the score)
GAP_SIGMA = 1.7  # spread of the log gap between a pair's incidents
GRAVITY_SD = 0.15  # spread of a pair's own gravity
FIRST_BUMP = 0.3  # severity added to a pair's first incident
DECLINE = 1.5  # severity lost from the first to the last incident
SEVERE_FIRST_P = (0.001, 0.005, 0.01)  # by class: first incident at the top level
EFFECT_SD = 0.15  # spread of a perpetrator's own severity
NOISE_SD = 0.35  # incident-to-incident spread of the severity score
GRAVE_P, GRAVE_SHIFT = (0.001, 0.01, 0.06), 2.6  # by class: share of grave pairs; their shift
GRAVE_P_LATER = (0.003, 0.05, 0.4)  # the same for a later partner (serial abusers grow worse)
GRAVE_LATE_P = 0.15  # share of grave pairs that turn grave only part-way through
LOW_MORE = (0.24, 0.075)  # low class: chance of a second and a third partner
LOW_STOP = 0.91  # low class: chance that a pair's incident is its last
PRE_MEDIAN, PRE_SIGMA = 450.0, 1.45  # pause before a new partner (days, log spread)
# Dyad escalation patterns.
PAT_NONE, PAT_FREQ, PAT_SEV, PAT_FREQ_SEV, PAT_DEESC = 0, 1, 2, 3, 4
PATTERN_P_MID = (0.35, 0.35, 0.03, 0.02, 0.25)  # none, freq, sev, freq+sev, de-escalation
PATTERN_P_HIGH = (0.3, 0.3, 0.08, 0.07, 0.25)
PATTERN_NAMES = {
    PAT_FREQ: ("frequency_escalation",),
    PAT_SEV: ("severity_escalation",),
    PAT_FREQ_SEV: ("frequency_escalation", "severity_escalation"),
    PAT_DEESC: ("de_escalation",),
}
# Dyad kinds and incident role layouts.
KIND_IPV, KIND_FAMILY = 0, 1
LAYOUT_NORMAL, LAYOUT_SWAPPED, LAYOUT_BOTH_SUSPECTS = 0, 1, 2


@dataclass
class Careers:
    """Perpetrators, dyads and incidents of one district (chunk)."""

    perps: pd.DataFrame  # index: local perpetrator number
    dyads: pd.DataFrame  # index: local dyad number
    incidents: pd.DataFrame  # one row per incident, sorted by time


def group_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum restarting at each new value of sorted ``groups``."""
    if len(values) == 0:
        return np.asarray(values).copy()
    cs = np.cumsum(values)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    offset = np.repeat(cs[starts] - values[starts], np.diff(np.r_[starts, len(values)]))
    return cs - offset


def group_rank(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal sorted ``groups``."""
    return group_cumsum(np.ones(len(groups), dtype=np.int64), groups) - 1


def _draw_perps(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cls = rng.choice(3, size=n, p=CLASS_P)
    u = rng.random(n)
    n_dyads = np.select(
        [cls == 0, cls == 1],
        [1 + (u < LOW_MORE[0]) + (u < LOW_MORE[1]), np.minimum(rng.geometric(0.55, n), 5)],
        np.minimum(1 + rng.poisson(1.6, n), 7),
    )
    family = rng.random(n) < 0.16
    return pd.DataFrame(
        {
            "cls": cls.astype(np.int8),
            "n_dyads": n_dyads.astype(np.int64),
            "family": family,
            "effect": rng.normal(0.0, EFFECT_SD, n),
        }
    )


def _draw_dyads(rng: np.random.Generator, perps: pd.DataFrame) -> pd.DataFrame:
    at = np.repeat(np.arange(len(perps)), perps["n_dyads"].to_numpy())
    perp = perps.index.to_numpy()[at]
    j = group_rank(perp)
    cls = perps["cls"].to_numpy()[at]
    n = len(perp)
    kind = np.where((j == 0) & perps["family"].to_numpy()[at], KIND_FAMILY, KIND_IPV)
    heavy = 1 + np.floor(rng.lognormal(np.log(7.0), 0.75, n)).astype(np.int64)
    n_inc = np.select(
        [cls == 0, cls == 1],
        [rng.geometric(LOW_STOP, n), rng.geometric(0.45, n)],
        np.minimum(heavy, 80),
    )
    return pd.DataFrame(
        {"perp": perp, "j": j, "cls": cls, "kind": kind.astype(np.int8), "n_inc": n_inc}
    )


def _draw(
    rng: np.random.Generator, n_perps: int, first: int, window_days: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A batch of ``n_perps`` careers (perpetrators numbered from ``first``), their
    dyads and all their incidents on the open timeline (days from the window start)."""
    perps = _draw_perps(rng, n_perps)
    perps.index += first
    dyads = _time_dyads(rng, perps, _draw_dyads(rng, perps), window_days)
    return perps, dyads, _expand_incidents(rng, perps, dyads)


def build_careers(rng: np.random.Generator, n_incidents: int, window_days: float) -> Careers:
    """Draw careers on an open timeline, keep the incidents inside the window,
    until ``n_incidents`` incidents; then number what was kept.

    Careers start before the window and run on after it, so the extract sees
    a slice of each: some people are already known when it begins, some stop
    just before its end, some come back after years. The cut keeps whole
    perpetrators in draw order (they are drawn independently) and trims the
    last one's latest incidents."""
    batches = []
    kept, first = 0, 0
    while kept < n_incidents:  # a second batch is rare: draws are sized to the target
        size = max(50, int((n_incidents - kept) / 1.6))
        perps, dyads, inc = _draw(rng, size, first, window_days)
        dyads.index += sum(len(b[1]) for b in batches)
        inc["dyad"] += sum(len(b[1]) for b in batches)
        inside = (inc["t_day"] >= 0.0) & (inc["t_day"] < window_days)
        inc = inc[inside.to_numpy()]
        batches.append((perps, dyads, inc))
        kept += len(inc)
        first += size
    perps = pd.concat([b[0] for b in batches])
    dyads = pd.concat([b[1] for b in batches])
    inc = pd.concat([b[2] for b in batches], ignore_index=True)
    order = np.lexsort((inc["k"], inc["dyad"], inc["t_day"], inc["perp"]))[:n_incidents]
    inc = inc.iloc[order]
    # Number the kept perpetrators and dyads 0.. in draw order.
    used_p = np.unique(inc["perp"].to_numpy())
    used_d = np.unique(inc["dyad"].to_numpy())
    perps = perps.loc[used_p].reset_index(drop=True)
    dyads = dyads.loc[used_d].reset_index(drop=True)
    dyads["perp"] = np.searchsorted(used_p, dyads["perp"].to_numpy())
    inc["perp"] = np.searchsorted(used_p, inc["perp"].to_numpy())
    inc["dyad"] = np.searchsorted(used_d, inc["dyad"].to_numpy())
    perps["n_dyads"] = np.bincount(dyads["perp"].to_numpy(), minlength=len(perps))
    dyads["n_inc"] = np.bincount(inc["dyad"].to_numpy(), minlength=len(dyads))
    order = np.lexsort((inc["k"], inc["dyad"], inc["t_day"]))
    inc = inc.iloc[order].reset_index(drop=True)
    return Careers(perps=perps, dyads=dyads, incidents=inc)


def _time_dyads(
    rng: np.random.Generator, perps: pd.DataFrame, dyads: pd.DataFrame, window_days: float
) -> pd.DataFrame:
    """When each dyad starts and how long it lasts, on the open timeline.

    A career is its dyads one after another, with a pause of months to years
    before each new partner; it starts anywhere from a whole career before the
    window to the window's end, so the window sees a random slice of it."""
    n = len(dyads)
    n_inc = dyads["n_inc"].to_numpy()
    cls = dyads["cls"].to_numpy()
    perp = dyads["perp"].to_numpy() - perps.index[0]
    mean_gap = np.where(cls == 2, 28.0, 50.0) * rng.lognormal(0.0, 0.6, n)
    # Gaps between incidents are heavy-tailed: quiet spells of months, then a burst.
    k = group_rank(np.repeat(np.arange(n), n_inc))
    gaps = np.repeat(mean_gap, n_inc) * rng.lognormal(-0.5 * GAP_SIGMA**2, GAP_SIGMA, len(k))
    gaps[k == 0] = 0.0
    dyads["gap"] = mean_gap
    span = np.bincount(np.repeat(np.arange(n), n_inc), weights=gaps, minlength=n)
    pre = np.where(dyads["j"].to_numpy() == 0, 0.0, rng.lognormal(np.log(PRE_MEDIAN), PRE_SIGMA, n))
    end_offset = group_cumsum(pre + span, perp)
    career = np.bincount(perp, weights=pre + span, minlength=len(perps))
    start = rng.uniform(-career, window_days)
    dyads["start"] = start[perp] + end_offset - span
    dyads["span"] = span
    # Patterns only make sense on dyads with enough incidents to show a trend.
    # Severity escalation is rare and mostly among the high-harm few; falling
    # severity and rising frequency are common (domain.md: harm per incident
    # fell across a dyad's incidents while frequency rose).
    eligible = (n_inc >= 4) & (cls >= 1)
    pattern = np.where(
        cls == 2,
        rng.choice(5, size=n, p=PATTERN_P_HIGH),
        rng.choice(5, size=n, p=PATTERN_P_MID),
    )
    dyads["pattern"] = np.where(eligible, pattern, PAT_NONE).astype(np.int8)
    ipv = dyads["kind"].to_numpy() == KIND_IPV
    dyads["separation"] = np.where(ipv, rng.uniform(0.3, 1.3, n), 9.0)
    dyads["cohabit"] = ipv & (rng.random(n) < 0.45)
    dyads["counter"] = ipv & (n_inc >= 2) & (rng.random(n) < 0.12)
    # A pair's own gravity: most pairs never go beyond arguments and pushes.
    dyads["gravity"] = rng.normal(0.0, GRAVITY_SD, n)
    # The grave few: pairs whose violence is serious, from the start or from a
    # point on (the rare severity escalation of the research is mostly theirs).
    later = dyads["j"].to_numpy() >= 1
    grave_p = np.where(later, np.array(GRAVE_P_LATER)[cls], np.array(GRAVE_P)[cls])
    dyads["grave"] = rng.random(n) < grave_p
    dyads["onset"] = np.where(rng.random(n) < GRAVE_LATE_P, rng.uniform(0.2, 0.9, n), 0.0)
    # A few pairs come to police for the first time with serious violence.
    dyads["severe_first"] = rng.random(n) < np.array(SEVERE_FIRST_P)[cls]
    return dyads


def _expand_incidents(
    rng: np.random.Generator, perps: pd.DataFrame, dyads: pd.DataFrame
) -> pd.DataFrame:
    n_inc = dyads["n_inc"].to_numpy()
    dyad_local = np.repeat(np.arange(len(dyads)), n_inc)
    dyad = dyads.index.to_numpy()[dyad_local]
    m = len(dyad)
    k = group_rank(dyad_local)
    pattern = dyads["pattern"].to_numpy()[dyad_local]
    n_d = n_inc[dyad_local]
    progress = np.where(n_d > 1, k / np.maximum(n_d - 1, 1), 0.0)
    # Times: heavy-tailed gaps; frequency escalation shortens them as the dyad goes on.
    gap = dyads["gap"].to_numpy()[dyad_local] * rng.lognormal(-0.5 * GAP_SIGMA**2, GAP_SIGMA, m)
    freq = np.isin(pattern, (PAT_FREQ, PAT_FREQ_SEV))
    gap = np.where(freq, gap * (1.8 - 1.6 * progress), gap)
    gap[k == 0] = 0.0
    offset = group_cumsum(gap, dyad_local)
    span = dyads["span"].to_numpy()[dyad_local]
    last = np.bincount(
        dyad_local, weights=np.where(k == n_d - 1, offset, 0.0), minlength=len(dyads)
    )
    x = np.where(n_d > 1, offset / np.maximum(last[dyad_local], 1e-9), 0.0)
    t = dyads["start"].to_numpy()[dyad_local] + x * span
    single = n_d == 1
    sep = dyads["separation"].to_numpy()[dyad_local]
    ex = np.where(single, rng.random(m) < 0.25, x > sep)
    ex &= dyads["kind"].to_numpy()[dyad_local] == KIND_IPV
    # Severity: class base + perpetrator effect + pair gravity + pattern trend + noise.
    # Harm per incident falls on average after the first call (the incident that
    # brings police in is often the worst); severity escalation is the rare pattern.
    perp = dyads["perp"].to_numpy()[dyad_local]
    cls = dyads["cls"].to_numpy()[dyad_local]
    score = np.array(CLASS_BASE)[cls] + perps["effect"].to_numpy()[perp - perps.index[0]]
    score += dyads["gravity"].to_numpy()[dyad_local]
    grave = dyads["grave"].to_numpy()[dyad_local]
    score += GRAVE_SHIFT * (grave & (progress >= dyads["onset"].to_numpy()[dyad_local]))
    score += np.where(k == 0, FIRST_BUMP, -DECLINE * progress)
    score += np.select(
        [pattern == PAT_SEV, pattern == PAT_FREQ_SEV, pattern == PAT_DEESC],
        [
            1.6 * (progress - 0.5),
            2.6 * np.maximum(progress - 0.5, 0.0) - 0.35,
            -1.4 * (progress - 0.5),
        ],
        0.0,
    )
    score += rng.normal(0.0, NOISE_SD, m)
    severe = dyads["severe_first"].to_numpy()[dyad_local] & (k == 0)
    score = np.where(severe, np.maximum(score, 3.0), score)
    level = np.clip(np.floor(score), 0, 3).astype(np.int8)
    # Counter-allegations on later incidents of a counter dyad.
    counter = dyads["counter"].to_numpy()[dyad_local] & (k >= 1)
    v = rng.random(m)
    layout = np.where(
        counter, np.select([v < 0.35, v < 0.55], [LAYOUT_SWAPPED, LAYOUT_BOTH_SUSPECTS], 0), 0
    )
    has = np.bincount(dyad_local, weights=layout > 0, minlength=len(dyads)) > 0
    force = counter & (k == n_d - 1) & ~has[dyad_local]
    layout[force] = LAYOUT_SWAPPED
    level = np.where(layout > 0, np.minimum(level, 1), level).astype(np.int8)
    return pd.DataFrame(
        {
            "dyad": dyad,
            "perp": perp,
            "k": k,
            "t_day": t,
            "ex": ex,
            "level": level,
            "layout": layout.astype(np.int8),
        }
    )
