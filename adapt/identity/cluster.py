"""Decisions on pairs and guarded clustering.

Owns two steps:

* :func:`decide`: each scored pair's ``final_weight``, ``accepted`` and
  ``decision`` (analyst overrides first, then the guards of
  :class:`~adapt.identity.guards.Guards`, each a setting: two rows on one
  incident are two people; below the threshold nothing joins; dates of birth
  that truly disagree (not a forgiven slip: one digit, adjacent digits
  transposed, day/month swapped, 1 January placeholder) keep apart; so do
  one surname at one home with such dates a generation apart (the reason an
  analyst reads, and the guard that still holds with the first off); the
  date of birth or the forename must agree);
* :func:`build_clusters`: connected components of the accepted links
  (``scipy.sparse.csgraph``), then a repair pass over the few components that
  break a cluster rule (two dates of birth that truly disagree, as the
  pairwise guard judges them, or with that rule off, two such dates a
  generation apart; two rows of one occasion; an analyst cannot-link). The
  repair re-joins such a component greedily, strongest link first, refusing
  any union that breaks a rule. It is a Python loop, bounded
  by the links of the conflicting components only (a few per cent of links on
  generated data); must-links are applied first and never refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from adapt.identity.context import ContextRows, pair_facts
from adapt.identity.guards import (
    DIFFERENT,
    MISSING,
    Guards,
    dob_conflict,
    dob_relation,
    generation_gap,
)

DECISIONS = (
    "analyst: not same",
    "analyst: same",
    "guard: on one incident together",
    "below threshold",
    "guard: different generations in one household",
    "guard: dates of birth differ",
    "guard: neither date of birth nor forename agrees",
    "auto",
)


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


def override_positions(df: pd.DataFrame, keys: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Analyst pairs as row positions in ``keys`` (lo < hi), unknown keys dropped."""
    a = keys.get_indexer(df["row_key_l"].astype("string"))
    b = keys.get_indexer(df["row_key_r"].astype("string"))
    ok = (a >= 0) & (b >= 0) & (a != b)
    lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
    code = np.unique(lo.astype(np.int64) * len(keys) + hi)
    return code // max(len(keys), 1), code % max(len(keys), 1)


def _label_in(labels: pd.Series, values: tuple[str, ...], na: bool = False) -> np.ndarray:
    """Whether each level label is one of ``values`` (missing labels: ``na``).

    On the categorical codes when the labels are categorical (no text per pair).
    """
    if isinstance(labels.dtype, pd.CategoricalDtype):
        cats = labels.cat.categories
        table = np.append(np.asarray(cats.isin(values), dtype=bool), na)
        codes = labels.cat.codes.to_numpy()
        return table[np.where(codes < 0, len(cats), codes)]
    hit = labels.isin(values).to_numpy(dtype=bool)
    return hit | (labels.isna().to_numpy() & na)


def decide(
    pairs: pd.DataFrame,
    *,
    n: int,
    threshold_weight: float,
    must: tuple[np.ndarray, np.ndarray],
    cannot: tuple[np.ndarray, np.ndarray],
    rows: ContextRows,
    guards: Guards | None = None,
) -> pd.DataFrame:
    """Add ``final_weight``, ``accepted`` and ``decision``; add analyst pairs not scored.

    Pairs and overrides name rows by position (``l`` < ``r``) among ``n`` rows;
    ``rows`` are those rows coded (:func:`~adapt.identity.context.context_rows`),
    whose dates of birth and household keys the guards read. The decision is
    the first of ``DECISIONS`` that holds (a guard switched off never holds).
    """
    g = guards or Guards()
    code = pairs["l"].to_numpy(dtype=np.int64) * n + pairs["r"].to_numpy(dtype=np.int64)
    must_c = must[0].astype(np.int64) * n + must[1]
    cannot_c = cannot[0].astype(np.int64) * n + cannot[1]
    wanted = np.union1d(must_c, cannot_c)
    extra = wanted[~np.isin(wanted, code)] if len(wanted) else wanted
    if len(extra):
        add = pd.DataFrame(
            {
                "l": extra // n,
                "r": extra % n,
                "same_occasion": False,
                "context_weight": 0.0,
                "context": pd.Categorical([""] * len(extra)),
            }
        )
        pairs = pd.concat([pairs, add], ignore_index=True)
        for c in pairs.columns:
            if c.startswith("lbl_") or c == "context":
                pairs[c] = pairs[c].astype("category")
        code = np.concatenate([code, extra])
    out = pairs.copy(deep=False)  # copy-on-write: new columns only
    out["final_weight"] = out["match_weight"] + out["context_weight"]
    analyst_same = np.isin(code, must_c) if len(must_c) else np.zeros(len(code), bool)
    analyst_not = np.isin(code, cannot_c) if len(cannot_c) else np.zeros(len(code), bool)
    facts = pair_facts(rows, out["l"].to_numpy(), out["r"].to_numpy())
    rel = dob_relation(facts.dob_l, facts.dob_r, g)
    dob_differs = rel == DIFFERENT
    dob_agrees = (rel != DIFFERENT) & (rel != MISSING)
    fn_agrees = _label_in(out["lbl_forename"], tuple(g.forename_agrees))
    generations = (
        facts.household
        & dob_differs
        & generation_gap(facts.dob_l, facts.dob_r, g.generation_gap_years)
    )
    above = out["final_weight"].fillna(-np.inf).to_numpy() >= threshold_weight
    occasion = out["same_occasion"].to_numpy(dtype=bool)
    conditions = [
        analyst_not,
        analyst_same,
        occasion & g.one_incident_apart,
        ~above,
        generations,
        dob_differs & g.dob_must_agree,
        ~(dob_agrees | fn_agrees) & g.dob_or_forename_must_agree,
    ]
    codes = np.select(conditions, list(range(len(conditions))), len(conditions)).astype(np.int8)
    out["decision"] = pd.Categorical.from_codes(codes, categories=list(DECISIONS))
    out["accepted"] = (codes == len(conditions)) | (codes == 1)
    return out


def spanning_forest(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Which edges (a < b, weight; unique pairs) form a maximum-weight spanning forest.

    Deterministic: scipy works on the canonical (sorted) sparse matrix, so the
    edge order does not matter. Written to hold few edge-sized arrays at once.
    """
    out = np.zeros(len(a), dtype=bool)
    if not len(a):
        return out
    cost = np.asarray(w, dtype="float64") * -1.0
    np.nan_to_num(cost, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    cost += 1.0 - cost.min()  # > 0: scipy reads a zero as "no edge"
    g = coo_matrix((cost, (a, b)), shape=(n, n)).tocsr()
    del cost
    t = minimum_spanning_tree(g, overwrite=True).tocoo()
    del g
    lo, hi = np.minimum(t.row, t.col).astype(np.int64), np.maximum(t.row, t.col).astype(np.int64)
    del t
    code = np.asarray(a, dtype=np.int64) * n
    code += b
    order = np.argsort(code)
    code = code[order]
    pos = np.searchsorted(code, lo * n + hi)
    out[order[pos]] = True
    return out


class _Sets:
    """Union-find with per-root rule state, for the repair pass only.

    ``conflicts`` holds the pairs of date-of-birth codes (lo, hi) that may not
    share a cluster; occasions may never repeat in one.
    """

    def __init__(self, dob: list[object], occ: list[object], conflicts: set[tuple[int, int]]):
        n = len(dob)
        self.parent = list(range(n))
        self.dobs = [{d} if d is not None else set() for d in dob]
        self.occs = [{o} if o is not None else set() for o in occ]
        self.nots: list[set[int]] = [set() for _ in range(n)]
        self.conflicts = conflicts

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def ok(self, a: int, b: int) -> bool:
        if self.occs[a] & self.occs[b]:
            return False
        if self.conflicts and any(
            (min(x, y), max(x, y)) in self.conflicts for x in self.dobs[a] for y in self.dobs[b]
        ):
            return False
        return not any(self.find(x) == b for x in self.nots[a])

    def union(self, a: int, b: int) -> None:
        self.parent[b] = a
        self.dobs[a] |= self.dobs[b]
        self.occs[a] |= self.occs[b]
        self.nots[a] |= self.nots[b]


def _dob_conflicts(
    comp: np.ndarray, dob_code: np.ndarray, dob_values: np.ndarray, guards: Guards
) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """Components holding two dates of birth that truly disagree (with
    ``cluster_dobs_agree`` off: that are also a generation apart), and those
    pairs of date codes (lo, hi). Vectorised over the pairs of distinct dates
    within each component (a handful per component)."""
    has = dob_code >= 0
    generations = guards.generation_gap_years is not None
    if not (guards.cluster_dobs_agree or generations) or not has.any():
        return np.zeros(0, np.int64), set()
    d = pd.DataFrame({"comp": comp[has], "dob": dob_code[has]}).drop_duplicates()
    multi = d["comp"].duplicated(keep=False).to_numpy()
    d = d[multi]
    if not len(d):
        return np.zeros(0, np.int64), set()
    both = d.merge(d, on="comp", suffixes=("_a", "_b"))
    both = both[both["dob_a"].to_numpy() < both["dob_b"].to_numpy()]
    a, b = both["dob_a"].to_numpy(), both["dob_b"].to_numpy()
    bad = dob_conflict(dob_values[a], dob_values[b], guards)
    if not guards.cluster_dobs_agree:  # a generation apart is still two people
        bad &= generation_gap(dob_values[a], dob_values[b], guards.generation_gap_years)
    pairs = set(zip(a[bad].tolist(), b[bad].tolist(), strict=True))
    return np.unique(both["comp"].to_numpy()[bad]), pairs


def build_clusters(
    n: int,
    dob: np.ndarray,
    occasion: pd.Series,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    must: tuple[np.ndarray, np.ndarray],
    cannot: tuple[np.ndarray, np.ndarray],
    rank: np.ndarray | None = None,
    guards: Guards | None = None,
) -> np.ndarray:
    """Cluster label per row (first row of a cluster numbers it), honouring the rules.

    ``dob`` is each row's date of birth as ``YYYYMMDD`` (0: none; see
    :func:`~adapt.identity.guards.dob_numbers`). ``edges`` are accepted pairs
    (positions a, b and final weight); ``must`` pairs are joined whatever the
    rules say; ``cannot`` pairs never end in one cluster (unless a must-link
    chain forces it). The partition depends only on the set of edges, not
    their order: equal weights are taken in the order of ``rank`` (say, the
    text order of row keys; default: position).
    """
    g = guards or Guards()
    # int32 positions when they fit: edges are the big arrays at scale
    pos_t = np.int32 if n < 2**31 else np.int64
    ea, eb, ew = (np.asarray(x) for x in edges)
    ea, eb = ea.astype(pos_t, copy=False), eb.astype(pos_t, copy=False)
    ew = ew.astype("float64", copy=False)
    ma, mb = (np.asarray(x, dtype=pos_t) for x in must)
    ca, cb = (np.asarray(x, dtype=pos_t) for x in cannot)
    ia, ib = np.concatenate([ea, ma]), np.concatenate([eb, mb])
    graph = coo_matrix((np.ones(len(ia), np.int8), (ia, ib)), shape=(n, n))
    del ia, ib
    _, comp = connected_components(graph, directed=False)
    del graph

    # Which components break a rule?
    dob_num = np.asarray(dob, dtype=np.int64)
    codes, values = pd.factorize(np.where(dob_num > 0, dob_num, -1))
    dob_values = np.asarray(values, dtype=np.int64)
    dob_code = np.where(dob_values[codes] > 0, codes, -1).astype(np.int64)
    bad_dob, conflicts = _dob_conflicts(comp, dob_code, dob_values, g)
    occ = pd.factorize(occasion, use_na_sentinel=True)[0].astype(np.int64)
    if not g.one_incident_apart:
        occ = np.full(n, -1, dtype=np.int64)
    frame = pd.DataFrame({"comp": comp, "occ": occ})
    has_occ = frame[frame["occ"] >= 0]
    dup_occ = has_occ.duplicated(["comp", "occ"])
    bad = set(bad_dob.tolist()) | set(has_occ.loc[dup_occ.to_numpy(), "comp"])
    bad |= set(comp[ca][comp[ca] == comp[cb]])
    if bad:
        rank = np.arange(n) if rank is None else np.asarray(rank)
        comp = _repair(
            comp, np.array(sorted(bad)), dob_code, occ, conflicts,
            ew, ea, eb, ma, mb, ca, cb, rank,
        )  # fmt: skip
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
    conflicts: set[tuple[int, int]],
    weight: np.ndarray,
    ea: np.ndarray,
    eb: np.ndarray,
    ma: np.ndarray,
    mb: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
    rank: np.ndarray,
) -> np.ndarray:
    """Re-cluster the rule-breaking components greedily (bounded loop, see module doc)."""
    members = np.flatnonzero(np.isin(comp, bad))
    local = pd.Series(np.arange(len(members)), index=members)
    sets = _Sets(
        [None if d < 0 else int(d) for d in dob[members]],
        [None if o < 0 else int(o) for o in occ[members]],
        conflicts,
    )
    in_bad_c = np.isin(comp[ca], bad) & np.isin(comp[cb], bad)
    for a, b in zip(local[ca[in_bad_c]].to_numpy(), local[cb[in_bad_c]].to_numpy(), strict=True):
        sets.nots[a].add(b)
        sets.nots[b].add(a)
    in_bad_m = np.flatnonzero(np.isin(comp[ma], bad))
    in_bad_m = in_bad_m[np.lexsort((mb[in_bad_m], ma[in_bad_m]))]
    for a, b in zip(local[ma[in_bad_m]].to_numpy(), local[mb[in_bad_m]].to_numpy(), strict=True):
        ra, rb = sets.find(a), sets.find(b)
        if ra != rb:
            sets.union(ra, rb)
    sel = np.flatnonzero(np.isin(comp[ea], bad))
    # Strongest first; ties broken by the pair itself, so the input order never matters.
    ra_, rb_ = rank[ea[sel]], rank[eb[sel]]
    lo, hi = np.minimum(ra_, rb_), np.maximum(ra_, rb_)
    order = sel[np.lexsort((hi, lo, -np.nan_to_num(weight[sel], nan=np.inf)))]
    for a, b in zip(local[ea[order]].to_numpy(), local[eb[order]].to_numpy(), strict=True):
        ra, rb = sets.find(a), sets.find(b)
        if ra != rb and sets.ok(ra, rb):
            sets.union(ra, rb)
    roots = np.array([sets.find(i) for i in range(len(members))], dtype=np.int64)
    out = comp.copy()
    out[members] = comp.max() + 1 + roots
    return out
