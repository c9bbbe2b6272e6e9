"""Name folding: when two typed names are the same name, and how a name is printed
where only latin-1 can be drawn.

One transliteration, anyascii's (a maintained table covering every script),
rather than a hand-kept letter table: ``Æsa Œdipe Đurić`` folds to
``aesa oedipe duric``, ``José`` and ``Jose`` fold alike, ``Łukasz`` to
``lukasz``, ``山田`` to ``shantian``. The rule, in order:

1. transliterate to ASCII (anyascii);
2. lower case;
3. drop apostrophes, so ``O'Brien`` (or ``O’Brien``) is one word, ``obrien``;
4. every other run of non-letters (spaces, hyphens, dots, digits) becomes
   one space, and the ends are trimmed.

Identity resolution, the MARAC name search and the person search all fold
with it; :func:`forename_keys` and :func:`surname_keys` are the comparison
keys identity and the MARAC search both use. :func:`latin1` uses the same
transliteration for the PDF's core fonts.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from anyascii import anyascii

_NON_LETTERS = re.compile(r"[^a-z]+")
_NOT_LATIN1 = re.compile(r"[^\x00-\xff]+")


def fold_name(text: object) -> str:
    """One name folded (see the module docstring); missing text folds to ``""``.

    >>> fold_name("Æsa Œdipe Đurić"), fold_name("  Mary-Jane  O’Brien "), fold_name(None)
    ('aesa oedipe duric', 'mary jane obrien', '')
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    ascii_text = anyascii(str(text)).lower().replace("'", "")
    return _NON_LETTERS.sub(" ", ascii_text).strip()


def fold_names(values: pd.Series) -> pd.Series:
    """:func:`fold_name` of every value, worked out once per distinct value and
    mapped back (names repeat a lot); missing stays missing. Same index, dtype
    ``string``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = np.array([fold_name(v) for v in uniques] + [pd.NA], dtype=object)
    out = folded[np.where(codes < 0, len(uniques), codes)]
    return pd.Series(out, index=values.index, dtype="string")


def forename_keys(values: pd.Series) -> pd.Series:
    """The key a forename is compared on: the first word of the folded name
    (``Mary-Jane`` → ``mary``); missing when nothing is left."""
    first = fold_names(values).str.split(" ").str[0]
    return first.mask(first.str.len() == 0).astype("string")


def surname_keys(values: pd.Series) -> pd.Series:
    """The key a surname is compared on: the folded words joined
    (``Smythe-Brown`` → ``smythebrown``, ``O'Brien`` → ``obrien``); missing
    when nothing is left."""
    joined = fold_names(values).str.replace(" ", "", regex=False)
    return joined.mask(joined.str.len() == 0).astype("string")


def latin1(text: object) -> str:
    """Text the PDF core fonts (latin-1) can draw: latin-1 letters are kept
    (``Zoë``, ``Ñ``), anything else goes through the same transliteration
    (``Łukasz`` → ``Lukasz``, ``山田`` → ``ShanTian``, ``—`` → ``-``); a
    character anyascii has nothing for becomes ``?``.

    >>> latin1("Zoë Łukasz — 山田")
    'Zoë Lukasz - ShanTian'
    """
    composed = unicodedata.normalize("NFC", str(text))
    return _NOT_LATIN1.sub(lambda m: "".join(anyascii(c) or "?" for c in m.group()), composed)
