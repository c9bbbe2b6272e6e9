"""Incident facts: offence, crime status, DASH, injury, weapon, outcome, time of day.

Owns turning a career's severity levels into recorded incident facts, all
vectorised over the incidents of a chunk. The tables below are the
generator's claims about the data; the tests check the output against them:

* offence by severity level and phase (current partner, ex-partner, family),
  so that about 40% of incidents are non-crimes (mostly verbal arguments,
  child contact disputes, unwanted contact and some harassment);
* DASH grading by rank of a risk score, giving 75% standard / 18% medium /
  7% high where recorded (Leicestershire 2013);
* injury, weapon and outcome conditional on the offence (charge 27%,
  caution 13%, out-of-court 3% of crimes overall, more charges for serious
  offences), children present more often with current partners.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapt.core.spec import DASH_RISKS, INJURIES, OFFENCES, OUTCOMES

OFF = {name: i for i, name in enumerate(OFFENCES)}

# P(offence | level) for a current partner, an ex-partner and a family member.
_CURRENT = [
    {"verbal_argument": 0.62, "child_contact_dispute": 0.06, "unwanted_contact": 0.08,
     "harassment": 0.09, "criminal_damage": 0.08, "common_assault": 0.07},
    {"common_assault": 0.52, "criminal_damage": 0.16, "harassment": 0.10,
     "breach_of_bail": 0.07, "breach_of_order": 0.07, "coercive_control": 0.04,
     "stalking": 0.03, "threats_to_kill": 0.01},
    {"abh": 0.46, "coercive_control": 0.12, "strangulation": 0.12,
     "threats_to_kill": 0.11, "sexual_assault": 0.09, "stalking": 0.10},
    {"gbh": 0.42, "rape": 0.33, "attempted_murder": 0.10, "strangulation": 0.15},
]  # fmt: skip
_EX = [
    {"unwanted_contact": 0.36, "child_contact_dispute": 0.28, "verbal_argument": 0.14,
     "harassment": 0.22},
    {"harassment": 0.30, "breach_of_order": 0.22, "breach_of_bail": 0.10,
     "criminal_damage": 0.15, "common_assault": 0.17, "stalking": 0.06},
    {"stalking": 0.30, "abh": 0.35, "threats_to_kill": 0.20, "sexual_assault": 0.05,
     "coercive_control": 0.10},
    {"gbh": 0.50, "rape": 0.30, "attempted_murder": 0.20},
]  # fmt: skip
_FAMILY = [
    {"verbal_argument": 0.75, "criminal_damage": 0.12, "harassment": 0.08,
     "unwanted_contact": 0.05},
    {"common_assault": 0.55, "criminal_damage": 0.25, "harassment": 0.10,
     "breach_of_order": 0.05, "breach_of_bail": 0.05},
    {"abh": 0.60, "threats_to_kill": 0.25, "coercive_control": 0.15},
    {"gbh": 0.70, "attempted_murder": 0.10, "strangulation": 0.20},
]  # fmt: skip

# P(is_crime | offence): the rest are non-crime domestic incidents.
_CRIME_P = np.ones(len(OFFENCES))
for _name, _p in {
    "verbal_argument": 0.0,
    "child_contact_dispute": 0.0,
    "unwanted_contact": 0.15,
    "harassment": 0.7,
}.items():
    _CRIME_P[OFF[_name]] = _p

# P(injury none/minor/serious | offence), default none.
_INJURY = {
    "common_assault": (0.6, 0.4, 0.0), "abh": (0.0, 0.8, 0.2), "gbh": (0.0, 0.05, 0.95),
    "strangulation": (0.35, 0.55, 0.10), "sexual_assault": (0.7, 0.25, 0.05),
    "rape": (0.55, 0.35, 0.10), "attempted_murder": (0.05, 0.15, 0.80),
    "homicide": (0.0, 0.0, 1.0), "criminal_damage": (0.95, 0.05, 0.0),
}  # fmt: skip
_WEAPON_P = {
    "gbh": 0.4, "attempted_murder": 0.7, "homicide": 0.6, "threats_to_kill": 0.3,
    "abh": 0.15, "criminal_damage": 0.08, "strangulation": 0.02, "common_assault": 0.04,
}  # fmt: skip
SERIOUS = ("abh", "strangulation", "gbh", "threats_to_kill", "sexual_assault", "rape",
           "attempted_murder", "homicide")  # fmt: skip
# Outcome probabilities (arrest, charge, caution, community_resolution, nfa, none).
_OUT_NONCRIME = (0.03, 0.0, 0.0, 0.0, 0.12, 0.85)
_OUT_CRIME = (0.17, 0.22, 0.15, 0.04, 0.38, 0.04)
_OUT_SERIOUS = (0.15, 0.45, 0.06, 0.0, 0.32, 0.02)


def _table(rows: list[dict[str, float]]) -> np.ndarray:
    t = np.zeros((len(rows), len(OFFENCES)))
    for level, row in enumerate(rows):
        for name, p in row.items():
            t[level, OFF[name]] = p
        t[level] /= t[level].sum()
    return np.cumsum(t, axis=1)


_CUM = np.stack([_table(_CURRENT), _table(_EX), _table(_FAMILY)])  # (phase, level, offence)


def pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draw per row: ``cum`` (rows, k) cumulative probabilities."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)


def draw_offences(
    rng: np.random.Generator, level: np.ndarray, phase: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offence codes and is_crime from level (0–3) and phase (0 current, 1 ex, 2 family)."""
    offence = pick(_CUM[phase, level], rng.random(len(level)))
    is_crime = rng.random(len(level)) < _CRIME_P[offence]
    return offence.astype(np.int8), is_crime


def add_facts(rng: np.random.Generator, inc: pd.DataFrame) -> pd.DataFrame:
    """Add DASH, injury, weapon, children, outcome to incidents with offence/is_crime/level."""
    n = len(inc)
    off = inc["offence"].to_numpy()
    crime = inc["is_crime"].to_numpy()
    level = inc["level"].to_numpy()
    # DASH: rank a noisy risk score; top 7% high, next 18% medium (of recorded).
    risk = level + 0.2 * inc["cls"].to_numpy() + rng.normal(0.0, 0.9, n)
    pct = pd.Series(risk).rank(method="first", pct=True).to_numpy()
    dash = np.select([pct > 0.93, pct > 0.75], [2, 1], 0).astype(np.int8)
    dash[rng.random(n) < 0.12] = -1  # not recorded
    inj_cum = np.cumsum(np.array([_INJURY.get(o, (0.97, 0.03, 0.0)) for o in OFFENCES]), axis=1)
    injury = pick(inj_cum[off], rng.random(n)).astype(np.int8)
    injury[~crime] = 0
    weapon_p = np.array([_WEAPON_P.get(o, 0.01) for o in OFFENCES])
    weapon = rng.random(n) < weapon_p[off] * crime
    kids_p = np.where(inc["phase"].to_numpy() == 0, 0.38, 0.18)
    kids_p = np.where(off == OFF["child_contact_dispute"], 0.6, kids_p)
    children = rng.random(n) < kids_p
    serious = np.isin(off, [OFF[s] for s in SERIOUS])
    cums = np.cumsum(np.array([_OUT_NONCRIME, _OUT_CRIME, _OUT_SERIOUS]), axis=1)
    which = np.where(~crime, 0, np.where(serious, 2, 1))
    outcome = pick(cums[which], rng.random(n)).astype(np.int8)
    inc = inc.assign(dash=dash, injury=injury, weapon=weapon, children=children, outcome=outcome)
    return inc


def time_of_day_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Minute of day: DA calls peak in the evening and late night."""
    hour_w = np.array(
        [5, 4, 3, 2, 1.5, 1, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4, 4.5, 5, 5.5, 6, 7, 8, 8.5, 8.5, 8, 6.5]
    )
    hour = rng.choice(24, size=n, p=hour_w / hour_w.sum())
    return hour * 60 + rng.integers(0, 60, n)


VOCAB = {"dash": DASH_RISKS, "injury": INJURIES, "outcome": OUTCOMES, "offence": OFFENCES}
