"""Charts with a text alternative (adapt.services.charts) and the Tuning
page's alternatives (adapt.views.tuning): WCAG 2.2 1.1.1."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.express as px
import pytest
from streamlit.testing.v1 import AppTest

from adapt.services import charts
from adapt.views import tuning
from adapt.views.text import md_escape

SENTENCE = "Two bars: 3 and 4 people."


def _page() -> None:
    import pandas as pd
    import plotly.express as px

    from adapt.services import charts

    frame = pd.DataFrame({"x": ["a", "b"], "people": [3, 4]})
    fig = px.bar(frame, x="x", y="people", title="People by x")
    charts.chart(fig, alt="Two bars: 3 and 4 people.", table=frame, key="one")
    charts.chart(fig, alt=frame, key="two")


def test_a_chart_is_drawn_with_its_sentence_and_its_table() -> None:
    at = AppTest.from_function(_page).run(timeout=60)
    assert not at.exception
    assert [c.value for c in at.caption] == [md_escape(SENTENCE)]  # drawn as text
    assert [e.label for e in at.expander] == [charts.TABLE_LABEL] * 2
    assert len(at.table) == 2
    assert len(at.get("plotly_chart")) == 2


def test_a_chart_without_an_alternative_is_refused() -> None:
    fig = px.bar(pd.DataFrame({"x": [1], "y": [1]}), x="x", y="y")
    with pytest.raises(ValueError, match="text alternative"):
        charts.chart(fig, alt="  ")
    with pytest.raises(TypeError):
        charts.chart(fig, alt=None)  # type: ignore[arg-type]


def test_the_score_histogram_as_words_and_a_table() -> None:
    ranked = pd.DataFrame({"score": [0.0, 1.0, 5.0, 30.0, 42.5],
                           "in_cohort": [False, False, False, True, True]})  # fmt: skip
    bins = tuning.score_histogram(ranked, bins=5)
    table = tuning.histogram_table(bins)
    assert list(table.columns) == ["Scores from", "Scores to", "In the cohort", "Not in the cohort"]
    assert table["In the cohort"].sum() == 2 and table["Not in the cohort"].sum() == 3
    assert ((table["In the cohort"] + table["Not in the cohort"]) > 0).all()  # empty bands left out
    assert tuning.histogram_sentence(ranked) == (
        "5 people scored from 0.0 to 42.5: the 2 in the cohort from 30.0 to 42.5, "
        "the other 3 from 0.0 to 5.0."
    )
    assert set(tuning.histogram_frame(bins)["group"]) == {"In the cohort", "Not in the cohort"}


def test_the_capture_curve_as_words_and_a_table() -> None:
    k = pd.Series(range(1, 101))
    curve = pd.concat(
        [pd.DataFrame({"method": m, "k": k, "harm_share": k / 100 * share, "incident_share": 0.0})
         for m, share in (("score", 0.5), ("harm_window", 0.4), ("visible_oracle", 0.9))],
        ignore_index=True,
    )  # fmt: skip
    table = tuning.capture_table(curve, cohort=30)
    assert list(table["Top K"]) == ["10", "25", "30 (the cohort size)", "50", "100"]
    assert list(table.columns) == ["Top K", "The score", "Harm in the window",
                                   "Best possible (hindsight)"]  # fmt: skip
    assert table.loc[2, "The score"] == "15.0%"
    sentence = tuning.capture_sentence(curve, 30, date(2025, 10, 30))
    assert sentence == (
        "Ranked as of 30/10/2025, the top 30 by the score (the cohort size) had 15.0% of the "
        "next year's harm; by harm in the window 12.0%; best possible (hindsight) 27.0%."
    )
    assert set(tuning.capture_frame(curve)["method"]) == {
        "The score", "Harm in the window", "Best possible (hindsight)"
    }  # fmt: skip
