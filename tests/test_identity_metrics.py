"""Accuracy measures of a clustering against the truth, on cases worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adapt.identity import metrics as M


def _s(values: list[str]) -> pd.Series:
    return pd.Series(values)


def test_bcubed_one_row_moved_to_the_wrong_person() -> None:
    # truth {a,b},{c}; clusters {a},{b,c}.
    #   a: cluster {a},   person {a,b}: precision 1/1, recall 1/2
    #   b: cluster {b,c}, person {a,b}: precision 1/2, recall 1/2
    #   c: cluster {b,c}, person {c}:   precision 1/2, recall 1/1
    # precision = (1 + 1/2 + 1/2) / 3 = 2/3; recall = (1/2 + 1/2 + 1) / 3 = 2/3; F1 = 2/3.
    # Pairwise: the one true pair (a,b) is not predicted, the one predicted pair
    # (b,c) is false: precision 0, recall 0.
    truth = _s(["P1", "P1", "P2"])
    clusters = _s(["x", "y", "y"])
    b = M.bcubed_scores(truth, clusters)
    assert b["precision"] == pytest.approx(2 / 3)
    assert b["recall"] == pytest.approx(2 / 3)
    assert b["f1"] == pytest.approx(2 / 3)
    p = M.pairwise_scores(truth, clusters)
    assert (p["precision"], p["recall"], p["correct_pairs"]) == (0.0, 0.0, 0)


def test_bcubed_everything_merged_and_everything_split() -> None:
    # truth {a,b,c},{d}. One cluster of all four:
    #   a,b,c: precision 3/4, recall 1; d: precision 1/4, recall 1
    #   precision = (3 * 3/4 + 1/4) / 4 = 10/16 = 0.625, recall 1.
    truth = _s(["P1", "P1", "P1", "P2"])
    merged = M.bcubed_scores(truth, _s(["x"] * 4))
    assert merged["precision"] == pytest.approx(0.625)
    assert merged["recall"] == 1.0
    assert merged["f1"] == pytest.approx(2 * 0.625 / 1.625)
    # Every row alone: precision 1; recall a,b,c 1/3 each, d 1: (1 + 1) / 4 = 0.5.
    # Pairwise recall is 0 here (3 true pairs, none found): B-cubed credits the
    # singleton d, which pairwise scores cannot see.
    split = M.bcubed_scores(truth, _s(["w", "x", "y", "z"]))
    assert split["precision"] == 1.0
    assert split["recall"] == pytest.approx(0.5)
    assert M.pairwise_scores(truth, _s(["w", "x", "y", "z"]))["recall"] == 0.0


def test_bcubed_perfect_and_label_free() -> None:
    truth = _s(["P1", "P1", "P2", "P3", "P3", "P3"])
    same = M.bcubed_scores(truth, _s(["9", "9", "4", "7", "7", "7"]))
    assert same == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    # integer cluster labels work as well as text
    ints = M.bcubed_scores(truth, pd.Series(np.array([5, 5, 1, 2, 2, 2])))
    assert ints["f1"] == 1.0


def test_bcubed_matches_the_row_by_row_definition() -> None:
    rng = np.random.default_rng(7)
    truth = pd.Series(rng.integers(0, 40, 300))
    clusters = pd.Series(np.where(rng.random(300) < 0.8, truth, rng.integers(0, 60, 300)))
    t, c = truth.to_numpy(), clusters.to_numpy()
    prec = np.mean([np.sum((c == c[i]) & (t == t[i])) / np.sum(c == c[i]) for i in range(300)])
    rec = np.mean([np.sum((c == c[i]) & (t == t[i])) / np.sum(t == t[i]) for i in range(300)])
    b = M.bcubed_scores(truth, clusters)
    assert b["precision"] == pytest.approx(prec)
    assert b["recall"] == pytest.approx(rec)


def test_pairwise_scores_by_hand() -> None:
    # truth {a,b,c},{d,e}: true pairs 3 + 1 = 4. Clusters {a,b},{c,d,e}:
    # predicted pairs 1 + 3 = 4, correct (a,b) and (d,e) = 2: precision 1/2, recall 1/2.
    truth = _s(["P1", "P1", "P1", "P2", "P2"])
    p = M.pairwise_scores(truth, _s(["x", "x", "y", "y", "y"]))
    assert (p["true_pairs"], p["predicted_pairs"], p["correct_pairs"]) == (4, 4, 2)
    assert p["precision"] == 0.5 and p["recall"] == 0.5 and p["false_pairs"] == 2
