"""Backtests on hand-built histories whose captures are worked out by hand.

As of T = 2025-06-30. Before T (all within the last 12 months):

* A: 8 common assaults (10 days each) against VA      -> 8 attendances, harm 80
* B: 7 common assaults against VB                     -> 7 attendances, harm 70
* C: 2 ABH (365 each) against VC                      -> 2 attendances, harm 730
* D: 1 verbal argument (non-crime, 0) against VD      -> 1 attendance, harm 0

In the 365 days after T (every incident's harm in brackets):

* f1 C rape (2555), f2 A ABH (365), f3 B common assault (10),
* f4 A and D together, GBH (1095): one incident, two suspects,
* f5 N, never seen before T, criminal damage (2);
* f6 B rape 400 days after T: outside the horizon.

Total future harm 4027 CHI days over 5 incidents. Per person: C 2555,
A 1460, D 1095, B 10, N 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adapt.core.history import History
from adapt.core.settings import default_settings
from adapt.evaluation import (
    Future,
    backtest,
    calibration_table,
    capture_at,
    capture_by_k,
    capture_curve,
    method_rankings,
    roc_auc,
)
from adapt.features import compute_features
from adapt.scoring.score import rank

AS_OF = "2025-06-30"
TOTAL = 2555 + 365 + 10 + 1095 + 2


def _history(future: list[tuple] | None = None) -> History:
    t = pd.Timestamp("2025-06-30")
    past = (
        [(f"a{i}", t - pd.Timedelta(days=20 + 30 * i), "common_assault", ["A"], "VA")
         for i in range(8)]
        + [(f"b{i}", t - pd.Timedelta(days=25 + 30 * i), "common_assault", ["B"], "VB")
           for i in range(7)]
        + [(f"c{i}", t - pd.Timedelta(days=40 + 100 * i), "abh", ["C"], "VC") for i in range(2)]
        + [("d0", t - pd.Timedelta(days=60), "verbal_argument", ["D"], "VD")]
    )  # fmt: skip
    if future is None:
        future = [
            ("f1", t + pd.Timedelta(days=10), "rape", ["C"], "VC"),
            ("f2", t + pd.Timedelta(days=20), "abh", ["A"], "VA"),
            ("f3", t + pd.Timedelta(days=30), "common_assault", ["B"], "VB"),
            ("f4", t + pd.Timedelta(days=40), "gbh", ["A", "D"], "VX"),
            ("f5", t + pd.Timedelta(days=50), "criminal_damage", ["N"], "VN"),
            ("f6", t + pd.Timedelta(days=400), "rape", ["B"], "VB"),
        ]
    incidents, involvements = [], []
    for iid, when, offence, suspects, victim in past + future:
        incidents.append(
            {
                "incident_id": iid,
                "occurred_at": when + pd.Timedelta(hours=12),
                "offence": offence,
                "is_crime": offence != "verbal_argument",
            }
        )
        for s in suspects:
            involvements.append({"incident_id": iid, "role": "suspect", "person_id": s})
        involvements.append({"incident_id": iid, "role": "victim", "person_id": victim})
    return History.build(pd.DataFrame(incidents), pd.DataFrame(involvements))


@pytest.fixture(scope="module")
def history() -> History:
    return _history()


def _rankings(history: History, **kw) -> dict[str, list[str]]:
    s = default_settings()
    ranked = rank(compute_features(history, AS_OF, s), s)
    future = Future.after(history, AS_OF)
    return {m: list(r) for m, r in method_rankings(ranked, future, s, **kw).items()}


def _share(bt: pd.DataFrame, method: str, k: int, what: str = "harm_share") -> float:
    row = bt[(bt["method"] == method) & (bt["k"] == k)]
    assert len(row) == 1
    return float(row[what].iloc[0])


def test_future_excludes_after_the_horizon(history: History) -> None:
    future = Future.after(history, AS_OF)
    assert sorted(future.incidents["incident_id"]) == ["f1", "f2", "f3", "f4", "f5"]
    assert future.total_harm == TOTAL
    assert future.outcomes["future_harm"].to_dict() == {
        "A": 1460, "B": 10, "C": 2555, "D": 1095, "N": 2,
    }  # fmt: skip


def test_rankings_of_each_method(history: History) -> None:
    r = _rankings(history)
    assert r["attendances_window"] == ["A", "B", "C", "D"]
    assert r["seven_in_12"] == ["A", "B"]
    assert r["harm_window"] == ["C", "A", "B", "D"]
    assert r["oracle"] == ["C", "A", "D", "B", "N"]
    assert r["visible_oracle"] == ["C", "A", "D", "B"]  # N was never seen before T
    assert sorted(r["score"]) == ["A", "B", "C", "D"]
    assert "learned" not in r


def test_oracle_captures_everything_and_the_visible_oracle_misses_the_unseen(
    history: History,
) -> None:
    bt = backtest(history, AS_OF, default_settings(), ks=(1, 2, 3, 5))
    assert _share(bt, "oracle", 1) == pytest.approx(2555 / TOTAL)
    # C then A: the rape, A's ABH and the shared GBH.
    assert _share(bt, "oracle", 2) == pytest.approx((2555 + 365 + 1095) / TOTAL)
    assert _share(bt, "oracle", 5) == pytest.approx(1.0)
    assert _share(bt, "oracle", 5, "incident_share") == pytest.approx(1.0)
    assert _share(bt, "visible_oracle", 5) == pytest.approx((TOTAL - 2) / TOTAL)
    assert _share(bt, "visible_oracle", 5, "incident_share") == pytest.approx(4 / 5)
    assert _share(bt, "visible_oracle", 5, "people") == 4


def test_seven_in_12_with_fewer_eligible_than_k(history: History) -> None:
    bt = backtest(history, AS_OF, default_settings(), ks=(1, 25, 200))
    assert _share(bt, "seven_in_12", 1) == pytest.approx((365 + 1095) / TOTAL)
    # Only A and B are eligible: K = 25 and 200 are both min(K, 2) = 2 people.
    for k in (25, 200):
        assert _share(bt, "seven_in_12", k, "people") == 2
        assert _share(bt, "seven_in_12", k) == pytest.approx((365 + 1095 + 10) / TOTAL)
        assert _share(bt, "seven_in_12", k, "incident_share") == pytest.approx(3 / 5)


def test_an_incident_with_two_suspects_in_the_top_k_counts_once(history: History) -> None:
    future = Future.after(history, AS_OF)
    both = capture_at(pd.Index(["A", "D"]), future, [2])
    assert float(both["harm_share"].iloc[0]) == pytest.approx((365 + 1095) / TOTAL)
    assert float(both["incident_share"].iloc[0]) == pytest.approx(2 / 5)
    # D alone gets the shared incident; adding A adds only A's own ABH.
    d_only = capture_at(pd.Index(["D"]), future, [1])
    assert float(d_only["harm_share"].iloc[0]) == pytest.approx(1095 / TOTAL)


def test_capture_curve_is_monotone_and_ends_at_the_ranking(history: History) -> None:
    curve = capture_curve(history, AS_OF, default_settings())
    assert set(curve["method"]) >= {"score", "oracle", "visible_oracle", "seven_in_12"}
    for _, c in curve.groupby("method"):
        assert (np.diff(c["harm_share"].to_numpy()) >= -1e-12).all()
        assert (np.diff(c["incident_share"].to_numpy()) >= -1e-12).all()
    assert curve["k"].max() == 4  # the score ranks the four people seen before T
    seven = curve[curve["method"] == "seven_in_12"]
    assert seven["people"].tolist() == [1, 2, 2, 2]


def test_cohort_size_follows_the_settings_rule(history: History) -> None:
    s = default_settings()
    bt = backtest(history, AS_OF, s)
    expected = int(rank(compute_features(history, AS_OF, s), s)["in_cohort"].sum())
    assert bt.attrs["cohort_size"] == expected
    assert expected >= 2  # A and B have 3+ attendances in 12 months
    strict = s.with_changes(
        {"cohort": {"min_attendances": 8, "min_score": None}},
        name="t", version="1", author="test", reason="stricter cohort",
    )  # fmt: skip
    assert backtest(history, AS_OF, strict).attrs["cohort_size"] == 1  # A alone
    assert bt.columns.tolist() == ["method", "k", "harm_share", "incident_share", "people"]


def test_nothing_after_the_date_changes_a_ranking() -> None:
    t = pd.Timestamp("2025-06-30")
    other_future = [
        ("g1", t + pd.Timedelta(days=5), "homicide", ["D"], "VD"),
        ("g2", t + pd.Timedelta(days=6), "rape", ["B"], "VB"),
        ("g3", t + pd.Timedelta(days=1), "breach_of_order", ["C"], "VC"),
    ]
    a = _rankings(_history())
    b = _rankings(_history(other_future))
    for method in ("score", "attendances_window", "seven_in_12", "harm_window"):
        assert a[method] == b[method], method
    assert a["oracle"] != b["oracle"]  # only the oracles look ahead


def test_learned_model_is_ranked_by_its_probability(history: History) -> None:
    class Fake:
        def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
            p = {"A": 0.1, "B": 0.9, "C": 0.5, "D": 0.3}
            q = features.index.map(p).to_numpy(dtype=float)
            return np.column_stack([1 - q, q])

    bt = backtest(history, AS_OF, default_settings(), ks=(1,), learned=Fake())
    assert _share(bt, "learned", 1) == pytest.approx((10) / TOTAL)  # B first
    s = default_settings()
    ranked = rank(compute_features(history, AS_OF, s), s)
    probability = pd.Series({"A": 0.1, "B": 0.9, "C": 0.5, "D": 0.3})
    r = method_rankings(ranked, Future.after(history, AS_OF), s, probability)
    assert list(r["learned"]) == ["B", "C", "D", "A"]


def test_exclude_managed_removes_people_from_every_history_method() -> None:
    h = _history()
    managed = pd.DataFrame(
        {"person_id": ["A"], "status": ["iom"], "from_date": ["2024-01-01"], "to_date": [None]}
    )
    h = History.build(h.incidents, h.involvements, management=managed)
    r = _rankings(h, exclude_managed=True)
    for method in ("score", "attendances_window", "seven_in_12", "harm_window", "visible_oracle"):
        assert "A" not in r[method], method
    assert "A" in r["oracle"]


def test_capture_by_k_on_an_empty_future() -> None:
    empty = Future(
        incidents=pd.DataFrame({"incident_id": [], "occurred_at": [], "harm": []}),
        suspects=pd.DataFrame({"incident_id": [], "person_id": [], "harm": []}),
        outcomes=pd.DataFrame({"future_incidents": [], "future_harm": []}),
    )
    out = capture_by_k(pd.Index(["A", "B"]), empty)
    assert out["harm_share"].tolist() == [0.0, 0.0]


def test_auc_and_calibration() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 1, 0, 1], [0.1, 0.2, 0.8, 0.9]) == 0.75  # 3 of 4 pairs in order
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))
    y = np.array([0, 0, 0, 1] * 25)
    p = np.full(100, 0.25)
    table = calibration_table(y, p, bins=4)
    assert table["people"].tolist() == [25, 25, 25, 25]
    assert table.attrs["brier"] == pytest.approx(0.1875)
    assert table["mean_predicted"].tolist() == [0.25] * 4
