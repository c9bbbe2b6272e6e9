"""Formula-safe CSV/XLSX writers used by every export.

```python
from adapt.exports import write_table, neutralise_formula

write_table(frame, "out/cohort.xlsx", sheet="Cohort")  # or .csv
```

See :mod:`adapt.exports.safe` for why text is neutralised, and
:mod:`adapt.exports.table` for how each format is written.
"""

from adapt.exports.safe import FORMULA_PREFIXES, formula_mask, neutralise_formula
from adapt.exports.table import (
    ALLOWED_SUFFIXES,
    XLSX_MAX_ROWS,
    clip_long_text,
    table_bytes,
    write_bytes,
    write_table,
)

__all__ = [
    "ALLOWED_SUFFIXES",
    "FORMULA_PREFIXES",
    "XLSX_MAX_ROWS",
    "clip_long_text",
    "formula_mask",
    "neutralise_formula",
    "table_bytes",
    "write_bytes",
    "write_table",
]
