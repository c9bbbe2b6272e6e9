"""No protected characteristic or proxy for one is an input to a feature or a
score: none is named as one, none is read, and changing them moves nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from adapt.core.history import PROTECTED_COLUMNS, History
from adapt.core.settings import default_settings
from adapt.features import FEATURES, compute_features
from adapt.scoring.score import PARTS, rank

ROOT = Path(__file__).resolve().parents[1]
# Protected characteristics and the proxies the issue names: sex, age (and
# date of birth, from which it follows), ethnicity, religion, nationality,
# area deprivation, postcode (and the address and policing area it sits in).
PROTECTED_TERMS = (
    "gender", "sex", "age", "birth", "dob", "ethnic", "religio", "nationality", "deprivation",
    "postcode", "address", "area", "imd", "race",
)  # fmt: skip
S = default_settings()


def _words(name: str) -> list[str]:
    return name.lower().split("_")


def test_no_feature_part_or_setting_is_named_after_a_protected_characteristic() -> None:
    names = [*FEATURES, *PARTS, *S.model_dump().keys()]
    names += [f"{k}.{sub}" for k, v in S.model_dump().items() if isinstance(v, dict) for sub in v]
    for name in names:
        for word in _words(name.replace(".", "_")):
            assert not any(word.startswith(t) for t in PROTECTED_TERMS), name


def test_feature_and_score_code_never_names_a_protected_column() -> None:
    protected = {c for cols in PROTECTED_COLUMNS.values() for c in cols} | {"date_of_birth"}
    for module in ("adapt/features/compute.py", "adapt/scoring/score.py"):
        tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        used = {s for s in strings if isinstance(s, str)} & protected
        assert not used, f"{module} reads {sorted(used)}"


def test_changing_protected_columns_does_not_move_any_score(demo_history: History) -> None:
    h = demo_history
    as_of = "2026-10-31"
    before = rank(compute_features(h, as_of, S), S)
    rng = np.random.default_rng(7)
    inv = h.involvements.copy()
    # Swap everyone's recorded sex, age people by random years, move their homes.
    inv["gender"] = inv["gender"].map({"F": "M", "M": "F", "X": "F"}).astype("string")
    shift = pd.to_timedelta(rng.integers(-20 * 365, 20 * 365, len(inv)), unit="D")
    inv["date_of_birth"] = inv["date_of_birth"] + shift
    inv["home_postcode"] = rng.permutation(inv["home_postcode"].to_numpy())
    inv["home_address"] = rng.permutation(inv["home_address"].to_numpy())
    inc = h.incidents.copy()
    inc["area"] = rng.permutation(inc["area"].to_numpy())
    inc["postcode"] = "ZZ9 9ZZ"
    inc["address"] = rng.permutation(inc["address"].to_numpy())
    changed = History.build(inc, inv, h.marac, h.management)
    after = rank(compute_features(changed, as_of, S), S)
    pd.testing.assert_frame_equal(before, after)
    assert before["in_cohort"].sum() > 0  # a real cohort, not an empty comparison
