"""Address identity for the graph: one stable, text-free id per place.

An address node is keyed on the postcode key (upper case, no spaces) and the
normalised address up to its last part holding a digit
(:mod:`adapt.rules.addresses`, the same rules identity resolution uses), so
``12 High St, Glenmoor`` / ``LE1 2AB`` and ``12 high street`` / ``le12ab`` are
one place. A postcode written inside the address text (``12 High St, LE1 2AB``)
is taken out of it, and used as the postcode when the postcode field is empty.

The id is ``A`` + 16 hex digits of a BLAKE2b hash of that key: the same place
gets the same id in every run and every export, and no address text appears in
a link row. The hash is not a secret (a list of addresses could be hashed and
compared), so treat the ids as personal data like the rest of the graph. Labels
for display live in the separate frame :func:`address_table` returns.

Work is done once per distinct (address, postcode) pair, then mapped back.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from adapt.rules.addresses import (
    normalise_address,
    postcode_display,
    postcode_key,
    split_trailing_postcode,
)

ADDRESS_COLUMNS: tuple[str, ...] = ("address_id", "label", "postcode")


def _address_id(key: str) -> str:
    return "A" + hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def resolve_addresses(address: pd.Series, postcode: pd.Series) -> pd.DataFrame:
    """The address id, display text and postcode of each (address, postcode) pair.

    Parameters
    ----------
    address, postcode
        Free-text address and postcode columns of equal length (either may be
        missing). A row with no address text gets no id: a postcode alone is an
        area, not a place.

    Returns
    -------
    pandas.DataFrame
        Same index as ``address``, columns ``address_id`` (``A`` + 16 hex
        digits, or missing), ``text`` (the address as written, without a
        trailing postcode) and ``postcode`` (``LE1 2AB`` form, or missing).

    Examples
    --------
    >>> ids = resolve_addresses(
    ...     pd.Series(["12 High St, LE1 2AB", "12 high street"]), pd.Series([None, "le12ab"])
    ... )
    >>> ids["address_id"].nunique()
    1
    """
    pairs = pd.DataFrame(
        {"address": address.astype("string"), "postcode": postcode.astype("string")}
    ).reset_index(drop=True)
    # Each distinct pair is worked on once; ``group`` maps every row to its pair.
    group = pairs.groupby(["address", "postcode"], dropna=False, sort=False).ngroup()
    group = group.to_numpy()
    first = pd.Series(group).drop_duplicates()
    uniq = pairs.iloc[first.index.to_numpy()[np.argsort(first.to_numpy())]]
    uniq = uniq.reset_index(drop=True)

    split = split_trailing_postcode(uniq["address"])
    text = split["text"]
    pc = postcode_key(uniq["postcode"]).fillna(postcode_key(split["postcode"]))
    norm = normalise_address(text)["addr_key"]

    keyed = norm.notna()
    keys = (pc.fillna("") + "|" + norm).where(keyed)
    distinct = keys.dropna().unique()
    ids = pd.Series([_address_id(k) for k in distinct.tolist()], index=distinct, dtype="string")
    # A 64-bit hash makes a clash vanishingly unlikely; if one ever happens two
    # places would silently share a node, which is worse than stopping.
    if ids.duplicated().any():
        raise RuntimeError("two different addresses hashed to the same address id")
    uniq_out = pd.DataFrame(
        {
            "address_id": keys.map(ids).astype("string"),
            "text": text.where(keyed).astype("string"),
            "postcode": postcode_display(pc).where(keyed).astype("string"),
        }
    )
    out = uniq_out.iloc[group]
    out.index = address.index
    return out


def address_table(resolved: pd.DataFrame) -> pd.DataFrame:
    """One row per address id: ``address_id, label, postcode``, sorted by id.

    ``resolved`` is :func:`resolve_addresses` output over the records to label.
    The label is the spelling of the address most often recorded for that id
    (ties: alphabetically first), with its postcode, e.g. ``12 High St, LE1 2AB``.
    """
    rows = resolved.dropna(subset=["address_id"])
    if not len(rows):
        return pd.DataFrame({c: pd.Series(dtype="string") for c in ADDRESS_COLUMNS})
    counts = (
        rows.groupby(["address_id", "text", "postcode"], dropna=False, observed=True)
        .size()
        .rename("n")
        .reset_index()
    )
    counts = counts.sort_values(
        ["address_id", "n", "text", "postcode"], ascending=[True, False, True, True]
    )
    best = counts.drop_duplicates("address_id").reset_index(drop=True)
    text = best["text"].str.replace(r"\s+", " ", regex=True).str.strip(" ,")
    label = text.where(best["postcode"].isna(), text + ", " + best["postcode"])
    return pd.DataFrame(
        {
            "address_id": best["address_id"].astype("string"),
            "label": label.astype("string"),
            "postcode": best["postcode"].astype("string"),
        }
    )
