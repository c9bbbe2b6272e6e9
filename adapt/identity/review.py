"""The analyst review queue.

Owns :func:`review_queue`: the links a person should look at (a middle
probability band not yet decided by an analyst, and strong pairs a guard
stopped) and the clusters that look wrong (dates of birth 10+ years apart,
two different recorded genders, many distinct surnames), best first, each
with a reason in words and a priority in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapt.identity.resolve import Resolution

DOB_SPAN_YEARS = 10
MANY_SURNAMES = 3


def review_queue(
    resolution: Resolution,
    rows: pd.DataFrame,
    *,
    band: tuple[float, float] = (0.3, 0.95),
) -> pd.DataFrame:
    """Items to review: ``item, cluster, row_key_l, row_key_r, reason, priority``."""
    links = resolution.links
    p = links["match_probability"].fillna(0).to_numpy()
    decided = links["decision"].str.startswith("analyst").fillna(False).to_numpy(dtype=bool)
    guard = links["decision"].str.startswith("guard: d").fillna(False).to_numpy(dtype=bool)
    guard |= links["decision"].str.startswith("guard: n").fillna(False).to_numpy(dtype=bool)
    in_band = (p >= band[0]) & (p <= band[1]) & ~decided
    strong_guarded = (p > band[1]) & guard & ~decided
    cl = resolution.clusters.set_index("row_key")["cluster"]
    link_items = links.loc[in_band | strong_guarded, ["row_key_l", "row_key_r", "decision"]]
    pp = p[in_band | strong_guarded]
    link_items = pd.DataFrame(
        {
            "item": "link",
            "cluster": cl.reindex(link_items["row_key_l"].to_numpy()).to_numpy(),
            "row_key_l": link_items["row_key_l"].to_numpy(),
            "row_key_r": link_items["row_key_r"].to_numpy(),
            "reason": np.where(
                pp > band[1],
                "strong match stopped by a guard ("
                + link_items["decision"].to_numpy(dtype=object)
                + ")",
                "uncertain match (probability "
                + pd.Series(pp).map("{:.2f}".format).to_numpy()
                + "; "
                + link_items["decision"].to_numpy(dtype=object)
                + ")",
            ),
            "priority": np.where(pp > band[1], 0.7, 0.5 * (1 - np.abs(pp - 0.5) * 2) + 0.2),
        }
    )

    r = rows.loc[:, ["row_key", "date_of_birth", "gender_std", "sn"]].merge(
        resolution.clusters, on="row_key"
    )
    g = r.groupby("cluster")
    stats = pd.DataFrame(
        {
            "span": (g["date_of_birth"].max() - g["date_of_birth"].min()).dt.days / 365.25,
            "genders": g["gender_std"].nunique(),
            "surnames": g["sn"].nunique(),
            "size": g.size(),
        }
    )
    stats = stats[stats["size"] > 1]
    items = []
    for mask, reason, prio in (
        (stats["span"] >= DOB_SPAN_YEARS, "dates of birth 10 or more years apart", 1.0),
        (stats["genders"] > 1, "two different recorded genders", 0.8),
        (stats["surnames"] >= MANY_SURNAMES, "three or more distinct surnames", 0.6),
    ):
        hit = stats.index[mask.fillna(False).to_numpy(dtype=bool)]
        items.append(
            pd.DataFrame(
                {
                    "item": "cluster",
                    "cluster": hit,
                    "row_key_l": None,
                    "row_key_r": None,
                    "reason": reason,
                    "priority": prio,
                }
            )
        )
    out = pd.concat([*items, link_items], ignore_index=True)
    out["cluster"] = out["cluster"].astype("Int64")
    out = out.sort_values("priority", ascending=False, kind="stable").reset_index(drop=True)
    return out
