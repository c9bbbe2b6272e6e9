"""Which stored involvement is which new row: a pure function.

An involvement has no key of its own in the contract, and its position within
the incident is not one: a force that removes a witness shifts everyone after
them. A newer extract's rows for an incident are matched to the stored rows of
that incident in three passes, each taking only what the earlier ones left:

1. identical content (same row hash): unchanged;
2. same role and same ``person_ref``: updated (a corrected name, a new DOB);
3. same role, in order within the incident: updated.

What is left of the new rows is new (inserted in a free slot); what is left of
the stored rows was removed from the incident by the force and is marked
withdrawn (never deleted) — but only for incidents whose list of people in
this extract is complete (no involvement of it was quarantined), since
otherwise the absence may be our quarantine, not the force's removal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class InvolvementMatch:
    """``stored_id``: per new row (in the order given), the matched stored
    involvement's id, or -1 for a new row. ``unchanged``: per new row, whether
    it matched identical, still-active content. ``seq``: per new row, its slot
    within the incident (the stored one, or a fresh one). ``withdraw``: ids of
    stored involvements to mark withdrawn."""

    stored_id: np.ndarray
    unchanged: np.ndarray
    seq: np.ndarray
    withdraw: np.ndarray


def _codes(new: pd.Series, stored: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Integer codes shared by both sides (-1 for missing): every pass below
    then merges and filters on integers, not strings (ten times faster on a
    million rows)."""
    codes, uniques = pd.factorize(pd.concat([new, stored], ignore_index=True), use_na_sentinel=True)
    return codes[: len(new)], codes[len(new) :], pd.Index(uniques)


def match_involvements(
    new: pd.DataFrame, stored: pd.DataFrame, incomplete: frozenset[str] = frozenset()
) -> InvolvementMatch:
    """Match ``new`` (incident_id, role, person_ref, row_hash; file order) to
    ``stored`` (id, incident_id, seq, role, person_ref, row_hash, withdrawn)."""
    n = len(new)
    inc_new, inc_old, incident_ids = _codes(
        new["incident_id"].astype("string"), stored["incident_id"].astype("string")
    )
    role_new, role_old, _ = _codes(new["role"].astype("string"), stored["role"].astype("string"))
    ref_new, ref_old, _ = _codes(
        new["person_ref"].astype("string"), stored["person_ref"].astype("string")
    )
    left = pd.DataFrame(
        {
            "incident": inc_new,
            "role": role_new,
            "ref": ref_new,
            "row_hash": new["row_hash"].to_numpy(dtype=np.int64),
            "pos": np.arange(n),
        }
    )
    right = pd.DataFrame(
        {
            "incident": inc_old,
            "role": role_old,
            "ref": ref_old,
            "row_hash": stored["row_hash"].to_numpy(dtype=np.int64),
            "id": stored["id"].to_numpy(dtype=np.int64),
            "seq": stored["seq"].to_numpy(dtype=np.int64),
            "withdrawn": stored["withdrawn"].to_numpy(dtype=bool),
        }
    )
    # Only incidents in this extract are matched; the rest are untouched.
    right = right[np.isin(right["incident"].to_numpy(), np.unique(inc_new))]
    right = right.sort_values(["incident", "seq"], kind="stable").reset_index(drop=True)

    matched_new = np.full(n, -1, dtype=np.int64)
    matched_pass = np.zeros(n, dtype=np.int64)
    new_left, stored_left = left, right
    passes = (["incident", "row_hash"], ["incident", "role", "ref"], ["incident", "role"])
    for number, keys in enumerate(passes, start=1):
        a, b = new_left, stored_left
        if "ref" in keys:
            a, b = a[a["ref"] >= 0], b[b["ref"] >= 0]
        if a.empty or b.empty:
            continue
        a = a.assign(occ=a.groupby(keys, sort=False).cumcount())
        b = b.assign(occ=b.groupby(keys, sort=False).cumcount())
        pairs = a[[*keys, "occ", "pos"]].merge(b[[*keys, "occ", "id"]], on=[*keys, "occ"])
        if pairs.empty:
            continue
        matched_new[pairs["pos"].to_numpy()] = pairs["id"].to_numpy()
        matched_pass[pairs["pos"].to_numpy()] = number
        new_left = new_left[matched_new[new_left["pos"].to_numpy()] < 0]
        stored_left = stored_left[~np.isin(stored_left["id"].to_numpy(), pairs["id"].to_numpy())]

    by_id = right.set_index("id")
    hit = matched_new >= 0
    was_withdrawn = np.zeros(n, dtype=bool)
    seq = np.zeros(n, dtype=np.int64)
    if hit.any():
        was_withdrawn[hit] = by_id["withdrawn"].reindex(matched_new[hit]).to_numpy(dtype=bool)
        seq[hit] = by_id["seq"].reindex(matched_new[hit]).to_numpy()
    unchanged = (matched_pass == 1) & ~was_withdrawn

    if len(new_left):
        top = right.groupby("incident")["seq"].max()
        base = new_left["incident"].map(top).fillna(0).astype("int64").to_numpy()
        seq[new_left["pos"].to_numpy()] = (
            base + new_left.groupby("incident").cumcount().to_numpy() + 1
        )

    leftover = stored_left[~stored_left["withdrawn"].to_numpy()]
    if incomplete and len(leftover):
        skip = incident_ids.get_indexer(pd.Index(list(incomplete), dtype="string"))
        leftover = leftover[~np.isin(leftover["incident"].to_numpy(), skip[skip >= 0])]
    return InvolvementMatch(matched_new, unchanged, seq, leftover["id"].to_numpy(dtype=np.int64))
