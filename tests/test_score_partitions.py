"""Scoring bucket by bucket gives the table the whole history gives.

On a generated force (20,000 incidents, loaded and resolved through
``adapt.pipeline``) on SQLite and, with ``ADAPT_TEST_DATABASE_URL``,
PostgreSQL: :func:`adapt.scoring.runner.cohort_table_partitioned` with five
buckets of whole components (and with one) returns exactly the table
:func:`adapt.scoring.runner.cohort_table` computes on the whole history (same
rows, order, values and dtypes), and :func:`score_database` stores it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adapt import pipeline
from adapt.core.history import History
from adapt.core.settings import default_settings
from adapt.db import connect, scores
from adapt.db.history import history_buckets, last_incident_date, load_history, load_history_keys
from adapt.db.scores import score_run_frame
from adapt.scoring import partitions
from adapt.scoring.runner import (
    NotResolved,
    cohort_table,
    cohort_table_partitioned,
    score_database,
)
from adapt.synthetic import GeneratorConfig

INCIDENTS = 8_000


@pytest.fixture(scope="module")
def force(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The generated force loaded and resolved, its whole-history table."""
    folder = tmp_path_factory.mktemp("partitions") / "extract"
    pipeline.generate(folder, GeneratorConfig(seed=11, incidents=INCIDENTS))
    pipeline.load(module_db_url, folder)
    pipeline.resolve(module_db_url)
    engine = connect(module_db_url)
    try:
        history = load_history(engine, with_protected=False)
        day, table = cohort_table(history, None, default_settings())
    finally:
        engine.dispose()
    return {"url": module_db_url, "history": history, "day": day, "table": table}


@pytest.mark.parametrize("buckets", [5, 1])
def test_buckets_give_the_whole_history_table(force: dict, buckets: int) -> None:
    engine = connect(force["url"])
    try:
        day, table, unresolved = cohort_table_partitioned(
            engine, None, default_settings(), buckets=buckets
        )
    finally:
        engine.dispose()
    assert day == force["day"]
    assert unresolved == force["history"].unresolved_rows()
    assert len(table) > 1000
    pd.testing.assert_frame_equal(table, force["table"], check_exact=True)


def test_an_earlier_date_too(force: dict) -> None:
    as_of = force["day"] - pd.Timedelta(days=400)
    _, whole = cohort_table(force["history"], as_of, default_settings())
    engine = connect(force["url"])
    try:
        _, table, _ = cohort_table_partitioned(engine, as_of, default_settings(), buckets=3)
    finally:
        engine.dispose()
    pd.testing.assert_frame_equal(table, whole, check_exact=True)


def _staged(engine, n: int):  # type: ignore[no-untyped-def]
    """The stored keys, each record's bucket of ``n``, and what
    history_buckets stages of them (each record's key and bucket)."""
    keys = load_history_keys(engine)
    where = partitions.row_buckets(keys, n)
    return (
        keys,
        where,
        {
            "incidents": pd.DataFrame(
                {"incident_id": keys.incidents["incident_id"], "bucket": where["incidents"]}
            ),
            "marac": pd.DataFrame({"id": keys.marac["id"], "bucket": where["marac"]}),
            "management": pd.DataFrame(
                {"id": keys.management["id"], "bucket": where["management"]}
            ),
        },
    )


def test_each_bucket_reads_its_share(force: dict) -> None:
    """The buckets hold every record once, each about a fifth of the rows."""
    engine = connect(force["url"])
    try:
        _, _, staged = _staged(engine, 5)
        with history_buckets(engine, staged) as read:
            parts = [read(b) for b in range(5)]
        assert last_incident_date(engine) == force["history"].last_date
    finally:
        engine.dispose()
    whole = force["history"]
    for name in ("incidents", "involvements", "marac", "management"):
        got = pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        assert len(got) == len(getattr(whole, name)), name
    sizes = np.array([len(p.involvements) for p in parts])
    assert sizes.min() > 0.5 * len(whole.involvements) / 5
    assert sizes.max() < 1.5 * len(whole.involvements) / 5
    # No person is in two buckets.
    people = pd.concat(
        [p.involvements[["person_id"]].assign(bucket=i) for i, p in enumerate(parts)]
    ).dropna()
    assert people.groupby("person_id")["bucket"].nunique().max() == 1


def test_score_database_stores_the_table(force: dict) -> None:
    engine = connect(force["url"])
    try:
        result = score_database(engine, rows_per_bucket=15_000)
        stored = score_run_frame(engine, result.run_id)
    finally:
        engine.dispose()
    pd.testing.assert_frame_equal(result.table, force["table"], check_exact=True)
    assert len(stored) == len(force["table"])
    assert stored["person_id"].tolist() == force["table"]["person_id"].tolist()
    # A force that fits in one bucket is read whole.
    engine = connect(force["url"])
    try:
        whole = score_database(engine, store=False)
    finally:
        engine.dispose()
    assert whole.run_id is None
    pd.testing.assert_frame_equal(whole.table, force["table"], check_exact=True)


def test_a_run_stored_in_slices_is_the_run_stored_whole(
    force: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranked table is written a slice at a time; slices that cut it
    anywhere (here every 997 rows, a prime, so the cuts fall mid-way) store
    the same rows, ranks and values as one slice."""
    engine = connect(force["url"])
    try:
        monkeypatch.setattr(scores, "STORE_BATCH_ROWS", 10**9)
        whole = score_run_frame(engine, score_database(engine).run_id)
        monkeypatch.setattr(scores, "STORE_BATCH_ROWS", 997)
        sliced = score_run_frame(engine, score_database(engine).run_id)
    finally:
        engine.dispose()
    assert len(whole) > 997 * 3
    assert whole["rank"].tolist() == list(range(1, len(whole) + 1))
    pd.testing.assert_frame_equal(
        sliced.drop(columns="run_id"), whole.drop(columns="run_id"), check_exact=True
    )


def test_nothing_stored_is_refused(db_url: str) -> None:
    engine = connect(db_url)
    try:
        with pytest.raises(NotResolved, match="no incidents"):
            cohort_table_partitioned(engine)
    finally:
        engine.dispose()


def _history() -> History:
    return History.build(
        incidents=pd.DataFrame(
            {
                "incident_id": ["i1", "i2", "i3", "i4", "i5"],
                "occurred_at": pd.to_datetime(["2024-01-01"] * 5),
                "offence": ["assault"] * 5,
                "is_crime": [True] * 5,
            }
        ),
        involvements=pd.DataFrame(
            {
                "incident_id": ["i1", "i1", "i2", "i2", "i3", "i3", "i4", "i5", "i5"],
                "role": ["suspect", "victim"] * 4 + ["victim"],
                "person_id": ["a", "b", "b", "c", "d", "e", "g", "x", None],
            }
        ),
        marac=pd.DataFrame(
            {
                "referral_id": ["m1", "m2"],
                "referral_date": pd.to_datetime(["2024-02-01"] * 2),
                "victim_person_id": ["f", "y"],
                "perpetrator_person_id": ["d", None],
            }
        ),
        management=pd.DataFrame(
            {
                "person_id": ["c", None],
                "status": ["iom", "iom"],
                "from_date": pd.to_datetime(["2024-01-01"] * 2),
            }
        ),
        counter_overrides=pd.DataFrame({"person_a": ["g"], "person_b": ["h"], "aggressor": ["g"]}),
    )


def test_rows_follow_their_component() -> None:
    history = _history()
    where = partitions.row_buckets(history, 3)
    inc = dict(zip(history.incidents["incident_id"], where["incidents"], strict=True))
    assert inc["i1"] == inc["i2"]  # joined by b
    inv = history.involvements.assign(bucket=where["involvements"])
    assert (inv["bucket"] == inv["incident_id"].map(inc)).all()
    # m1 goes with d (i3), m2 with its victim alone; c's management with i2.
    assert where["marac"][0] == inc["i3"]
    assert where["management"][0] == inc["i2"]
    assert where["management"][1] == 0  # no one: bucket 0
    assert where["counter_overrides"][0] == inc["i4"]


def test_deal_cuts_runs_of_about_equal_rows() -> None:
    rows = np.array([5, 1, 1, 1, 1, 1, 0, 2, 2, 2])
    dealt = partitions.deal(rows, 2)
    assert dealt.tolist() == sorted(dealt.tolist())  # runs of components
    assert [int(rows[dealt == b].sum()) for b in (0, 1)] == [8, 8]
    assert partitions.deal(rows, 1).tolist() == [0] * len(rows)
    assert partitions.deal(np.zeros(3, dtype=int), 4).tolist() == [0, 0, 0]


def test_buckets_skipped_or_asked_out_of_order(force: dict) -> None:
    """Each source is one read ordered by bucket: a bucket not asked for is
    passed over (the next holds only its own rows), and a bucket asked for
    after a later one is refused rather than read wrong."""
    engine = connect(force["url"])
    try:
        keys, where, staged = _staged(engine, 4)
        with history_buckets(engine, staged) as read:
            every = [read(b) for b in range(4)]
        with history_buckets(engine, staged) as read:
            third = read(2)
            with pytest.raises(ValueError, match="increasing order"):
                read(1)
    finally:
        engine.dispose()
    assert len(third.involvements) > 0
    want_ids = set(keys.incidents["incident_id"][where["incidents"] == 2])
    assert set(third.incidents["incident_id"]) == want_ids
    for name in ("incidents", "involvements", "marac", "management"):
        pd.testing.assert_frame_equal(getattr(third, name), getattr(every[2], name))
