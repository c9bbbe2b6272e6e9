"""Postcodes and addresses as comparable keys.

Postcodes: the key is the text upper-cased with everything but letters and
digits removed (``" sw1a-1aa "`` → ``SW1A1AA``; nothing left: missing). The
display form puts the one space before the inward code (``SW1A 1AA``) when the
key has a UK postcode's shape, and leaves any other text as its key. District
(``SW1A``) and sector (``SW1A 1``) are read off the display form.

Addresses: lower case, punctuation to spaces, common street-type
abbreviations expanded as whole words (``St`` → ``street``), commas kept only
to find the parts; the key is the address up to its last part holding a digit
(a trailing town is dropped), and the digits are the house and flat numbers.
A postcode typed at the end of the address text can be split off first
(:func:`split_trailing_postcode`).

Identity resolution and the graph's address ids both use these rules.
Everything is vectorised over a Series.
"""

from __future__ import annotations

import pandas as pd

# The shape of a UK postcode: outward code (area letters, district digit(s)
# and maybe a letter) then inward code (sector digit, unit letters).
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_INWARD = r"[0-9][A-Z]{2}"
_POSTCODE_KEY_SHAPE = rf"^{_OUTWARD}{_INWARD}$"
# The same shape written at the end of an address (any case, maybe a space).
_IN_TEXT = rf"(?i:{_OUTWARD}\s*{_INWARD})"
_TRAILING_POSTCODE = r"[\s,]*\b" + _IN_TEXT + r"\s*$"
_ONLY_TRAILING_POSTCODE = r"^.*?[\s,]*\b(" + _IN_TEXT + r")\s*$"

# Common UK street-type and address abbreviations, expanded (whole words).
STREET_WORDS: dict[str, str] = {
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "cres": "crescent",
    "cresc": "crescent",
    "dr": "drive",
    "gdns": "gardens",
    "gds": "gardens",
    "gr": "grove",
    "gro": "grove",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "ter": "terrace",
    "terr": "terrace",
    "tce": "terrace",
    "wy": "way",
    "pk": "park",
    "hse": "house",
    "bldgs": "buildings",
    "apt": "flat",
    "apartment": "flat",
    "mt": "mount",
    "nth": "north",
    "sth": "south",
}
_STREET_RE = r"\b(" + "|".join(sorted(STREET_WORDS, key=len, reverse=True)) + r")\b"


def postcode_key(values: pd.Series) -> pd.Series:
    """Postcodes upper case, letters and digits only; empty becomes missing.

    >>> postcode_key(pd.Series(["sw1a1aa", " SW1A 1AA ", "sw1a-1aa", " "])).tolist()
    ['SW1A1AA', 'SW1A1AA', 'SW1A1AA', <NA>]
    """
    s = values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return s.mask(s.str.len() == 0)


def postcode_display(key: pd.Series) -> pd.Series:
    """A :func:`postcode_key` shown as ``SW1A 1AA`` where it has a UK
    postcode's shape; any other text as it is."""
    key = key.astype("string")
    spaced = key.str.slice(0, -3) + " " + key.str.slice(-3)
    return spaced.where(key.str.match(_POSTCODE_KEY_SHAPE).fillna(False), key).astype("string")


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Postcodes in display form (``LE1 2AB``); text that is not a UK postcode
    shape is kept, cleaned (:func:`postcode_key`)."""
    return postcode_display(postcode_key(values))


def postcode_parts(pc: pd.Series) -> pd.DataFrame:
    """District (``LE1``) and sector (``LE1 2``) of :func:`normalise_postcode` output."""
    parts = pc.str.split(" ")
    return pd.DataFrame(
        {
            "district": parts.str[0].astype("string"),
            "sector": (parts.str[0] + " " + parts.str[1].str.slice(0, 1)).astype("string"),
        },
        index=pc.index,
    )


def split_trailing_postcode(text: pd.Series) -> pd.DataFrame:
    """Address text with a postcode typed at its end taken off: ``text`` (the
    address without it) and ``postcode`` (as typed, or missing).

    >>> split_trailing_postcode(pd.Series(["12 High St, le1 2ab"])).values.tolist()
    [['12 High St', 'le1 2ab']]
    """
    text = text.astype("string").copy()
    postcode = pd.Series(pd.NA, index=text.index, dtype="string")
    # Few addresses carry a postcode: only those pay for the slower expression.
    has_pc = text.str.contains(_TRAILING_POSTCODE, regex=True).fillna(False).to_numpy(dtype=bool)
    if has_pc.any():
        with_pc = text[has_pc]
        postcode[has_pc] = with_pc.str.replace(_ONLY_TRAILING_POSTCODE, r"\1", regex=True)
        text[has_pc] = with_pc.str.replace(_TRAILING_POSTCODE, "", regex=True)
    return pd.DataFrame({"text": text, "postcode": postcode}, index=text.index)


def normalise_address(values: pd.Series) -> pd.DataFrame:
    """Full normalised address (``addr``), the key that drops a trailing town
    part (``addr_key``) and its digits (``addr_num``); missing when empty.

    >>> normalise_address(pd.Series(["12 High St, Glenmoor"])).values.tolist()
    [['12 high street glenmoor', '12 high street', '12']]
    """
    s = values.astype("string").str.lower()
    s = s.str.replace(r"[^a-z0-9,]+", " ", regex=True)
    s = s.str.replace(_STREET_RE, lambda m: STREET_WORDS[m.group(1)], regex=True)
    s = s.str.replace(r"\s*,\s*", ",", regex=True).str.strip(" ,")
    key = s.str.replace(r"^(.*[0-9][^,]*)(?:,[^0-9,]*)+$", r"\1", regex=True)
    key = key.str.replace(",", " ", regex=False).str.replace(r"\s+", " ", regex=True)
    full = s.str.replace(",", " ", regex=False).str.replace(r"\s+", " ", regex=True)
    num = key.str.replace(r"[^0-9]+", " ", regex=True).str.strip()
    empty = full.str.len().fillna(0) == 0
    return pd.DataFrame(
        {
            "addr": full.mask(empty),
            "addr_key": key.mask(empty),
            "addr_num": num.mask(empty | (num.str.len() == 0)),
        }
    )
