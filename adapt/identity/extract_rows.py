"""Person rows from a parsed extract (no database).

Owns :func:`person_rows_from_extract`: one row per person mention in the
involvements, MARAC (victim and perpetrator sides) and management files, with
the columns :func:`adapt.identity.prepare_rows` expects. Keys are
``{file}:{source_row}`` (``marac.csv:5:victim`` for a MARAC side), matching the
truth files of :func:`adapt.synthetic.generate`.
"""

from __future__ import annotations

import pandas as pd

from adapt.contract import Extract
from adapt.identity.normalise import INPUT_COLUMNS


def _frame(rows: pd.DataFrame, file: str, suffix: str = "") -> pd.DataFrame:
    key = file + ":" + rows["source_row"].astype("string") + suffix
    return pd.DataFrame({"row_key": key.to_numpy(), "source_file": file}, index=rows.index)


def person_rows_from_extract(extract: Extract) -> pd.DataFrame:
    """Person rows (see :data:`adapt.identity.normalise.INPUT_COLUMNS`) of an extract."""
    parts: list[pd.DataFrame] = []
    files = extract.files
    if "involvements.csv" in files:
        inv = files["involvements.csv"].rows
        inc = files["incidents.csv"].rows if "incidents.csv" in files else None
        out = _frame(inv, "involvements.csv")
        out["source_row"] = inv["source_row"].to_numpy()
        out["kind"] = "involvement"
        out["incident_id"] = inv["incident_id"]
        out["role"] = inv["role"]
        for c in ("person_ref", "forename", "surname", "date_of_birth", "gender"):
            out[c] = inv[c]
        out["home_address"] = inv["home_address"]
        out["home_postcode"] = inv["home_postcode"]
        if inc is not None:
            place = inc.set_index("incident_id")[["occurred_at", "address", "postcode"]]
            place = place[~place.index.duplicated()]
            joined = place.reindex(inv["incident_id"].to_numpy())
            out["occurred_at"] = joined["occurred_at"].to_numpy()
            out["incident_address"] = joined["address"].to_numpy()
            out["incident_postcode"] = joined["postcode"].to_numpy()
        parts.append(out)
    if "marac.csv" in files:
        m = files["marac.csv"].rows
        for side, role in (("victim", "marac_victim"), ("perpetrator", "marac_perpetrator")):
            out = _frame(m, "marac.csv", f":{side}")
            out["source_row"] = m["source_row"].to_numpy()
            out["kind"] = role
            out["role"] = role
            out["occurred_at"] = m["referral_date"]
            for c in ("person_ref", "forename", "surname", "date_of_birth"):
                out[c] = m[f"{side}_{c}"]
            parts.append(out)
    if "management.csv" in files:
        g = files["management.csv"].rows
        out = _frame(g, "management.csv")
        out["source_row"] = g["source_row"].to_numpy()
        out["kind"] = "managed"
        out["role"] = "managed"
        out["occurred_at"] = g["from_date"]
        for c in ("person_ref", "forename", "surname", "date_of_birth"):
            out[c] = g[c]
        parts.append(out)
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for c in INPUT_COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    df = df.loc[:, list(INPUT_COLUMNS)]
    for c in INPUT_COLUMNS:
        if c in ("source_row",):
            df[c] = df[c].astype("int64")
        elif c in ("occurred_at", "date_of_birth"):
            df[c] = pd.to_datetime(df[c])
        else:
            df[c] = df[c].astype("string")
    return df
