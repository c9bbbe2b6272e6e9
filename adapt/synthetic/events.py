"""Consequences of incidents: homicides, custody, MARAC referrals, management.

Owns the events that follow incidents in one district, vectorised:

* homicides are placed only on an incident that is the last appearance of
  both the victim and the perpetrator (the victim dies; the perpetrator is
  remanded and stays in custody), so nobody appears after death;
* custody after a charged serious offence fills the gap before the person's
  next appearance (shortened if need be), so nobody appears while in custody;
* MARAC referrals: police referrals after high-DASH incidents (a few after
  medium), repeats (any new incident between the same pair within 12 months
  of the last referral), repeats missed while the flag was not yet on the
  police system (monthly MARAC era: flags weeks after referral; daily era:
  same or next day), and referrals from IDVA, health and other agencies with
  no police incident;
* management: IOM for frequent perpetrators, MAPPA after release for serious
  violent or sexual offenders, in custody, deceased for homicide victims.

Days are integers counted from 1970-01-01; a missing date is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapt.core.spec import MANAGEMENT_STATUSES, OUTCOMES
from adapt.synthetic.incidents import OFF
from adapt.synthetic.relationships import KIND_IPV, LAYOUT_NORMAL, group_rank

AGENCIES = ("Police", "IDVA", "Health", "Children's Services", "Housing", "Probation")
_AGENCY_P = np.array([0.0, 0.45, 0.25, 0.18, 0.08, 0.04])
STATUS = {s: i for i, s in enumerate(MANAGEMENT_STATUSES)}
CHARGE = OUTCOMES.index("charge")
# (probability of custody after a charge, sentence range in days) by offence.
_CUSTODY = {
    "abh": (0.35, 90, 540), "strangulation": (0.5, 180, 900), "threats_to_kill": (0.35, 120, 700),
    "sexual_assault": (0.5, 180, 900), "gbh": (0.8, 500, 2000), "rape": (0.9, 1800, 3650),
    "attempted_murder": (1.0, 3000, 6000), "homicide": (1.0, 5000, 8000),
}  # fmt: skip
MAPPA_OFFENCES = ("gbh", "rape", "sexual_assault", "attempted_murder", "homicide")


def last_position(rows: pd.DataFrame, n_persons: int) -> np.ndarray:
    """Per person, the position of the last incident they appear on (-1 if none)."""
    last = np.full(n_persons, -1, dtype=np.int64)
    np.maximum.at(last, rows["pid"].to_numpy(), rows["inc"].to_numpy())
    return last


def place_homicides(
    rng: np.random.Generator, inc: pd.DataFrame, rows: pd.DataFrame, n_persons: int, rate: float
) -> np.ndarray:
    """Turn a few top-level incidents into homicides; return their positions."""
    last = last_position(rows, n_persons)
    pos = np.arange(len(inc))
    cand = (
        (inc["level"].to_numpy() == 3)
        & (inc["layout"].to_numpy() == LAYOUT_NORMAL)
        & (last[inc["victim"].to_numpy()] == pos)
        & (last[inc["perp"].to_numpy()] == pos)
    )
    cand_pos = np.flatnonzero(cand)
    k = min(int(rng.binomial(len(inc), rate)), len(cand_pos))
    return np.sort(rng.choice(cand_pos, size=k, replace=False))


def custody(
    rng: np.random.Generator, inc: pd.DataFrame, rows: pd.DataFrame, end_day: int
) -> pd.DataFrame:
    """One custody spell per person at most, after a charged serious offence."""
    r = rows.sort_values(["pid", "inc"], kind="stable")
    pid = r["pid"].to_numpy()
    at = r["inc"].to_numpy()
    same_next = np.r_[pid[1:] == pid[:-1], False]
    next_inc = np.where(same_next, np.r_[at[1:], 0], -1)
    day = inc["day"].to_numpy()
    off = inc["offence"].to_numpy()[at]
    p_table = np.zeros(len(OFF))
    lo = np.zeros(len(OFF))
    hi = np.ones(len(OFF))
    for name, (p, a, b) in _CUSTODY.items():
        p_table[OFF[name]], lo[OFF[name]], hi[OFF[name]] = p, a, b
    charged = (inc["outcome"].to_numpy()[at] == CHARGE) & (
        r["true_role"].to_numpy() == "perpetrator"
    )
    go = charged & (rng.random(len(r)) < p_table[off])
    start = day[at] + 1
    planned = start + np.floor(rng.uniform(lo[off], hi[off])).astype(np.int64)
    next_day = np.where(next_inc >= 0, day[np.maximum(next_inc, 0)], np.iinfo(np.int64).max)
    stop = np.minimum(planned, next_day - rng.integers(3, 30, len(r)))
    ok = go & (stop - start >= 14) & (start <= end_day)
    c = pd.DataFrame(
        {"pid": pid[ok], "from_day": start[ok], "to_day": stop[ok], "offence": off[ok]}
    )
    c = c.drop_duplicates("pid", keep="first").reset_index(drop=True)
    c["to_day"] = np.where(c["to_day"] > end_day, np.nan, c["to_day"].astype(float))
    return c


def marac(
    rng: np.random.Generator,
    inc: pd.DataFrame,
    dyads: pd.DataFrame,
    dyad_victim: np.ndarray,
    switch_day: int,
    end_day: int,
) -> pd.DataFrame:
    """MARAC referrals (police, repeats and other agencies), sorted by referral date."""
    o = np.lexsort((inc["day"].to_numpy(), inc["dyad"].to_numpy()))
    d = inc.iloc[o]
    dyad, day = d["dyad"].to_numpy(), d["day"].to_numpy()
    dash, n = d["dash"].to_numpy(), len(d)
    u = rng.random(n)
    begin = ((dash == 2) & (u < 0.85)) | ((dash == 1) & (u < 0.06))
    begin &= d["layout"].to_numpy() == LAYOUT_NORMAL
    linked = np.r_[False, (dyad[1:] == dyad[:-1]) & (np.diff(day) <= 365)]
    seg = np.cumsum(~linked)
    chain = pd.Series(begin).groupby(seg).cummax().to_numpy()
    prev_chain = np.r_[False, chain[:-1]] & linked
    referred = chain
    ref_day = np.minimum(day + rng.choice(4, n, p=[0.5, 0.3, 0.15, 0.05]), end_day)
    meeting, flagged = _meeting_and_flag(rng, ref_day, switch_day)
    prev_flag = np.r_[np.inf, flagged[:-1]]
    # A repeat is referred only if recognised: never before the flag is on
    # (so the monthly era's late flags miss many), and then about half the time.
    # Calibrated so repeats run ~23% of referrals in the monthly era and ~60%
    # in the daily era (LLR: ~30% before, 51% after; SafeLives 28-40%).
    recognised = rng.random(n) < 0.45
    missed = prev_chain & ((ref_day < prev_flag) | ~recognised)
    keep = referred & ~missed
    police = pd.DataFrame(
        {
            "dyad": dyad[keep],
            "referral_day": ref_day[keep],
            "meeting_day": meeting[keep],
            "flagged_day": flagged[keep],
            "agency": 0,
            "inc": o[keep],
        }
    )
    # Referrals by other agencies, with no police incident behind them.
    first = pd.Series(day).groupby(dyad).min()
    last = pd.Series(day).groupby(dyad).max()
    ipv = np.flatnonzero(dyads["kind"].to_numpy() == KIND_IPV)
    ipv = ipv[np.isin(ipv, first.index.to_numpy())]
    k = min(round(0.2 * len(police)) + 1, len(ipv))
    w = np.where(dyads["cls"].to_numpy()[ipv] >= 1, 3.0, 1.0)
    pick = rng.choice(ipv, size=k, replace=False, p=w / w.sum()) if k else ipv[:0]
    died = dyads["homicide"].to_numpy()[pick]
    lo, hi = first.loc[pick].to_numpy(), last.loc[pick].to_numpy()
    hi = np.where(died, hi, hi + 60)
    rd = np.minimum(lo + np.floor(rng.random(k) * (hi - lo + 1)).astype(np.int64), end_day)
    m2, f2 = _meeting_and_flag(rng, rd, switch_day)
    agency = 1 + (rng.random(k)[:, None] > np.cumsum(_AGENCY_P[1:])[None, :-1]).sum(axis=1)
    others = pd.DataFrame(
        {
            "dyad": pick,
            "referral_day": rd,
            "meeting_day": m2,
            "flagged_day": f2,
            "agency": agency,
            "inc": -1,
        }
    )
    ref = pd.concat([police, others], ignore_index=True)
    for col in ("meeting_day", "flagged_day"):
        ref[col] = np.where(ref[col] > end_day, np.nan, ref[col])
    ref.loc[rng.random(len(ref)) < 0.03, "flagged_day"] = np.nan
    ref["victim"] = dyad_victim[ref["dyad"].to_numpy()]
    ref["perp"] = dyads["perp"].to_numpy()[ref["dyad"].to_numpy()]
    ref["perp_known"] = rng.random(len(ref)) < np.where(ref["agency"] == 0, 0.95, 0.7)
    ref = ref.sort_values(["dyad", "referral_day"], kind="stable")
    gap = np.diff(ref["referral_day"].to_numpy(), prepend=-(10**6))
    same = np.r_[False, ref["dyad"].to_numpy()[1:] == ref["dyad"].to_numpy()[:-1]]
    ref["repeat"] = same & (gap <= 365)
    return ref.sort_values(["referral_day", "dyad"], kind="stable").reset_index(drop=True)


def _meeting_and_flag(
    rng: np.random.Generator, ref_day: np.ndarray, switch_day: int
) -> tuple[np.ndarray, np.ndarray]:
    n = len(ref_day)
    monthly = ref_day < switch_day
    meeting = ref_day + np.where(monthly, rng.integers(7, 36, n), rng.integers(0, 3, n))
    flagged = np.where(monthly, meeting + rng.integers(2, 22, n), ref_day + rng.integers(0, 2, n))
    return meeting.astype(float), flagged.astype(float)


def management(
    rng: np.random.Generator,
    inc: pd.DataFrame,
    rows: pd.DataFrame,
    spells: pd.DataFrame,
    homicides: np.ndarray,
    perps: pd.DataFrame,
    end_day: int,
) -> pd.DataFrame:
    """Management records: IOM, MAPPA, in custody and deceased."""
    out = [
        pd.DataFrame(
            {
                "pid": spells["pid"],
                "status": STATUS["in_custody"],
                "from_day": spells["from_day"].astype(float),
                "to_day": spells["to_day"],
            }
        ),
        pd.DataFrame(
            {
                "pid": inc["victim"].to_numpy()[homicides],
                "status": STATUS["deceased"],
                "from_day": inc["day"].to_numpy()[homicides].astype(float),
                "to_day": np.nan,
            }
        ),
    ]
    pr = rows[rows["true_role"] == "perpetrator"]
    nth = group_rank(pr["pid"].to_numpy()) if pr["pid"].is_monotonic_increasing else None
    if nth is None:
        pr = pr.sort_values(["pid", "inc"], kind="stable")
        nth = group_rank(pr["pid"].to_numpy())
    third = pr[nth == 2]
    cls = perps["cls"].to_numpy()[third["pid"].to_numpy()]
    pick = (cls >= 1) & (rng.random(len(third)) < 0.35)
    start = inc["day"].to_numpy()[third["inc"].to_numpy()[pick]] + rng.integers(14, 91, pick.sum())
    stop = start + rng.integers(180, 721, len(start))
    stop = np.where((rng.random(len(start)) < 0.5) & (stop <= end_day), stop, np.nan)
    ok = start <= end_day
    out.append(
        pd.DataFrame(
            {
                "pid": third["pid"].to_numpy()[pick][ok],
                "status": STATUS["iom"],
                "from_day": start[ok].astype(float),
                "to_day": stop[ok],
            }
        )
    )
    serious = np.isin(spells["offence"].to_numpy(), [OFF[o] for o in MAPPA_OFFENCES])
    rel = spells[serious & spells["to_day"].notna().to_numpy() & (rng.random(len(spells)) < 0.7)]
    m_to = rel["to_day"].to_numpy() + rng.integers(365, 1096, len(rel))
    out.append(
        pd.DataFrame(
            {
                "pid": rel["pid"].to_numpy(),
                "status": STATUS["mappa"],
                "from_day": rel["to_day"].to_numpy(),
                "to_day": np.where(m_to <= end_day, m_to, np.nan),
            }
        )
    )
    m = pd.concat(out, ignore_index=True)
    return m.sort_values(["from_day", "pid", "status"], kind="stable").reset_index(drop=True)
