"""Perpetrator careers: who abuses whom, how often, when and how badly.

Owns the behavioural core of the synthetic world, as arrays for one district
(chunk), with no names, addresses or recording noise:

* perpetrators in three latent classes (low, mid, high) giving the "power few"
  shape of the research (a few % of perpetrators cause most harm; about three
  quarters of victim–perpetrator pairs are seen only once);
* dyads (perpetrator, victim slot): intimate partners one after another for
  serial perpetrators, and family abuse against a parent or sibling;
* incidents per dyad with their times, separation (current → ex-partner),
  escalation patterns (frequency first then severity, severity only,
  frequency only, de-escalation) and a severity level 0–3 that later becomes
  an offence;
* counter-allegations (roles swapped, or both recorded as suspects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Latent perpetrator classes: low, mid and high (the "power few").
CLASS_P = np.array([0.79, 0.17, 0.04])
# Dyad escalation patterns.
PAT_NONE, PAT_FREQ, PAT_SEV, PAT_FREQ_SEV, PAT_DEESC = 0, 1, 2, 3, 4
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
        [1 + (u < 0.07) + (u < 0.012), np.minimum(rng.geometric(0.55, n), 5)],
        np.minimum(1 + rng.poisson(1.6, n), 7),
    )
    family = rng.random(n) < 0.16
    return pd.DataFrame(
        {
            "cls": cls.astype(np.int8),
            "n_dyads": n_dyads.astype(np.int64),
            "family": family,
            "effect": rng.normal(0.0, 0.3, n),
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
        [rng.geometric(0.95, n), rng.geometric(0.45, n)],
        np.minimum(heavy, 80),
    )
    return pd.DataFrame(
        {"perp": perp, "j": j, "cls": cls, "kind": kind.astype(np.int8), "n_inc": n_inc}
    )


def build_careers(rng: np.random.Generator, n_incidents: int, window_days: float) -> Careers:
    """Draw perpetrators and dyads until ``n_incidents`` incidents, then time them."""
    perps = _draw_perps(rng, max(50, int(n_incidents / 2.2)))
    dyads = _draw_dyads(rng, perps)
    while dyads["n_inc"].sum() < n_incidents:  # rare: top up with more perpetrators
        more = _draw_perps(rng, max(50, int(n_incidents / 4)))
        more.index += len(perps)
        perps = pd.concat([perps, more])
        dyads = pd.concat([dyads, _draw_dyads(rng, more)], ignore_index=True)
    # Cut at exactly n_incidents: keep whole dyads before the cut, trim the last.
    before = np.cumsum(dyads["n_inc"].to_numpy()) - dyads["n_inc"].to_numpy()
    dyads = dyads[before < n_incidents].copy()
    last = dyads.index[-1]
    dyads.loc[last, "n_inc"] = n_incidents - before[len(dyads) - 1]
    perps = perps.loc[: dyads["perp"].max()].copy()
    perps["n_dyads"] = np.bincount(dyads["perp"].to_numpy(), minlength=len(perps))
    dyads = _time_dyads(rng, perps, dyads.reset_index(drop=True), window_days)
    incidents = _expand_incidents(rng, perps, dyads)
    return Careers(perps=perps, dyads=dyads, incidents=incidents)


def _time_dyads(
    rng: np.random.Generator, perps: pd.DataFrame, dyads: pd.DataFrame, window_days: float
) -> pd.DataFrame:
    n = len(dyads)
    n_inc = dyads["n_inc"].to_numpy()
    cls = dyads["cls"].to_numpy()
    perp = dyads["perp"].to_numpy()
    mean_gap = np.where(cls == 2, 28.0, 50.0)
    gap = mean_gap * rng.lognormal(0.0, 0.6, n)
    span = np.minimum((n_inc - 1) * gap, 0.9 * window_days)
    pre = np.where(dyads["j"].to_numpy() == 0, 0.0, rng.exponential(150.0, n))
    end_offset = group_cumsum(pre + span, perp)
    career = np.bincount(perp, weights=pre + span, minlength=len(perps))
    scale = np.minimum(1.0, (window_days - 1.0) / np.maximum(career, 1e-9))
    start = rng.random(len(perps)) * np.maximum(window_days - 1.0 - career * scale, 0.0)
    dyads["start"] = start[perp] + (end_offset - span) * scale[perp]
    dyads["span"] = span * scale[perp]
    # Patterns only make sense on dyads with enough incidents to show a trend.
    eligible = (n_inc >= 4) & (cls >= 1)
    pattern = rng.choice(5, size=n, p=[0.25, 0.2, 0.15, 0.2, 0.2])
    dyads["pattern"] = np.where(eligible, pattern, PAT_NONE).astype(np.int8)
    ipv = dyads["kind"].to_numpy() == KIND_IPV
    dyads["separation"] = np.where(ipv, rng.uniform(0.3, 1.3, n), 9.0)
    dyads["cohabit"] = ipv & (rng.random(n) < 0.45)
    dyads["counter"] = ipv & (n_inc >= 2) & (rng.random(n) < 0.12)
    return dyads


def _expand_incidents(
    rng: np.random.Generator, perps: pd.DataFrame, dyads: pd.DataFrame
) -> pd.DataFrame:
    n_inc = dyads["n_inc"].to_numpy()
    dyad = np.repeat(np.arange(len(dyads)), n_inc)
    m = len(dyad)
    pattern = dyads["pattern"].to_numpy()[dyad]
    u = rng.random(m)
    power = np.select(
        [np.isin(pattern, (PAT_FREQ, PAT_FREQ_SEV)), pattern == PAT_DEESC], [1 / 2.5, 2.5], 1.0
    )
    x = u**power
    order = np.lexsort((x, dyad))
    x = x[order]
    k = group_rank(dyad)
    x[k == 0] = 0.0  # the first incident opens the dyad
    n_d = n_inc[dyad]
    progress = np.where(n_d > 1, k / np.maximum(n_d - 1, 1), 0.0)
    t = dyads["start"].to_numpy()[dyad] + x * dyads["span"].to_numpy()[dyad]
    single = n_d == 1
    sep = dyads["separation"].to_numpy()[dyad]
    ex = np.where(single, rng.random(m) < 0.25, x > sep)
    ex &= dyads["kind"].to_numpy()[dyad] == KIND_IPV
    # Severity: class base + perpetrator effect + pattern trend + noise.
    perp = dyads["perp"].to_numpy()[dyad]
    cls = dyads["cls"].to_numpy()[dyad]
    score = np.array([0.35, 0.95, 1.6])[cls] + perps["effect"].to_numpy()[perp]
    score += np.select(
        [pattern == PAT_SEV, pattern == PAT_FREQ_SEV, pattern == PAT_DEESC],
        [
            1.6 * (progress - 0.5),
            2.6 * np.maximum(progress - 0.5, 0.0) - 0.35,
            -1.4 * (progress - 0.5),
        ],
        0.0,
    )
    score += rng.normal(0.0, 0.75, m)
    level = np.clip(np.floor(score), 0, 3).astype(np.int8)
    # Counter-allegations on later incidents of a counter dyad.
    counter = dyads["counter"].to_numpy()[dyad] & (k >= 1)
    v = rng.random(m)
    layout = np.where(
        counter, np.select([v < 0.35, v < 0.55], [LAYOUT_SWAPPED, LAYOUT_BOTH_SUSPECTS], 0), 0
    )
    has = np.bincount(dyad, weights=layout > 0, minlength=len(dyads)) > 0
    force = counter & (k == n_d - 1) & ~has[dyad]
    layout[force] = LAYOUT_SWAPPED
    level = np.where(layout > 0, np.minimum(level, 1), level).astype(np.int8)
    inc = pd.DataFrame(
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
    return inc.sort_values(["t_day", "dyad", "k"], kind="stable").reset_index(drop=True)
