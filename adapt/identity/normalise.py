"""Normalised linkage features for person rows.

Owns :func:`prepare_rows`: the one place where typed names, dates of birth,
refs, addresses and postcodes become comparable keys. Everything is
vectorised over the column or applied once per *unique* value and mapped back
(names and phonetic codes), so a 2.5M-row population costs seconds.

Features added (input columns are kept):

``fn``, ``fn_init``, ``fn_canon``, ``fn_aliases``, ``fn_meta``
    forename: the first word of the folded name (:mod:`adapt.rules.names`);
    its first letter; its formal name(s) via :mod:`adapt.identity.nicknames`; metaphone.
``sn``, ``sn_sdx``, ``sn_meta``
    surname: the folded words joined (``O'Brien`` → ``obrien``); soundex; metaphone.
``dob``, ``dob_y``, ``dob_m``, ``dob_d``, ``dob_key``, ``dob_jan1``
    ISO text, parts, a key shared by day/month-swapped variants
    (year + smaller part + larger part), and whether it is 1 January
    (a common placeholder, trusted less).
``ref``
    person_ref upper case without spaces.
``pc``, ``pc_sector``, ``pc_district``
    home postcode as ``LE1 2AB``, ``LE1 2``, ``LE1`` (:mod:`adapt.rules.addresses`).
``addr``, ``addr_key``, ``addr_num``
    home address lower case, punctuation removed, street types expanded;
    the address up to its last part holding a digit (drops a trailing town);
    the digits in it (house and flat numbers) (:mod:`adapt.rules.addresses`).
``inc_addr_key``, ``inc_pc``, ``month``, ``occasion``, ``role_group``
    context for the second stage: the incident's place and month, the
    occasion a row was recorded on (incident, or MARAC referral), and
    ``suspect``/``victim``/``other``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jellyfish
import numpy as np
import pandas as pd

from adapt.core.person_rows import PERSON_ROW_COLUMNS
from adapt.identity.nicknames import aliases
from adapt.rules.addresses import normalise_address, normalise_postcode, postcode_parts
from adapt.rules.names import forename_keys, surname_keys

T = TypeVar("T", pd.Series, pd.DataFrame)

INPUT_COLUMNS = PERSON_ROW_COLUMNS

SUSPECT_ROLES = ("suspect", "marac_perpetrator")
VICTIM_ROLES = ("victim", "marac_victim")


def _name_features(values: pd.Series, first_word: bool) -> pd.DataFrame:
    """Per unique name text: standardised form and phonetic codes."""
    uniq = pd.Series(values.dropna().unique(), dtype=object)
    std = (forename_keys(uniq) if first_word else surname_keys(uniq)).astype(object)
    std = std.where(std.notna(), None)
    out = pd.DataFrame({"raw": uniq, "std": std})
    valid = std.dropna().unique()
    meta = {v: jellyfish.metaphone(v) for v in valid}
    sdx = {v: jellyfish.soundex(v) for v in valid}
    out["meta"] = std.map(meta)
    out["sdx"] = std.map(sdx)
    return out.set_index("raw")


def _per_unique(values: pd.Series, func: Callable[[pd.Series], T]) -> T:
    """``func`` applied to the distinct values only, mapped back onto every row.

    ``func`` is vectorised and keeps row alignment (a Series or a DataFrame);
    it also sees one missing value, whose result is what missing rows get.
    Addresses, postcodes and dates repeat a lot, and the address rules
    include a per-value Python replacement (street words), so this is most of
    the cost of :func:`prepare_rows` saved at scale.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = pd.Series(uniques, dtype=values.dtype)
    table = pd.concat([table, pd.Series([None], dtype=values.dtype)], ignore_index=True)
    out = func(table)
    take = np.where(codes < 0, len(uniques), codes)
    mapped = out.iloc[take]
    mapped.index = values.index
    return mapped


def _map(values: pd.Series, table: pd.DataFrame, column: str) -> pd.Series:
    return pd.Series(
        values.map(table[column]).to_numpy(dtype=object), index=values.index, dtype="string"
    )


def prepare_rows(person_rows: pd.DataFrame) -> pd.DataFrame:
    """Normalised linkage features for person rows (see the module docstring).

    Parameters
    ----------
    person_rows
        One row per person mention with :data:`INPUT_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The input columns plus the features, same row order, fresh index.

    Examples
    --------
    >>> rows = prepare_rows(person_rows_from_extract(read_extract(folder)))  # doctest: +SKIP
    """
    missing = [c for c in INPUT_COLUMNS if c not in person_rows.columns]
    if missing:
        raise ValueError(f"person rows lack columns: {missing}")
    df = person_rows.loc[:, list(INPUT_COLUMNS)].reset_index(drop=True).copy()
    df["row_key"] = df["row_key"].astype("string")
    if df["row_key"].duplicated().any():
        raise ValueError("row_key must be unique")

    fn = _name_features(df["forename"].astype("string"), first_word=True)
    df["fn"] = _map(df["forename"], fn, "std")
    df["fn_meta"] = _map(df["forename"], fn, "meta")
    df["fn_init"] = df["fn"].str.slice(0, 1)
    alias = {v: list(aliases(v)) for v in df["fn"].dropna().unique()}
    df["fn_aliases"] = df["fn"].map(alias).astype(object)
    df["fn_canon"] = pd.Series(
        df["fn"].map({k: v[0] for k, v in alias.items()}).to_numpy(dtype=object), dtype="string"
    )
    sn = _name_features(df["surname"].astype("string"), first_word=False)
    df["sn"] = _map(df["surname"], sn, "std")
    df["sn_sdx"] = _map(df["surname"], sn, "sdx")
    df["sn_meta"] = _map(df["surname"], sn, "meta")

    dob = pd.to_datetime(df["date_of_birth"])
    df["dob"] = _per_unique(dob, lambda d: d.dt.strftime("%Y-%m-%d").astype("string"))
    df["dob_y"] = dob.dt.year.astype("Int32")
    df["dob_m"] = dob.dt.month.astype("Int32")
    df["dob_d"] = dob.dt.day.astype("Int32")
    lo = np.minimum(df["dob_m"], df["dob_d"]).astype("string")
    hi = np.maximum(df["dob_m"], df["dob_d"]).astype("string")
    df["dob_key"] = (df["dob_y"].astype("string") + "-" + lo + "-" + hi).astype("string")
    df["dob_jan1"] = ((df["dob_m"] == 1) & (df["dob_d"] == 1)).fillna(False).astype(bool)

    ref = df["person_ref"].astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    df["ref"] = ref.mask(ref.str.len() == 0)
    df["gender_std"] = df["gender"].astype("string").str.upper().str.slice(0, 1)

    df["pc"] = _per_unique(df["home_postcode"], normalise_postcode)
    pc_parts = _per_unique(df["pc"], postcode_parts)
    df["pc_district"] = pc_parts["district"]
    df["pc_sector"] = pc_parts["sector"]
    df = pd.concat([df, _per_unique(df["home_address"], normalise_address)], axis=1)
    df["inc_addr_key"] = _per_unique(
        df["incident_address"], lambda v: normalise_address(v)["addr_key"]
    )
    df["inc_pc"] = _per_unique(df["incident_postcode"], normalise_postcode)

    occurred = pd.to_datetime(df["occurred_at"])
    df["month"] = (occurred.dt.year * 12 + occurred.dt.month - 1).astype("Int64")
    marac = df["row_key"].str.replace(r":(victim|perpetrator)$", "", regex=True)
    df["occasion"] = (
        df["incident_id"]
        .astype("string")
        .fillna(marac.where(df["kind"].isin(["marac_victim", "marac_perpetrator"])))
    )
    role = df["role"].astype("string")
    df["role_group"] = np.select(
        [role.isin(SUSPECT_ROLES).fillna(False), role.isin(VICTIM_ROLES).fillna(False)],
        ["suspect", "victim"],
        "other",
    )
    return df
