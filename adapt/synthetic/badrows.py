"""Planted bad rows: rows the loader must quarantine, and the record of each.

Owns corrupting a share (``GeneratorConfig.bad_row_rate``) of the incident
and involvement rows of a chunk, spread evenly over the kinds below, without
ever breaking the file's CSV structure (no unbalanced quotes):

=======================  ===================  ================================
kind                     file                 what
=======================  ===================  ================================
not_a_date               incidents            occurred_at '31/02/2024' etc.
future_date              incidents            occurred_at years after the end
unknown_offence          incidents            offence not in the vocabulary
duplicate_incident_id    incidents            a later extra row reusing an id
too_many_fields          either               one extra comma field on a row
unknown_role             involvements         role not in the vocabulary
orphan_involvement       involvements         extra row, incident_id unknown
incident_quarantined     involvements         row whose incident row is bad
=======================  ===================  ================================

The first occurrence of a duplicated incident_id is the valid one; the
involvements refer to it. Positions returned are 0-based within the chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.core.spec import OUTCOMES
from adapt.synthetic import noise as nz
from adapt.synthetic.extract import Rendered

KINDS = (
    "not_a_date",
    "future_date",
    "unknown_offence",
    "too_many_fields",
    "duplicate_incident_id",
    "unknown_role",
    "orphan_involvement",
)
BAD_OFFENCES = ("burglary", "theft", "assault - other", "domestic incident", "ASB", "drugs")
BAD_ROLES = ("complainant", "offender", "informant", "aggrieved", "IP")
EXTRA_FIELDS = ("see notes", "REVIEWED", "1", "dup check", "Y")
INC, INV = "incidents.csv", "involvements.csv"


def _not_dates(rng: np.random.Generator, occurred: pa.Array) -> list[str]:
    year = occurred.to_numpy(zero_copy_only=False).astype(str).astype("U4")
    forms = np.array(["31/02/{y}", "{y}-13-01", "{y}-02-30", "32/01/{y}", "{y}-00-10",
                      "{y}-04-31T21:15", "not known"], dtype=object)  # fmt: skip
    picked = forms[rng.integers(0, len(forms), len(year))]
    return [f.replace("{y}", y) for f, y in zip(picked, year, strict=True)]


def _future(rng: np.random.Generator, end_year: int, k: int) -> list[str]:
    y = end_year + rng.integers(3, 9, k)
    m, d = rng.integers(1, 13, k), rng.integers(1, 29, k)
    h, mi = rng.integers(0, 24, k), rng.integers(0, 60, k)
    s = pd.Series(y.astype(str)) + "-" + pd.Series(m).astype(str).str.zfill(2) + "-"
    s = s + pd.Series(d).astype(str).str.zfill(2) + "T" + pd.Series(h).astype(str).str.zfill(2)
    return list(s + ":" + pd.Series(mi).astype(str).str.zfill(2))


def _pick(rng: np.random.Generator, choices: tuple[str, ...], k: int) -> list[str]:
    return list(np.array(choices, dtype=object)[rng.integers(0, len(choices), k)])


def plant(
    rng: np.random.Generator, r: Rendered, rate: float, end_year: int
) -> tuple[pd.DataFrame, dict[str, pa.Array]]:
    """Corrupt rows of ``r`` in place; return (bad rows, extra-field suffix per file)."""
    inc, inv = r.files[INC], r.files[INV]
    n_i, n_v = len(inc["incident_id"]), len(inv["incident_id"])
    total = round(rate * (n_i + n_v))
    empty = pd.DataFrame(columns=["file", "pos", "column", "kind", "value"])
    if total == 0 or n_i < 10:
        return empty, {}
    counts = dict(zip(KINDS, rng.multinomial(total, [1 / len(KINDS)] * len(KINDS)), strict=True))
    tmf_inc = int(rng.binomial(counts["too_many_fields"], 0.5))
    tmf_inv = counts["too_many_fields"] - tmf_inc
    bad: list[pd.DataFrame] = []

    def record(file: str, pos: np.ndarray, column: str, kind: str, value: list[str]) -> None:
        bad.append(
            pd.DataFrame(
                {
                    "file": file,
                    "pos": pos,
                    "column": column,
                    "kind": kind,
                    "value": pd.Series(value, dtype=object),
                }
            )
        )

    # Incident rows: corrupt distinct rows; duplicate other (clean) rows.
    k_mod = counts["not_a_date"] + counts["future_date"] + counts["unknown_offence"] + tmf_inc
    k_dup = counts["duplicate_incident_id"]
    chosen = rng.choice(n_i, size=min(k_mod + k_dup, n_i), replace=False)
    mod, dup_src = chosen[:k_mod], np.sort(chosen[k_mod:])
    split = np.cumsum([counts["not_a_date"], counts["future_date"], counts["unknown_offence"]])
    nad, fut, unk, tmf = np.split(mod, split)
    vals_nad = _not_dates(rng, inc["occurred_at"].take(pa.array(nad)))
    vals_fut = _future(rng, end_year, len(fut))
    vals_unk = _pick(rng, BAD_OFFENCES, len(unk))
    vals_tmf = _pick(rng, EXTRA_FIELDS, len(tmf))
    occ_pos = np.r_[nad, fut]
    inc["occurred_at"] = _set(inc["occurred_at"], occ_pos, vals_nad + vals_fut)
    inc["offence"] = _set(inc["offence"], unk, vals_unk)
    inc_suffix = _set(pa.nulls(n_i, pa.string()), tmf, ["," + v for v in vals_tmf])
    bad_ids = inc["incident_id"].take(pa.array(mod.astype(np.int64)))
    # Insert duplicates somewhere after their first occurrence.
    keys = np.r_[
        np.arange(n_i, dtype=float), dup_src + 0.5 + rng.random(len(dup_src)) * (n_i - 1 - dup_src)
    ]
    src = np.r_[np.arange(n_i), dup_src]
    order = np.argsort(keys, kind="stable")
    final = src[order]
    where_orig = np.empty(n_i, dtype=np.int64)
    where_orig[final[order < n_i]] = np.flatnonzero(order < n_i)
    dup_pos = np.flatnonzero(order >= n_i)
    take = pa.array(final)
    r.files[INC] = {c: a.take(take) for c, a in inc.items()}
    r.aligned_truth[INC] = {c: a.take(take) for c, a in r.aligned_truth[INC].items()}
    new_outcome = _pick(rng, OUTCOMES, len(dup_pos))
    r.files[INC]["outcome"] = _set(r.files[INC]["outcome"], dup_pos, new_outcome)
    inc_suffix = inc_suffix.take(take)
    record(INC, where_orig[nad], "occurred_at", "not_a_date", vals_nad)
    record(INC, where_orig[fut], "occurred_at", "future_date", vals_fut)
    record(INC, where_orig[unk], "offence", "unknown_offence", vals_unk)
    record(INC, where_orig[tmf], "", "too_many_fields", vals_tmf)
    dup_ids = r.files[INC]["incident_id"].take(pa.array(dup_pos)).to_pylist()
    record(INC, dup_pos, "incident_id", "duplicate_incident_id", dup_ids)
    # Involvement rows: corrupt rows of clean incidents; insert orphans.
    clean = ~pc.is_in(inv["incident_id"], value_set=bad_ids).to_numpy(zero_copy_only=False)
    k_role, k_orph = counts["unknown_role"], counts["orphan_involvement"]
    pool = np.flatnonzero(clean)
    chosen = rng.choice(pool, size=min(k_role + tmf_inv, len(pool)), replace=False)
    role_pos, tmf_v = chosen[:k_role], chosen[k_role:]
    vals_role = _pick(rng, BAD_ROLES, len(role_pos))
    inv["role"] = _set(inv["role"], role_pos, vals_role)
    vals_tmfv = _pick(rng, EXTRA_FIELDS, len(tmf_v))
    inv_suffix = _set(pa.nulls(n_v, pa.string()), tmf_v, ["," + v for v in vals_tmfv])
    orph_src = rng.choice(np.setdiff1d(pool, chosen), size=k_orph)  # copies of clean rows
    orph_ids = r.spare_ids.take(pa.array(rng.choice(len(r.spare_ids), k_orph, replace=False)))
    keys = np.r_[np.arange(n_v, dtype=float), rng.random(k_orph) * n_v]
    src = np.r_[np.arange(n_v), orph_src]
    order = np.argsort(keys, kind="stable")
    final = src[order]
    where_orig = np.empty(n_v, dtype=np.int64)
    where_orig[final[order < n_v]] = np.flatnonzero(order < n_v)
    orph_pos = np.flatnonzero(order >= n_v)
    orph_ids = orph_ids.take(pa.array(order[orph_pos] - n_v))
    take = pa.array(final)
    r.files[INV] = {c: a.take(take) for c, a in inv.items()}
    r.aligned_truth[INV] = {c: a.take(take) for c, a in r.aligned_truth[INV].items()}
    for table in (r.files[INV], r.aligned_truth[INV]):
        table["incident_id"] = _set(table["incident_id"], orph_pos, orph_ids.to_pylist())
    inv_suffix = inv_suffix.take(take)
    record(INV, where_orig[role_pos], "role", "unknown_role", vals_role)
    record(INV, where_orig[tmf_v], "", "too_many_fields", vals_tmfv)
    record(INV, orph_pos, "incident_id", "orphan_involvement", orph_ids.to_pylist())
    hit = pc.is_in(r.files[INV]["incident_id"], value_set=bad_ids).to_numpy(zero_copy_only=False)
    q = np.flatnonzero(hit)
    record(
        INV,
        q,
        "incident_id",
        "incident_quarantined",
        r.files[INV]["incident_id"].take(pa.array(q)).to_pylist(),
    )
    out = pd.concat(bad, ignore_index=True).sort_values(["file", "pos", "kind"], kind="stable")
    return out.reset_index(drop=True), {INC: inc_suffix, INV: inv_suffix}


def _set(arr: pa.Array, pos: np.ndarray, values: list[str]) -> pa.Array:
    mask = np.zeros(len(arr), dtype=bool)
    mask[pos] = True
    order = np.argsort(pos, kind="stable")
    return nz.scatter(arr, mask, [values[i] for i in order])
