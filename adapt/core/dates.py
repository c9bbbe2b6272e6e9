"""As-of dates: what "up to the end of the date" means, once for every stage."""

from __future__ import annotations

import pandas as pd

DAY = pd.Timedelta(days=1)


def cutoff_of(as_of: object) -> pd.Timestamp:
    """The first instant after the as-of date: records strictly before it count.

    >>> cutoff_of("2024-03-31")
    Timestamp('2024-04-01 00:00:00')
    >>> cutoff_of("2024-03-31 17:45")
    Timestamp('2024-04-01 00:00:00')
    """
    return pd.Timestamp(as_of).normalize() + DAY
