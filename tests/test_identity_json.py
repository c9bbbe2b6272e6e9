"""Link details are stored as JSON built with vectorised string operations:
whatever the text, each object parses back to the values it was made from."""

from __future__ import annotations

import json
import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from adapt.db.identity import _json_objects

# Control characters other than newline, return and tab never occur in level
# labels or context notes (they come from the model and the engine, not input).
label = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\r\t"),
    max_size=20,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
            st.one_of(st.none(), label),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_details_round_trip(rows: list[tuple[float | None, str | None, bool]]) -> None:
    frame = pd.DataFrame(
        {
            "mw_name": pd.array([r[0] for r in rows], dtype="Float64"),
            "lbl_name": pd.array([r[1] for r in rows], dtype="string"),
            "guarded": [r[2] for r in rows],
        }
    )
    for text, (weight, level, guarded) in zip(_json_objects(frame, list(frame)), rows, strict=True):
        back = json.loads(text)
        if weight is None:
            assert back["mw_name"] is None
        else:
            assert math.isclose(back["mw_name"], weight, rel_tol=1e-12, abs_tol=1e-12)
        assert back["lbl_name"] == level
        assert back["guarded"] is guarded
