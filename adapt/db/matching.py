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


def match_involvements(
    new: pd.DataFrame, stored: pd.DataFrame, incomplete: frozenset[str] = frozenset()
) -> InvolvementMatch:
    """Match ``new`` (incident_id, role, person_ref, row_hash; file order) to
    ``stored`` (id, incident_id, seq, role, person_ref, row_hash, withdrawn)."""
    n = len(new)
    new = new[["incident_id", "role", "person_ref", "row_hash"]].reset_index(drop=True)
    new["pos"] = np.arange(n)
    present = new["incident_id"].unique()
    stored = stored[stored["incident_id"].isin(present)].sort_values(["incident_id", "seq"])
    stored = stored.reset_index(drop=True)
    for frame in (new, stored):
        frame["incident_id"] = frame["incident_id"].astype("string")
        frame["role"] = frame["role"].astype("string")
        frame["person_ref"] = frame["person_ref"].astype("string")

    matched_new = np.full(n, -1, dtype=np.int64)
    matched_pass = np.zeros(n, dtype=np.int64)
    new_left = new
    stored_left = stored
    passes = (
        ["incident_id", "row_hash"],
        ["incident_id", "role", "person_ref"],
        ["incident_id", "role"],
    )
    for number, keys in enumerate(passes, start=1):
        a, b = new_left, stored_left
        if "person_ref" in keys:
            a, b = a[a["person_ref"].notna()], b[b["person_ref"].notna()]
        if a.empty or b.empty:
            continue
        a = a.assign(occ=a.groupby(keys, sort=False).cumcount())
        b = b.assign(occ=b.groupby(keys, sort=False).cumcount())
        pairs = a[[*keys, "occ", "pos"]].merge(b[[*keys, "occ", "id"]], on=[*keys, "occ"])
        if pairs.empty:
            continue
        matched_new[pairs["pos"].to_numpy()] = pairs["id"].to_numpy()
        matched_pass[pairs["pos"].to_numpy()] = number
        new_left = new_left[~new_left["pos"].isin(pairs["pos"])]
        stored_left = stored_left[~stored_left["id"].isin(pairs["id"])]

    withdrawn = stored.set_index("id")["withdrawn"] if len(stored) else pd.Series(dtype=bool)
    was_withdrawn = np.zeros(n, dtype=bool)
    hit = matched_new >= 0
    if hit.any():
        was_withdrawn[hit] = withdrawn.reindex(matched_new[hit]).fillna(False).to_numpy(bool)
    unchanged = (matched_pass == 1) & ~was_withdrawn

    seq = np.zeros(n, dtype=np.int64)
    if hit.any():
        seq[hit] = stored.set_index("id")["seq"].reindex(matched_new[hit]).to_numpy()
    fresh = new_left
    if len(fresh):
        top = stored.groupby("incident_id")["seq"].max() if len(stored) else pd.Series(dtype=int)
        base = fresh["incident_id"].map(top).fillna(0).astype("int64").to_numpy()
        seq[fresh["pos"].to_numpy()] = base + fresh.groupby("incident_id").cumcount().to_numpy() + 1

    leftover = stored_left[~stored_left["withdrawn"].astype(bool)]
    leftover = leftover[~leftover["incident_id"].isin(incomplete)]
    return InvolvementMatch(matched_new, unchanged, seq, leftover["id"].to_numpy(dtype=np.int64))
