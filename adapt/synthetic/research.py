"""The research figures of the synthetic world, measured on its truth.

Owns the measurements that say whether the generator is "as hard as real
life" (issue 13 item 5; sources in ``../shared/domain.md``):

* :func:`concentration`: the share of victim–perpetrator pairs that cause 80%
  of the harm (Suffolk: under 2%; Bland and Ariel 2015), the share of pairs
  seen only once (Suffolk: 76% never called again), and the share of
  perpetrators causing 90% of two years' harm (Thames Valley: 3%; Barnham,
  Barnes and Sherman 2017);
* :func:`unseen_high_harm`: of the highest-harm pairs, the share with no
  earlier police contact before their first serious incident (research: more
  than half), and the share of next year's harm from people never seen before;
* :func:`severity_course`: harm per incident across a pair's incidents (falls
  on average), how rare severity escalation is, and that frequency rises more
  often than severity does;
* :func:`reoffending_auc`: how well history predicts "any incident next year"
  on true identities (a quick proxy for the learned model's AUC, published
  about 0.75 on real data).

Everything works on :func:`true_incidents`: the districts exactly as
:func:`adapt.synthetic.generate` simulates them (same seeds, same chunks),
before any recording noise, so it needs no files and no database.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from adapt.core.harm import load_harm_table
from adapt.core.spec import OFFENCES
from adapt.synthetic.district import build_district
from adapt.synthetic.relationships import LAYOUT_NORMAL

SERIOUS_DAYS = 365.0  # violence with injury and above (the default serious-harm threshold)


def true_incidents(
    seed: int,
    incidents: int,
    years: float = 4.0,
    end_date: date = date(2026, 10, 31),
    chunk_incidents: int = 100_000,
) -> pd.DataFrame:
    """The true incidents of a generated force: one row per incident with
    ``day`` (days since 1970), ``dyad``, ``perp``, ``victim`` (ids unique across
    chunks), ``k`` (position in the pair), ``level``, ``layout`` and ``harm``
    (CHI days). The same worlds :func:`adapt.synthetic.generate` writes for
    this seed and size (each chunk's district is drawn first from its own
    seed, before anything is written)."""
    harm_table = load_harm_table()
    end_day = int(np.datetime64(end_date.isoformat(), "D").astype(np.int64))
    n_chunks = -(-incidents // chunk_incidents)
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    frames = []
    done = 0
    for chunk, ss in enumerate(seeds):  # a handful of chunks, each vectorised
        n = min(chunk_incidents, incidents - done)
        w = build_district(np.random.default_rng(ss), n, end_day, years * 365.25)
        inc = w.inc
        names = np.array(OFFENCES, dtype=object)[inc["offence"].to_numpy()]
        base = chunk * 10_000_000
        frames.append(
            pd.DataFrame(
                {
                    "day": inc["day"].to_numpy(),
                    "dyad": base + inc["dyad"].to_numpy(),
                    "perp": base + inc["perp"].to_numpy(),
                    "victim": base + inc["victim"].to_numpy(),
                    "k": inc["k"].to_numpy(),
                    "level": inc["level"].to_numpy(),
                    "layout": inc["layout"].to_numpy(),
                    "harm": harm_table.days(names, inc["is_crime"].to_numpy()).to_numpy(),
                }
            )
        )
        done += n
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["day", "dyad", "k"], kind="stable").reset_index(drop=True)


def _share_for(harm: pd.Series, part: float) -> float:
    """The smallest share of units whose harm reaches ``part`` of the total."""
    h = np.sort(harm.to_numpy(dtype=float))[::-1]
    cum = np.cumsum(h)
    needed = int(np.searchsorted(cum, part * cum[-1]) + 1)
    return needed / len(h)


def concentration(inc: pd.DataFrame) -> dict[str, float]:
    """Harm concentration by pair and by perpetrator."""
    pair_harm = inc.groupby("dyad")["harm"].sum()
    pair_n = inc.groupby("dyad").size()
    last2 = inc[inc["day"] > inc["day"].max() - 730]
    return {
        "pairs_for_80pct_harm": _share_for(pair_harm, 0.8),
        "pairs_seen_once": float((pair_n == 1).mean()),
        "perpetrators_for_90pct_harm_2y": _share_for(last2.groupby("perp")["harm"].sum(), 0.9),
    }


def _power_few(inc: pd.DataFrame) -> pd.Index:
    """The highest-harm pairs: the fewest pairs that cause 80% of the harm."""
    pair_harm = inc.groupby("dyad")["harm"].sum().sort_values(ascending=False, kind="stable")
    n = max(1, round(_share_for(pair_harm, 0.8) * len(pair_harm)))
    return pair_harm.index[:n]


def unseen_high_harm(inc: pd.DataFrame, horizon_days: int = 365) -> dict[str, float]:
    """Of the highest-harm pairs (the power few), the share whose first serious
    incident (≥ 365 CHI days) was the pair's first police contact, and the
    share whose perpetrator had no incident at all before it; and the share of
    the last ``horizon_days``' harm caused by perpetrators with no incident
    before that year."""
    few = _power_few(inc)
    serious = inc[inc["dyad"].isin(few) & (inc["harm"] >= SERIOUS_DAYS)]
    first_serious = serious.groupby("dyad").first()
    perp_first_day = inc.groupby("perp")["day"].min()
    pair_new = first_serious["k"].to_numpy() == 0
    perp_new = (
        perp_first_day.loc[first_serious["perp"]].to_numpy() >= first_serious["day"].to_numpy()
    )
    t = inc["day"].max() - horizon_days
    after = inc[inc["day"] > t]
    known = perp_first_day.index[perp_first_day.to_numpy() <= t]
    unseen_harm = after.loc[~after["perp"].isin(known), "harm"].sum()
    return {
        "power_few_pairs": float(len(few)),
        "power_few_new_pair": float(pair_new.mean()) if len(pair_new) else float("nan"),
        "power_few_new_perpetrator": float(perp_new.mean()) if len(perp_new) else float("nan"),
        "next_year_harm_from_unseen": float(unseen_harm / max(after["harm"].sum(), 1e-9)),
    }


def severity_course(inc: pd.DataFrame) -> dict[str, float]:
    """Harm per incident over a pair's incidents, and how often severity or
    frequency escalates within a pair (pairs with 4 or more incidents).

    * ``later_to_first_harm``: mean harm of a pair's later incidents over the
      mean harm of its first incident (pairs with 2 or more incidents); below 1
      means harm per incident falls;
    * ``severity_escalating``: share of pairs whose second half's mean
      log-harm exceeds the first half's by at least 1 (ten times the harm);
      ``severity_deescalating``: the mirror image;
    * ``frequency_escalating``: share whose mean gap between incidents in the
      second half is at most half that of the first half.
    """
    d = inc[inc["layout"] == LAYOUT_NORMAL].sort_values(["dyad", "day", "k"], kind="stable")
    n = d.groupby("dyad")["k"].transform("size").to_numpy()
    pos = d.groupby("dyad").cumcount().to_numpy()
    harm = d["harm"].to_numpy(dtype=float)
    multi = n >= 2
    first = harm[multi & (pos == 0)].mean()
    later = harm[multi & (pos > 0)].mean()
    many = n >= 4
    dm = d[many].assign(
        lh=np.log10(1.0 + harm[many]),
        second=pos[many] >= n[many] / 2.0,
        gap=d["day"].diff().to_numpy()[many],
    )
    dm.loc[pos[many] == 0, "gap"] = np.nan
    halves = dm.groupby(["dyad", "second"])[["lh", "gap"]].mean().unstack("second")
    lh_up = halves[("lh", True)] - halves[("lh", False)]
    gap_ratio = (halves[("gap", True)] + 1.0) / (halves[("gap", False)] + 1.0)
    return {
        "later_to_first_harm": float(later / first) if first > 0 else float("nan"),
        "pairs_with_4_plus": float(len(halves)),
        "severity_escalating": float((lh_up >= 1.0).mean()),
        "severity_deescalating": float((lh_up <= -1.0).mean()),
        "frequency_escalating": float((gap_ratio <= 0.5).mean()),
    }


def _person_rows(inc: pd.DataFrame, as_of: int, horizon_days: int) -> pd.DataFrame:
    before = inc[inc["day"] <= as_of]
    after = inc[(inc["day"] > as_of) & (inc["day"] <= as_of + horizon_days)]
    g = before.groupby("perp")
    recent = before[before["day"] > as_of - 365].groupby("perp")
    x = pd.DataFrame(
        {
            "n_all": g.size(),
            "n_12m": recent.size(),
            "n_90d": before[before["day"] > as_of - 90].groupby("perp").size(),
            "harm_all": g["harm"].sum(),
            "harm_12m": recent["harm"].sum(),
            "victims": g["victim"].nunique(),
            "since_last": as_of - g["day"].max(),
            "since_first": as_of - g["day"].min(),
        }
    ).fillna(0.0)
    x = np.log1p(x)
    x["y"] = x.index.isin(after["perp"].unique()).astype(int)
    return x


def reoffending_auc(
    train: pd.DataFrame, test: pd.DataFrame, horizon_days: int = 365
) -> dict[str, float]:
    """AUC for "any incident as perpetrator in the next year" on true
    identities: a logistic regression on history features fitted on
    ``train`` as of a year before its end, scored on ``test`` likewise; and the
    AUC of recency alone. A proxy: the learned model sees recorded, resolved
    identities and its own features."""
    a = _person_rows(train, int(train["day"].max()) - horizon_days, horizon_days)
    b = _person_rows(test, int(test["day"].max()) - horizon_days, horizon_days)
    cols = [c for c in a.columns if c != "y"]
    model = LogisticRegression(C=1.0, max_iter=1000).fit(a[cols], a["y"])
    p = model.predict_proba(b[cols])[:, 1]
    return {
        "people": float(len(b)),
        "rate": float(b["y"].mean()),
        "auc_model": float(roc_auc_score(b["y"], p)),
        "auc_recency": float(roc_auc_score(b["y"], -b["since_last"])),
    }
