"""The second stage: incident context over splink's pairwise weights.

Owns what the incidents say about two rows that names alone cannot:

* two rows recorded on one occasion (the same incident, or the two sides of
  one MARAC referral) are two different people: a cannot-link;
* two suspect rows whose incidents each have a victim with the same strong
  keys (same person_ref, or same forename+surname+DOB, read from the victim
  rows themselves) are likely one person: ``victim_context_weight`` is added;
* two rows of the same role on incidents at the same address in the same
  month are likely one person: ``place_context_weight`` is added.

All passes are joins over the candidate pairs; nothing loops over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _eq(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Elementwise equality; missing on either side is not equal."""
    res = pd.Series(a.to_numpy()).astype(a.dtype) == pd.Series(b.to_numpy()).astype(b.dtype)
    return np.asarray(pd.array(res, dtype="boolean").fillna(False), dtype=bool)


def victim_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """(occasion, vkey): the strong keys of each occasion's victims."""
    v = rows.loc[rows["role_group"] == "victim", ["occasion", "ref", "fn_canon", "sn", "dob"]]
    v = v[v["occasion"].notna()]
    by_ref = pd.DataFrame({"occasion": v["occasion"], "vkey": "r:" + v["ref"]})
    nd = "n:" + v["fn_canon"] + "|" + v["sn"] + "|" + v["dob"]
    by_name = pd.DataFrame({"occasion": v["occasion"], "vkey": nd})
    out = pd.concat([by_ref, by_name], ignore_index=True).dropna()
    return out.drop_duplicates()


def add_context(
    pairs: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    victim_weight: float,
    place_weight: float,
) -> pd.DataFrame:
    """``pairs`` with ``same_occasion``, ``context_weight`` and ``context`` (reason text).

    ``rows`` must hold every row named in ``pairs`` and the victim rows of
    their occasions.
    """
    cols = ["row_key", "occasion", "role_group", "inc_addr_key", "inc_pc", "month"]
    r = rows.loc[:, cols].set_index("row_key")
    left = r.reindex(pairs["row_key_l"].to_numpy())
    right = r.reindex(pairs["row_key_r"].to_numpy())
    out = pairs.copy()
    same_occ = _eq(left["occasion"], right["occasion"])
    out["same_occasion"] = same_occ

    both_suspects = (left["role_group"].to_numpy() == "suspect") & (
        right["role_group"].to_numpy() == "suspect"
    )
    shared = np.zeros(len(out), dtype=bool)
    idx = np.flatnonzero(both_suspects & ~same_occ)
    if len(idx):
        keys = victim_keys(rows)
        a = pd.DataFrame({"i": idx, "occasion": left["occasion"].to_numpy()[idx]})
        b = pd.DataFrame({"i": idx, "occasion": right["occasion"].to_numpy()[idx]})
        ka = a.merge(keys, on="occasion")[["i", "vkey"]]
        kb = b.merge(keys, on="occasion")[["i", "vkey"]]
        hit = ka.merge(kb, on=["i", "vkey"])["i"].unique()
        shared[hit] = True

    same_role = _eq(left["role_group"], right["role_group"])
    place = (
        _eq(left["inc_addr_key"], right["inc_addr_key"])
        & _eq(left["inc_pc"], right["inc_pc"])
        & _eq(left["month"], right["month"])
        & same_role
        & ~same_occ
    )

    out["context_weight"] = shared * victim_weight + place * place_weight
    reason = np.where(shared, "suspect against the same victim", "")
    reason = np.where(
        place,
        np.where(shared, reason + "; same address in the same month", "same address, same month"),
        reason,
    )
    out["context"] = pd.array(np.where(same_occ, "on one incident together", reason), "string")
    return out
