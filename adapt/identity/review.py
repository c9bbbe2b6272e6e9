"""The analyst review queue.

Owns :func:`review_queue`: only the items where an analyst's decision would
change who is who, best first, each with a reason in words and a priority in
[0, 1], at most ``limit`` of them:

* possible missed merges: an undecided link in the review band (or a strong
  one left apart by a guard, except the two whose refusal is certain: one
  incident, different generations of one household) between rows that ended
  in *different* clusters; one item per pair of clusters, its strongest link;
* possible false merges: an accepted, undecided link in the review band
  whose removal would split its cluster (a bridge of the cluster's links once
  the strong and analyst-confirmed links are contracted); one item per pair
  of parts it holds together;
* clusters that look wrong: dates of birth 10+ years apart, two different
  recorded genders, many distinct surnames.

Links between rows of one cluster held together by other links, and links
between clusters that are already apart below the band, change nothing if
confirmed, so they are not listed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from adapt.identity.resolve import LinkSummary, Resolution

DOB_SPAN_YEARS = 10
MANY_SURNAMES = 3
LIMIT = 500
ANALYST = ("analyst: same", "analyst: not same")
# Guards whose refusal is no possible missed merge: two people named on one
# incident, and one surname at one home with dates of birth a generation apart
# (not a slip). On the generator (seed 202, 20,000 incidents) 26 of the 500
# items were such generation refusals and none was one person.
CERTAIN_APART = ("guard: on one incident together", "guard: different generations in one household")


def _bridges(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which edges of the multigraph (u, v) are bridges (iterative Tarjan)."""
    m = len(u)
    out = np.zeros(m, dtype=bool)
    if m == 0:
        return out
    adj: dict[int, list[tuple[int, int]]] = {}
    for e, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        adj.setdefault(a, []).append((b, e))
        adj.setdefault(b, []).append((a, e))
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    timer = 0
    for root in sorted(adj):
        if root in disc:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            node, via, it = stack[-1]
            advanced = False
            for nxt, e in it:
                if e == via:
                    continue
                if nxt in disc:
                    low[node] = min(low[node], disc[nxt])
                else:
                    disc[nxt] = low[nxt] = timer
                    timer += 1
                    stack.append((nxt, e, iter(adj[nxt])))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        out[via] = True
    return out


def _link_items(
    links: LinkSummary, clusters: pd.DataFrame, band: tuple[float, float]
) -> pd.DataFrame:
    keys = clusters["row_key"].astype("string").array

    def key(pos: np.ndarray) -> np.ndarray:
        return keys.take(pos).to_numpy(dtype=object)

    cl = clusters["cluster"].to_numpy(dtype=np.int64)
    pl = np.asarray(links.left, dtype=np.int64)
    pr = np.asarray(links.right, dtype=np.int64)
    cl_l, cl_r = cl[pl], cl[pr]
    p = np.asarray(links.probability, dtype="float64")
    decision = pd.Series(links.decision)
    analyst = decision.isin(ANALYST).to_numpy(dtype=bool)
    accepted = np.asarray(links.accepted, dtype=bool)
    certain = decision.isin(CERTAIN_APART).to_numpy(dtype=bool)
    in_band = (p >= band[0]) & (p <= band[1]) & ~analyst
    apart = cl_l != cl_r
    together = cl_l == cl_r

    # Possible missed merges: one per pair of clusters, the strongest link.
    miss = np.flatnonzero(apart & ~analyst & ~certain & (in_band | (p > band[1])))
    lo, hi = np.minimum(cl_l[miss], cl_r[miss]), np.maximum(cl_l[miss], cl_r[miss])
    order = np.lexsort((pr[miss], pl[miss], -p[miss], hi, lo))
    miss, lo, hi = miss[order], lo[order], hi[order]
    first = np.ones(len(miss), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    miss = miss[first]
    pm = p[miss]
    missed = pd.DataFrame(
        {
            "item": "link",
            "cluster": cl_l[miss],
            "row_key_l": key(pl[miss]),
            "row_key_r": key(pr[miss]),
            "reason": np.where(
                pm > band[1],
                "possible missed merge: strong match kept apart ("
                + decision.astype("string").to_numpy(dtype=object)[miss]
                + ")",
                "possible missed merge (probability "
                + pd.Series(pm).map("{:.2f}".format).to_numpy(dtype=object)
                + "; "
                + decision.astype("string").to_numpy(dtype=object)[miss]
                + ")",
            ),
            "priority": np.where(pm > band[1], 0.7, 0.5 * (1 - np.abs(pm - 0.5) * 2) + 0.2),
        }
    )

    # Possible false merges: accepted in-band links that are bridges once the
    # strong and analyst-confirmed links of each cluster are contracted.
    n = len(keys)
    solid = together & accepted & ~in_band
    g = coo_matrix((np.ones(int(solid.sum()), np.int8), (pl[solid], pr[solid])), shape=(n, n))
    _, part = connected_components(g, directed=False)
    weak = np.flatnonzero(together & accepted & in_band)
    weak = weak[part[pl[weak]] != part[pr[weak]]]
    weak = weak[np.lexsort((pr[weak], pl[weak]))]
    bridge = weak[_bridges(part[pl[weak]], part[pr[weak]])]
    pb = p[bridge]
    false = pd.DataFrame(
        {
            "item": "link",
            "cluster": cl_l[bridge],
            "row_key_l": key(pl[bridge]),
            "row_key_r": key(pr[bridge]),
            "reason": "possible false merge: the cluster rests on this uncertain link "
            "(probability " + pd.Series(pb).map("{:.2f}".format).to_numpy(dtype=object) + ")",
            "priority": 0.25 + 0.6 * (1 - pb),
        }
    )
    return pd.concat([missed, false], ignore_index=True)


def review_queue(
    resolution: Resolution,
    rows: pd.DataFrame,
    *,
    band: tuple[float, float] = (0.3, 0.95),
    limit: int = LIMIT,
) -> pd.DataFrame:
    """Items to review: ``item, cluster, row_key_l, row_key_r, reason, priority``.

    Only items a decision would change (see the module doc), best first, at
    most ``limit``.
    """
    link_items = _link_items(resolution.summary(), resolution.clusters, band)

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
    out["_k"] = out["row_key_l"].astype("string").fillna("")
    out = out.sort_values(
        ["priority", "cluster", "_k"], ascending=[False, True, True], kind="stable"
    )
    return out.drop(columns="_k").head(limit).reset_index(drop=True)
