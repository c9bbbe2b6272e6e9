"""The second stage: incident context over splink's pairwise weights.

Owns what the incidents say about two rows that names alone cannot:

* two rows recorded on one occasion (the same incident, or the two sides of
  one MARAC referral) are two different people: a cannot-link;
* two suspect rows whose incidents each have a victim with the same strong
  keys (same person_ref, or same forename+surname+DOB, read from the victim
  rows themselves) are likely one person: ``victim_context_weight`` is added;
* two rows of the same role on incidents at the same address in the same
  month are likely one person: ``place_context_weight`` is added.

It also codes, once per run, what the guards (:mod:`adapt.identity.guards`)
read of the rows: dates of birth as numbers and the household keys (surname,
home address, home postcode); :func:`pair_facts` gives them per pair.

All passes are joins over the candidate pairs; nothing loops over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapt.identity.guards import dob_numbers, household_surname

# In text order (the order pandas would give them as categories).
CONTEXT_REASONS = (
    "",
    "on one incident together",
    "same address, same month",
    "suspect against the same victim",
    "suspect against the same victim; same address in the same month",
)


def codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column (-1 for missing): equality on ints, not text."""
    return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)


def _eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality of codes; missing (-1) on either side is not equal."""
    return (a == b) & (a >= 0)


def victim_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """(occasion, vkey): the strong keys of each occasion's victims."""
    v = rows.loc[rows["role_group"] == "victim", ["occasion", "ref", "fn_canon", "sn", "dob"]]
    v = v[v["occasion"].notna()]
    by_ref = pd.DataFrame({"occasion": v["occasion"], "vkey": "r:" + v["ref"]})
    nd = "n:" + v["fn_canon"] + "|" + v["sn"] + "|" + v["dob"]
    by_name = pd.DataFrame({"occasion": v["occasion"], "vkey": nd})
    out = pd.concat([by_ref, by_name], ignore_index=True).dropna()
    return out.drop_duplicates()


@dataclass(frozen=True)
class ContextRows:
    """What the context stage reads of the rows, as integer codes (built once per run).

    Chunked scoring calls :func:`add_context` once per chunk; coding the
    row columns (millions of texts) once instead of per chunk is most of the
    stage's cost saved.
    """

    occ: np.ndarray
    role: np.ndarray
    is_suspect: np.ndarray
    addr: np.ndarray
    pc: np.ndarray
    month: np.ndarray
    # (occasion code, victim key code): the strong keys of each occasion's victims
    victim_keys: pd.DataFrame
    # what the guards read: date of birth as YYYYMMDD (0: none), household keys
    dob: np.ndarray
    hh_surname: np.ndarray
    home_addr: np.ndarray
    home_pc: np.ndarray


def context_rows(rows: pd.DataFrame) -> ContextRows:
    """Code the columns :func:`add_context` reads (see :class:`ContextRows`)."""
    occ, occ_uniques = pd.factorize(rows["occasion"], use_na_sentinel=True)
    role = rows["role_group"].astype("string").to_numpy(dtype=object, na_value="")
    keys = victim_keys(
        rows.loc[role == "victim", ["occasion", "ref", "fn_canon", "sn", "dob", "role_group"]]
    )
    kt = pd.DataFrame(
        {
            "occ": pd.Index(occ_uniques).get_indexer(keys["occasion"]),
            "vk": pd.factorize(keys["vkey"])[0],
        }
    )
    return ContextRows(
        occ=occ.astype(np.int32),
        role=codes(rows["role_group"]).astype(np.int32),
        is_suspect=role == "suspect",
        addr=codes(rows["inc_addr_key"]).astype(np.int32),
        pc=codes(rows["inc_pc"]).astype(np.int32),
        month=codes(rows["month"]).astype(np.int32),
        victim_keys=kt,
        dob=dob_numbers(rows),
        hh_surname=codes(household_surname(rows["sn"])).astype(np.int32),
        home_addr=codes(rows["addr_key"]).astype(np.int32),
        home_pc=codes(rows["pc"]).astype(np.int32),
    )


@dataclass(frozen=True)
class PairFacts:
    """What the guards read of each pair (aligned with the pairs)."""

    dob_l: np.ndarray
    dob_r: np.ndarray
    # same surname (generational suffix dropped) and same home address or postcode
    household: np.ndarray


def pair_facts(cx: ContextRows, left: np.ndarray, right: np.ndarray) -> PairFacts:
    """:class:`PairFacts` of pairs of row positions ``left``, ``right`` in ``cx``'s rows."""
    la = np.asarray(left, dtype=np.int64)
    ra = np.asarray(right, dtype=np.int64)
    home = _eq(cx.home_addr[la], cx.home_addr[ra]) | _eq(cx.home_pc[la], cx.home_pc[ra])
    household = _eq(cx.hh_surname[la], cx.hh_surname[ra]) & home
    return PairFacts(dob_l=cx.dob[la], dob_r=cx.dob[ra], household=household)


def add_context(
    pairs: pd.DataFrame,
    rows: pd.DataFrame | ContextRows,
    *,
    victim_weight: float,
    place_weight: float,
) -> pd.DataFrame:
    """``pairs`` with ``same_occasion``, ``context_weight`` and ``context`` (reason text).

    ``pairs`` name rows by position in ``rows`` (int columns ``l`` and ``r``);
    ``rows`` holds every row named in ``pairs`` and the victim rows of their
    occasions (or is their :func:`context_rows`).
    """
    cx = rows if isinstance(rows, ContextRows) else context_rows(rows)
    la = pairs["l"].to_numpy(dtype=np.int64)
    ra = pairs["r"].to_numpy(dtype=np.int64)
    occ = cx.occ
    out = pairs.copy(deep=False)  # copy-on-write: new columns only
    same_occ = _eq(occ[la], occ[ra])
    out["same_occasion"] = same_occ

    both_suspects = cx.is_suspect[la] & cx.is_suspect[ra]
    shared = np.zeros(len(out), dtype=bool)
    idx = np.flatnonzero(both_suspects & ~same_occ)
    if len(idx):
        kt = cx.victim_keys
        a = pd.DataFrame({"i": idx, "occ": occ[la[idx]]}).merge(kt, on="occ")[["i", "vk"]]
        b = pd.DataFrame({"i": idx, "occ": occ[ra[idx]]}).merge(kt, on="occ")[["i", "vk"]]
        hit = a.merge(b, on=["i", "vk"])["i"].unique()
        shared[hit] = True

    addr, pc, month, role_c = cx.addr, cx.pc, cx.month, cx.role
    place = (
        _eq(addr[la], addr[ra])
        & _eq(pc[la], pc[ra])
        & _eq(month[la], month[ra])
        & _eq(role_c[la], role_c[ra])
        & ~same_occ
    )

    out["context_weight"] = shared * victim_weight + place * place_weight
    # reason codes (indexes into CONTEXT_REASONS), not one text per pair
    code = np.where(same_occ, 1, shared * 3 + place * 2 - (shared & place) * 1).astype(np.int8)
    out["context"] = pd.Categorical.from_codes(
        code, categories=list(CONTEXT_REASONS)
    ).remove_unused_categories()
    return out
