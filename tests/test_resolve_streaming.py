"""The last pass of a resolution in batches: the kept links decided, written
and stored a batch at a time (memory bounded by a batch, not by the links)
give exactly what one frame gave, on every database.

A generated force is resolved through the database twice over, once with a
tiny batch (dozens of batches, analyst pairs falling in several of them) and
once with the default: the first full run, a full run after analyst
decisions (with lineage), and an incremental run after a newer extract. The
stored identity tables are compared exactly after each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from adapt.contract import read_extract
from adapt.core.resources import model_file
from adapt.db import connect, load_extract
from adapt.db import identity as store
from adapt.identity import IdentityModel, person_rows_from_extract, prepare_rows, resolve
from adapt.identity.resolve import LinkBatches
from adapt.identity.review import review_queue
from adapt.identity.runner import prepared_rows, resolve_database
from adapt.synthetic import GeneratorConfig, generate
from tests.conftest import _database

NOW = pd.Timestamp("2026-11-22").to_pydatetime()
TINY = 97
TABLES = {
    "person_assignments": "row_key",
    "persons": "person_id",
    "identity_links": "id",
    "identity_review": "id",
    "person_lineage": "id",
    "identity_runs": "id",
    "identity_models": "id",
}
STAMPS = ("started_at", "finished_at", "trained_at", "created_at", "decided_at")


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A force of 3,000 incidents, and the same force a month later."""
    root = tmp_path_factory.mktemp("streaming")
    newer, older = root / "newer", root / "older"
    generate(newer, GeneratorConfig(seed=23, incidents=3000, bad_row_rate=0.0))
    shutil.copytree(newer, older)
    inc = pd.read_csv(newer / "incidents.csv", dtype=str, keep_default_na=False)
    inv = pd.read_csv(newer / "involvements.csv", dtype=str, keep_default_na=False)
    when = pd.to_datetime(inc["occurred_at"], format="ISO8601")
    keep = when <= when.max() - pd.Timedelta(days=30)
    inc[keep].to_csv(older / "incidents.csv", index=False)
    inv[inv.incident_id.isin(inc.loc[keep, "incident_id"])].to_csv(
        older / "involvements.csv", index=False
    )
    return older, newer


def _tables(engine) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    out = {}
    with engine.connect() as conn:
        for table, key in TABLES.items():
            frame = pd.read_sql(text(f"SELECT * FROM {table} ORDER BY {key}"), conn)
            out[table] = frame.drop(columns=[c for c in STAMPS if c in frame.columns])
    return out


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)


def _decide(engine) -> None:  # type: ignore[no-untyped-def]
    """An analyst says "same" of the first possible missed merge and "not
    same" of the first possible false merge in the review queue."""
    with engine.connect() as conn:
        review = pd.read_sql(
            text("SELECT reason, row_key_l, row_key_r FROM identity_review ORDER BY id"), conn
        )
    links = review.dropna(subset=["row_key_l"])
    missed = links[links.reason.str.startswith("possible missed merge")]
    false = links[links.reason.str.startswith("possible false merge")]
    assert len(missed)
    store.record_decision(
        engine, missed.row_key_l.iloc[0], missed.row_key_r.iloc[0], "same", "a", "seen"
    )
    if len(false):
        store.record_decision(
            engine, false.row_key_l.iloc[0], false.row_key_r.iloc[0], "not_same", "a", "seen"
        )


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_tiny_batches_store_what_one_batch_stores(
    kind: str, extracts: tuple[Path, Path], tmp_path: Path
) -> None:
    older, newer = extracts
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with _database(kind, tmp_path / "a") as url_a, _database(kind, tmp_path / "b") as url_b:
        tiny, default = connect(url_a), connect(url_b)
        for engine in (tiny, default):
            load_extract(engine, read_extract(older, now=NOW))

        first = [resolve_database(tiny, batch_rows=TINY), resolve_database(default)]
        assert first[0] == first[1] and first[0].mode == "full"
        stored = _tables(tiny)
        assert len(stored["identity_links"]) > 20 * TINY  # many batches
        _same(stored, _tables(default))

        for engine in (tiny, default):
            _decide(engine)
        again = [resolve_database(tiny, batch_rows=TINY), resolve_database(default)]
        assert again[0] == again[1] and again[0].mode == "full"
        stored = _tables(tiny)
        assert len(stored["person_lineage"])  # the decisions moved rows
        _same(stored, _tables(default))

        for engine in (tiny, default):
            load_extract(engine, read_extract(newer, now=NOW))
        update = [resolve_database(tiny, batch_rows=TINY), resolve_database(default)]
        assert update[0] == update[1] and update[0].mode == "incremental"
        _same(_tables(tiny), _tables(default))
        for engine in (tiny, default):
            engine.dispose()


def test_link_batches_hold_the_links_of_one_frame(extracts: tuple[Path, Path]) -> None:
    """resolve with batch_rows: the same links, row for row, from a temporary
    file batch by batch; the same clusters and review queue; the file goes
    when the resolution is closed."""
    rows = prepare_rows(person_rows_from_extract(read_extract(extracts[0], now=NOW)))
    model = IdentityModel.load(str(model_file("identity-splink.json")))
    keys = rows["row_key"].to_numpy()
    must = pd.DataFrame(
        {"row_key_l": [keys[0], keys[5]], "row_key_r": [keys[1], keys[len(keys) - 1]]}
    )
    cannot = pd.DataFrame({"row_key_l": [keys[2]], "row_key_r": [keys[3]]})
    whole = resolve(rows, model, must_link=must, cannot_link=cannot)
    batched = resolve(rows, model, must_link=must, cannot_link=cannot, batch_rows=TINY)
    try:
        assert isinstance(batched.links, LinkBatches)
        sizes = [len(b) for b in batched.links]
        assert len(sizes) > 10 and max(sizes) <= TINY
        pd.testing.assert_frame_equal(batched.clusters, whole.clusters)
        got = batched.links_frame()
        want = whole.links
        assert list(got.columns) == list(want.columns)
        for c in want.columns:
            a, b = got[c], want[c]
            if isinstance(b.dtype, pd.CategoricalDtype) or c.startswith(("row_key", "lbl_")):
                a, b = a.astype("string"), b.astype("string")
            pd.testing.assert_series_equal(a, b, check_dtype=False, obj=c)
        pd.testing.assert_frame_equal(
            review_queue(batched, rows), review_queue(whole, rows), check_dtype=False
        )
        # the guarded links between clusters (what explains a split)
        apart = batched.guarded_links()
        guarded = want[want["decision"].astype(str).str.startswith("guard:")]
        pairs = set(zip(guarded["row_key_l"], guarded["row_key_r"], strict=True))
        assert len(apart) and set(zip(apart["row_key_l"], apart["row_key_r"], strict=True)) <= pairs
        folder = batched.links.folder
        assert folder.exists()
    finally:
        batched.close()
    assert not folder.exists()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_rows_prepared_in_batches_are_the_rows_prepared_whole(
    kind: str, extracts: tuple[Path, Path], tmp_path: Path
) -> None:
    """The resolver reads and prepares the stored person rows a batch at a time
    (the four kinds of row, batches crossing from one kind to the next):
    the same prepared rows, in the same order, and the same hashes, as
    preparing every stored row at once."""
    with _database(kind, tmp_path) as url:
        engine = connect(url)
        load_extract(engine, read_extract(extracts[1], now=NOW))
        whole = store.person_rows(engine)
        kinds = whole["kind"].value_counts()
        assert len(kinds) == 4 and kinds.min() > 0  # involvements, MARAC both sides, managed
        batched, hashes = prepared_rows(engine, batch_rows=TINY * 7)
        keep = list(batched.columns)
        want = prepare_rows(whole.drop(columns=["row_hash"]))
        assert len(batched) == len(whole) > 10 * TINY * 7
        assert {"row_key", "fn_canon", "occasion", "gender_std"} <= set(keep)
        pd.testing.assert_frame_equal(batched, want[keep])
        pd.testing.assert_frame_equal(hashes, whole[["row_key", "row_hash"]])
        batches = list(store.person_row_batches(engine, TINY * 7))
        assert len(batches) > 10 and all(len(b) for b in batches)
        pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)
        engine.dispose()
