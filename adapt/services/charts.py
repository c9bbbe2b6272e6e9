"""Charts with a text alternative (WCAG 2.2 AA, 1.1.1 non-text content).

A chart is a picture: someone using a screen reader, or who cannot tell its
colours apart, gets the same facts from a sentence under it or from a table
in an expander "Chart as a table" (a real HTML table a screen reader reads
cell by cell). The chart itself is named for assistive technology (its title
unless a ``name`` is given).

* :func:`chart` draws a plotly figure and its alternative: every page draws its
  plotly charts through it;
* :func:`alternative` draws only the alternative, under a chart drawn another
  way (``st.bar_chart``, which takes its own ``alt=`` name).

Sentences are drawn as text (:func:`adapt.views.text.md_escape`): they may
carry names or labels from the data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from adapt.views.text import md_escape

TABLE_LABEL = "Chart as a table"
# A table longer than this scrolls in a data grid instead of a static table.
STATIC_ROWS = 100
PLOTLY_CONFIG = {"displaylogo": False}
# GOV.UK's blue, red, green, purple, brown and dark grey: each at 3:1 or more
# on white (1.4.11 non-text contrast), for ``color_discrete_sequence``. Colour
# is never the only difference: add a dash or a pattern per group (1.4.1).
COLOURS = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#80224d", "#505a5f")


def chart_name(fig: Any, name: str | None = None) -> str:
    """The chart's short accessible name: ``name``, else the figure's title, else "Chart".

    >>> import plotly.graph_objects as go
    >>> chart_name(go.Figure(layout={"title": {"text": "Scores"}}))
    'Scores'
    >>> chart_name(go.Figure()), chart_name(go.Figure(), "Harm by month")
    ('Chart', 'Harm by month')
    """
    if name and name.strip():
        return name.strip()
    title = getattr(getattr(getattr(fig, "layout", None), "title", None), "text", None)
    return str(title).strip() if title and str(title).strip() else "Chart"


def _check(alt: str | pd.DataFrame) -> None:
    if isinstance(alt, str):
        if not alt.strip():
            raise ValueError("a chart needs a text alternative: a sentence or a table")
    elif not isinstance(alt, pd.DataFrame):
        raise TypeError(f"alt must be a sentence or a DataFrame, not {type(alt).__name__}")


def alternative(
    alt: str | pd.DataFrame,
    *,
    table: pd.DataFrame | None = None,
    key: str | None = None,
) -> None:
    """Draw a chart's text alternative: ``alt`` as a sentence (a caption) or as a
    table in an expander "Chart as a table"; ``table`` adds a table under a
    sentence. ``key`` keeps the expander's state apart from another chart's."""
    _check(alt)
    frame = alt if isinstance(alt, pd.DataFrame) else table
    if isinstance(alt, str):
        st.caption(md_escape(alt))
    if frame is not None:
        with st.expander(TABLE_LABEL, key=f"chart_table:{key}" if key else None):
            if frame.empty:
                st.caption("No rows.")
            elif len(frame) <= STATIC_ROWS:
                st.table(frame, hide_index=True)
            else:
                st.dataframe(frame, hide_index=True)


def chart(
    fig: Any,
    *,
    alt: str | pd.DataFrame,
    table: pd.DataFrame | None = None,
    name: str | None = None,
    key: str | None = None,
) -> None:
    """Draw a plotly figure, named for assistive technology, with its text
    alternative under it (:func:`alternative`).

    ``alt`` is a sentence that says what the chart shows (the facts, not "a bar
    chart of…") or a table of the values drawn; ``name`` a short name (the
    figure's title by default); ``key`` the chart's key (two charts of one page
    need different keys)."""
    _check(alt)
    st.plotly_chart(fig, width="stretch", config=PLOTLY_CONFIG, key=key, alt=chart_name(fig, name))
    alternative(alt, table=table, key=key)
