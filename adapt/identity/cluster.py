"""Decisions on pairs and guarded clustering.

Owns two steps:

* :func:`decide`: each scored pair's ``final_weight``, ``accepted`` and
  ``decision`` (analyst overrides first, then the context cannot-link, the
  threshold, and the guards on automatic merges: dates of birth must not
  differ, and the date of birth or the forename must agree);
* :func:`build_clusters`: connected components of the accepted links
  (``scipy.sparse.csgraph``), then a repair pass over the few components that
  break a cluster rule (two dates of birth other than day/month-swapped
  variants or a 1 January placeholder; two rows of one occasion; an analyst
  cannot-link). The repair re-joins such a component greedily, strongest link
  first, refusing any union that breaks a rule. It is a Python loop, bounded
  by the links of the conflicting components only (a few per cent of links on
  generated data); must-links are applied first and never refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DOB_AGREES = ("exact", "day/month swapped", "1 January placeholder, same year")
FORENAME_AGREES = ("exact", "nickname", "typo")


def pair_index(pairs: pd.DataFrame) -> pd.MultiIndex:
    lo = np.minimum(
        pairs["row_key_l"].to_numpy(dtype=object), pairs["row_key_r"].to_numpy(dtype=object)
    )
    hi = np.maximum(
        pairs["row_key_l"].to_numpy(dtype=object), pairs["row_key_r"].to_numpy(dtype=object)
    )
    return pd.MultiIndex.from_arrays([lo, hi])


def _override_frame(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None or len(df) == 0:
        return pd.DataFrame(
            {"row_key_l": pd.array([], "string"), "row_key_r": pd.array([], "string")}
        )
    out = df.loc[:, ["row_key_l", "row_key_r"]].astype("string")
    lo = np.minimum(
        out["row_key_l"].to_numpy(dtype=object), out["row_key_r"].to_numpy(dtype=object)
    )
    hi = np.maximum(
        out["row_key_l"].to_numpy(dtype=object), out["row_key_r"].to_numpy(dtype=object)
    )
    return pd.DataFrame(
        {"row_key_l": pd.array(lo, "string"), "row_key_r": pd.array(hi, "string")}
    ).drop_duplicates()


def decide(
    pairs: pd.DataFrame,
    *,
    threshold_weight: float,
    must_link: pd.DataFrame,
    cannot_link: pd.DataFrame,
) -> pd.DataFrame:
    """Add ``final_weight``, ``accepted`` and ``decision``; add analyst pairs not scored."""
    idx = pair_index(pairs)
    must_idx = pair_index(must_link)
    cannot_idx = pair_index(cannot_link)
    extra = must_idx.union(cannot_idx).difference(idx)
    if len(extra):
        add = pd.DataFrame(
            {
                "row_key_l": pd.array(extra.get_level_values(0), "string"),
                "row_key_r": pd.array(extra.get_level_values(1), "string"),
                "same_occasion": False,
                "context_weight": 0.0,
                "context": pd.array([""] * len(extra), "string"),
            }
        )
        pairs = pd.concat([pairs, add], ignore_index=True)
        idx = pair_index(pairs)
    out = pairs.copy()
    out["final_weight"] = out["match_weight"] + out["context_weight"]
    analyst_same = idx.isin(must_idx)
    analyst_not = idx.isin(cannot_idx)
    dob_present = out["lbl_dob"].fillna("missing").to_numpy() != "missing"
    dob_agrees = out["lbl_dob"].isin(DOB_AGREES).fillna(False).to_numpy()
    fn_agrees = out["lbl_forename"].isin(FORENAME_AGREES).fillna(False).to_numpy()
    above = out["final_weight"].fillna(-np.inf).to_numpy() >= threshold_weight
    occasion = out["same_occasion"].to_numpy(dtype=bool)
    conditions = [
        analyst_not,
        analyst_same,
        occasion,
        ~above,
        dob_present & ~dob_agrees,
        ~(dob_agrees | fn_agrees),
    ]
    choices = [
        "analyst: not same",
        "analyst: same",
        "guard: on one incident together",
        "below threshold",
        "guard: dates of birth differ",
        "guard: neither date of birth nor forename agrees",
    ]
    out["decision"] = pd.array(np.select(conditions, choices, "auto"), "string")
    out["accepted"] = out["decision"].isin(["auto", "analyst: same"]).to_numpy(dtype=bool)
    return out


class _Sets:
    """Union-find with per-root rule state, for the repair pass only."""

    def __init__(self, dob: list[object], occ: list[object]) -> None:
        n = len(dob)
        self.parent = list(range(n))
        self.dobs = [{d} if d is not None else set() for d in dob]
        self.occs = [{o} if o is not None else set() for o in occ]
        self.nots: list[set[int]] = [set() for _ in range(n)]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def ok(self, a: int, b: int) -> bool:
        if len(self.dobs[a] | self.dobs[b]) > 1 or (self.occs[a] & self.occs[b]):
            return False
        return not any(self.find(x) == b for x in self.nots[a])

    def union(self, a: int, b: int) -> None:
        self.parent[b] = a
        self.dobs[a] |= self.dobs[b]
        self.occs[a] |= self.occs[b]
        self.nots[a] |= self.nots[b]


def build_clusters(
    keys: pd.Series,
    dob_key: pd.Series,
    occasion: pd.Series,
    edges: pd.DataFrame,
    must_link: pd.DataFrame,
    cannot_link: pd.DataFrame,
) -> np.ndarray:
    """Cluster label per key (first row of a cluster numbers it), honouring the rules.

    ``edges`` holds accepted pairs (row_key_l, row_key_r, final_weight);
    ``must_link`` pairs are joined whatever the rules say; ``cannot_link``
    pairs never end in one cluster (unless a must-link chain forces it).
    """
    n = len(keys)
    pos = pd.Series(np.arange(n), index=pd.Index(keys.astype("string")))

    def ends(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = pos.reindex(df["row_key_l"].to_numpy()).to_numpy(dtype="float64")
        b = pos.reindex(df["row_key_r"].to_numpy()).to_numpy(dtype="float64")
        ok = ~(np.isnan(a) | np.isnan(b))
        return a[ok].astype(np.int64), b[ok].astype(np.int64), ok

    ea, eb, eok = ends(edges)
    ew = edges["final_weight"].to_numpy(dtype="float64")[eok]
    ma, mb, _ = ends(must_link)
    ca, cb, _ = ends(cannot_link)
    ia, ib = np.concatenate([ea, ma]), np.concatenate([eb, mb])
    graph = coo_matrix((np.ones(len(ia), np.int8), (ia, ib)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)

    # Which components break a rule?
    dob = dob_key.astype("string").to_numpy(dtype=object)
    occ = occasion.astype("string").to_numpy(dtype=object)
    frame = pd.DataFrame({"comp": comp, "dob": dob, "occ": occ})
    n_dob = frame.groupby("comp")["dob"].nunique()
    dup_occ = frame.dropna(subset=["occ"]).duplicated(["comp", "occ"])
    bad = set(n_dob.index[n_dob > 1]) | set(frame.loc[dup_occ[dup_occ].index, "comp"])
    bad |= set(comp[ca][comp[ca] == comp[cb]])
    if bad:
        comp = _repair(comp, np.array(sorted(bad)), dob, occ, ew, ea, eb, ma, mb, ca, cb)
    # Number clusters by their first row.
    _, first = np.unique(comp, return_index=True)
    order = np.empty(comp.max() + 1 if n else 0, dtype=np.int64)
    order[comp[np.sort(first)]] = np.arange(len(first))
    return order[comp] if n else np.zeros(0, np.int64)


def _repair(
    comp: np.ndarray,
    bad: np.ndarray,
    dob: np.ndarray,
    occ: np.ndarray,
    weight: np.ndarray,
    ea: np.ndarray,
    eb: np.ndarray,
    ma: np.ndarray,
    mb: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
) -> np.ndarray:
    """Re-cluster the rule-breaking components greedily (bounded loop, see module doc)."""
    members = np.flatnonzero(np.isin(comp, bad))
    local = pd.Series(np.arange(len(members)), index=members)
    sets = _Sets(
        [None if pd.isna(d) else d for d in dob[members]],
        [None if pd.isna(o) else o for o in occ[members]],
    )
    in_bad_c = np.isin(comp[ca], bad) & np.isin(comp[cb], bad)
    for a, b in zip(local[ca[in_bad_c]].to_numpy(), local[cb[in_bad_c]].to_numpy(), strict=True):
        sets.nots[a].add(b)
        sets.nots[b].add(a)
    in_bad_m = np.isin(comp[ma], bad)
    for a, b in zip(local[ma[in_bad_m]].to_numpy(), local[mb[in_bad_m]].to_numpy(), strict=True):
        ra, rb = sets.find(a), sets.find(b)
        if ra != rb:
            sets.union(ra, rb)
    sel = np.flatnonzero(np.isin(comp[ea], bad))
    order = sel[np.argsort(-np.nan_to_num(weight[sel], nan=np.inf), kind="stable")]
    for a, b in zip(local[ea[order]].to_numpy(), local[eb[order]].to_numpy(), strict=True):
        ra, rb = sets.find(a), sets.find(b)
        if ra != rb and sets.ok(ra, rb):
            sets.union(ra, rb)
    roots = np.array([sets.find(i) for i in range(len(members))], dtype=np.int64)
    out = comp.copy()
    out[members] = comp.max() + 1 + roots
    return out
