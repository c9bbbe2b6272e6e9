"""Identity at scale: the shortcuts taken for speed change no result.

* prepare_rows normalises each distinct address, postcode and date once;
* the context stage codes the rows once per run (ContextRows);
* one splink predict, streamed in batches, scores the same pairs as chunks;
* between two clusters only the strongest below-threshold link is kept, and
  the review queue and explanations are what they were with every link.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapt.contract import read_extract
from adapt.identity import (
    IdentityModel,
    explain,
    person_rows_from_extract,
    prepare_rows,
    resolve,
    review_queue,
    splink_adapter,
)
from adapt.identity.context import add_context, context_rows
from adapt.identity.normalise import _per_unique, normalise_address, normalise_postcode
from adapt.synthetic import GeneratorConfig, generate

# the package exports a function named resolve, which hides the module
resolve_module = sys.modules["adapt.identity.resolve"]
MODEL = Path(__file__).resolve().parents[1] / "models" / "identity-splink.json"


@pytest.fixture(scope="module")
def model() -> IdentityModel:
    return IdentityModel.load(MODEL)


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("extract")
    generate(out, GeneratorConfig(seed=17, incidents=2500, noise=1.0))
    return prepare_rows(person_rows_from_extract(read_extract(out)))


def test_per_unique_is_the_rowwise_result() -> None:
    addr = pd.Series(
        ["12 High St, Leicester", None, "12 high st,leicester", "Flat 2, 3 Mill Rd", "", None] * 3,
        dtype="string",
        index=range(100, 118),
    )
    pd.testing.assert_frame_equal(_per_unique(addr, normalise_address), normalise_address(addr))
    pc = pd.Series(["le1 2ab", None, "LE12AB", "x", ""] * 2, dtype="string")
    pd.testing.assert_series_equal(_per_unique(pc, normalise_postcode), normalise_postcode(pc))


def test_context_rows_coded_once_give_the_same_context(
    rows: pd.DataFrame, model: IdentityModel
) -> None:
    pairs = splink_adapter.score(rows, model.settings_json_, threshold_weight=-2.0)
    kw = {"victim_weight": 4.0, "place_weight": 2.0}
    a = add_context(pairs, rows, **kw)
    b = add_context(pairs, context_rows(rows), **kw)
    pd.testing.assert_frame_equal(a, b)
    assert a["context_weight"].gt(0).any()


def test_one_streamed_predict_scores_the_same_pairs_as_chunks(
    rows: pd.DataFrame, model: IdentityModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(splink_adapter, "PASS1_BATCH_ROWS", 1000)  # several batches

    def pairs(chunks: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
        with splink_adapter.Scorer(
            rows, model.settings_json_, threshold_weight=-1.0, chunks=chunks
        ) as scorer:
            parts = list(scorer.chunks())
            got = pd.concat(parts, ignore_index=True).sort_values(["l", "r"], ignore_index=True)
            some = got.iloc[::3]
            fetched = scorer.fetch(some["l"].to_numpy(), some["r"].to_numpy())
        assert len(fetched) == len(some)
        return got, fetched, len(parts)

    one, one_fetched, n_one = pairs(1)
    two, two_fetched, _ = pairs(2)
    assert n_one > 1  # streamed in batches
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(one_fetched, two_fetched)


def test_strongest_per_cluster_pair_breaks_ties_like_the_review_queue() -> None:
    labels = np.array([0, 0, 1, 1, 2])
    rank = np.array([4, 3, 2, 1, 0])  # text order reverses positions
    a = np.array([0, 1, 0, 1, 2, 3])
    b = np.array([2, 3, 3, 2, 4, 4])
    p = np.array([0.5, 0.5, 0.4, 0.5, 0.6, 0.6])
    got = resolve_module._strongest_per_cluster_pair(labels, a, b, p, rank)
    # clusters (0, 1): three links at 0.5; text-smaller keys are rows 2, 3, 2:
    # the smallest position wins (row 2), then the other end (row 0 before 1)
    assert sorted(got.tolist()) == [0, 4]


def test_thinned_links_keep_review_queue_and_explanations(
    rows: pd.DataFrame, model: IdentityModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    thin = resolve(rows, model)
    monkeypatch.setattr(
        resolve_module,
        "_strongest_per_cluster_pair",
        lambda labels, a, b, p, rank: np.arange(len(a)),
    )
    full = resolve(rows, model)
    pd.testing.assert_frame_equal(thin.clusters, full.clusters)
    assert len(thin.links) < len(full.links)
    key = ["row_key_l", "row_key_r"]
    both = thin.links.merge(full.links, on=key, how="left", indicator=True)
    assert (both["_merge"] == "both").all()
    pd.testing.assert_frame_equal(
        thin.links[thin.links["accepted"]].reset_index(drop=True),
        full.links[full.links["accepted"]].reset_index(drop=True),
    )
    for band in ((0.3, 0.95), (0.5, 0.9)):
        pd.testing.assert_frame_equal(
            review_queue(thin, rows, band=band, limit=10**6),
            review_queue(full, rows, band=band, limit=10**6),
        )
    biggest = thin.clusters["cluster"].value_counts().index[0]
    keys = thin.clusters.loc[thin.clusters["cluster"] == biggest, "row_key"]
    pd.testing.assert_frame_equal(explain(thin.links, keys), explain(full.links, keys))
    # between two clusters: one below-threshold link at most
    cl = thin.clusters.set_index("row_key")["cluster"]
    below = thin.links[thin.links["decision"] == "below threshold"]
    ca = cl[below["row_key_l"]].to_numpy()
    cb = cl[below["row_key_r"]].to_numpy()
    apart = ca != cb
    pair = pd.DataFrame({"lo": np.minimum(ca, cb)[apart], "hi": np.maximum(ca, cb)[apart]})
    assert not pair.duplicated().any()
