"""Resolve everything stored: read person rows and decisions from the database,
run the engine (in full, or only on what is new or changed), keep person ids
stable, and store assignments, lineage, links and the review queue.

A run is incremental when a previous run exists, no analyst decision has
changed since it, and fewer than half the rows are new or changed; otherwise
(or with ``full=True``) everything is resolved again. Either way ids are
carried over by :func:`adapt.identity.ids.assign_ids`.

The match model is learned from the force's own rows. A full run with no
stored model, or any run with ``retrain=True`` (``adapt resolve --retrain``,
which also resolves everything again), trains one
(:meth:`IdentityModel.refit`: prior, u and m from the stored rows, starting
from the packaged model) and stores it (``adapt.db.identity_models``); other
runs reuse the latest stored model. An extract smaller than
``min_training_rows`` is resolved with the packaged model alone, and the run
summary and the log say so, as they say which model every run used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from adapt.core.resources import model_file
from adapt.db import identity as store
from adapt.db import identity_models as model_store
from adapt.db.engine import utc_now
from adapt.identity.ids import Assignment, assign_ids
from adapt.identity.model import IdentityModel
from adapt.identity.normalise import prepare_rows
from adapt.identity.resolve import ENGINE_COLUMNS, Resolution, resolve, resolve_incremental
from adapt.identity.review import review_queue

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
DEFAULT_MODEL = Path(str(model_file("identity-splink.json")))
INCREMENTAL_SHARE = 0.5
# Below this many person rows the model is not trained on the extract: the
# packaged model is used alone (and the run says so). Random pairs stand in
# for non-matches when u is estimated, and on a small extract more of them are
# true pairs; the EM blocks hold a few hundred pairs, the rare levels a handful.
# Measured: on FEBRL1 (1,000 rows) training on the data did not beat the
# packaged model (F1 0.885 against 0.886); on FEBRL2 and FEBRL3 (5,000 rows)
# it did (0.914 against 0.896, 0.904 against 0.881), as on the generator from
# 2,000 rows up.
MIN_TRAINING_ROWS = 2000
# Kept links decided, written and stored this many at a time (see
# adapt.identity.resolve.resolve): the links of a large force are never one frame.
LINK_BATCH_ROWS = 500_000
# Person rows read and prepared this many at a time (see prepared_rows).
PREPARE_BATCH_ROWS = 1_000_000
# What the review queue reads of the prepared rows.
REVIEW_COLUMNS = ("row_key", "date_of_birth", "gender_std", "sn")


@dataclass(frozen=True)
class RunSummary:
    run_id: int | None
    mode: str
    rows: int
    rows_resolved: int
    persons_created: int
    merges: int
    splits: int
    review_items: int
    # Which match model the run used, in words; its source ("trained": on
    # this data in this run, "reused": a stored model, "packaged") and the
    # stored model's id (None: the packaged model).
    model: str = ""
    model_source: str = ""
    model_id: int | None = None


@dataclass(frozen=True)
class ModelChoice:
    """The model a run uses, and how it was chosen."""

    model: IdentityModel
    source: str  # trained | reused | packaged
    model_id: int | None
    description: str  # for the run summary
    label: str  # identity_runs.model (at most 100 characters)


def load_model(path: Path | None = None):  # type: ignore[no-untyped-def]
    """The trained model committed under ``models/`` (or ``path``)."""

    return IdentityModel.load(path or DEFAULT_MODEL)


def _comparisons(settings: dict) -> list:
    """What a model compares (names, levels and their SQL), not what it learned."""
    return [
        (c["output_column_name"], [(lv.get("label_for_charts"), lv["sql_condition"])
                                   for lv in c["comparison_levels"]])
        for c in settings["comparisons"]
    ]  # fmt: skip


def choose_model(
    engine: Engine,
    rows: pd.DataFrame,
    packaged: IdentityModel,
    *,
    incremental: bool,
    retrain: bool,
    min_training_rows: int = MIN_TRAINING_ROWS,
    packaged_name: str = DEFAULT_MODEL.name,
) -> ModelChoice:
    """Train on ``rows`` (prepared), reuse the latest stored model, or use the packaged one.

    A stored model whose comparisons differ from the packaged model's (an
    upgrade changed them) is not reused: a full run trains anew. A reused
    model keeps what it learned (prior, m, u) and takes the decision
    parameters (threshold, context weights) in force in the packaged model.
    """
    stored = model_store.latest_model(engine)
    stale: int | None = None
    if stored is not None and _comparisons(stored.model["splink_settings"]) != _comparisons(
        packaged.settings_json_
    ):
        log.info("stored identity model %s compares other fields: not reused", stored.id)
        stale, stored = stored.id, None
    if stored is not None and not retrain:
        model = IdentityModel.from_json({**stored.model, "params": packaged.get_params()})
        when = f"{stored.trained_at:%Y-%m-%d}"
        log.info("identity model: reusing stored model %s (trained %s)", stored.id, when)
        return ModelChoice(
            model,
            "reused",
            stored.id,
            f"model {stored.id}, trained on this force's data on {when} "
            f"({stored.rows:,} rows; `adapt resolve --retrain` trains anew)",
            f"identity model {stored.id} (reused)",
        )
    if incremental and not retrain:
        log.info("identity model: packaged (no model trained on this data yet)")
        return ModelChoice(
            packaged,
            "packaged",
            None,
            f"packaged model {packaged_name} ("
            + (
                f"stored model {stale} was trained with an older set of comparisons"
                if stale is not None
                else "none trained on this data yet"
            )
            + "; `adapt resolve --retrain` trains one)",
            f"{packaged_name} (packaged)",
        )
    if len(rows) < min_training_rows:
        log.warning(
            "identity model: packaged model alone: the extract is too small to train on "
            "(%d rows, fewer than %d)",
            len(rows),
            min_training_rows,
        )
        return ModelChoice(
            packaged,
            "packaged",
            None,
            f"packaged model {packaged_name}: the extract is too small to train on "
            f"({len(rows):,} rows, fewer than {min_training_rows:,})",
            f"{packaged_name} (packaged: extract too small to train on)",
        )
    model = packaged.refit(rows, trained_on=f"this force's stored rows ({len(rows):,} person rows)")
    figures = {**model.training_figures_, "started_from": packaged_name}
    model_id = model_store.store_model(
        engine, model.to_json(), figures, rows=len(rows), seed=model.seed
    )
    log.info("identity model: trained model %s on %d rows", model_id, len(rows))
    return ModelChoice(
        model,
        "trained",
        model_id,
        f"model {model_id}, trained on this data ({len(rows):,} rows)",
        f"identity model {model_id} (trained on this data)",
    )


def prepared_rows(
    engine: Engine, batch_rows: int = PREPARE_BATCH_ROWS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every stored person row prepared (:func:`prepare_rows`) in the columns
    the engine, the model's training and the review queue read, and each
    row's ``row_key`` and ``row_hash``: read and prepared ``batch_rows`` rows
    at a time (the preparation is row by row), so every stored column of every
    row is never held at once, nor the preparation's working columns."""
    keep = list(dict.fromkeys([*ENGINE_COLUMNS, *REVIEW_COLUMNS]))
    parts: list[pd.DataFrame] = []
    hashes: list[pd.DataFrame] = []
    for batch in store.person_row_batches(engine, batch_rows):
        hashes.append(batch[["row_key", "row_hash"]])
        parts.append(prepare_rows(batch.drop(columns=["row_hash"]))[keep])
        del batch
    if not parts:
        empty = prepare_rows(store.person_rows(engine).drop(columns=["row_hash"]))
        return empty[keep], pd.DataFrame(
            {"row_key": pd.Series(dtype="string"), "row_hash": pd.Series(dtype="int64")}
        )
    # Arrow-backed text columns are joined without copying their values.
    prepared = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    del parts
    if prepared["row_key"].duplicated().any():
        raise ValueError("row_key must be unique")
    return prepared, pd.concat(hashes, ignore_index=True)


def _pending(rows: pd.DataFrame, previous: pd.DataFrame) -> pd.Series:
    """Rows never resolved, or changed since they were."""
    stored = rows[["row_key"]].merge(
        previous[["row_key", "row_hash"]].rename(columns={"row_hash": "stored_hash"}),
        on="row_key",
        how="left",
    )["stored_hash"]
    return pd.Series(
        stored.isna().to_numpy() | (stored.to_numpy() != rows["row_hash"].to_numpy()),
        index=rows.index,
    )


def resolve_database(
    engine: Engine,
    *,
    full: bool = False,
    retrain: bool = False,
    model_path: Path | None = None,
    progress: Progress | None = None,
    min_training_rows: int = MIN_TRAINING_ROWS,
    resolver: Callable[..., Resolution] | None = None,
    batch_rows: int = LINK_BATCH_ROWS,
) -> RunSummary:
    """Resolve the identities of every stored person row.

    ``retrain``: train a new model on the stored rows (and resolve them all
    with it). ``model_path``: the packaged model to start from (default the
    one committed under ``models/``). ``resolver``: another engine's
    :func:`~adapt.identity.resolve.resolve` (same arguments, same result,
    e.g. :func:`adapt.identity.spark_engine.resolve_spark`); a run with one
    is always full. ``batch_rows``: links made and stored that many at a time.
    """

    full = full or retrain or resolver is not None
    started = utc_now()
    if progress:
        progress("preparing rows", 0, 1)
    prepared, hashes = prepared_rows(engine)
    previous = store.assignments(engine)
    must_link, cannot_link = store.active_decisions(engine)
    last = store.last_run(engine)
    decisions_changed = store.decisions_changed_since(engine, last["started_at"] if last else None)
    pending = _pending(hashes, previous)
    if not full and last and not decisions_changed and not pending.any():
        return RunSummary(None, "nothing to do", len(hashes), 0, 0, 0, 0, 0)
    incremental = (
        not full
        and last is not None
        and not decisions_changed
        and pending.sum() < INCREMENTAL_SHARE * len(hashes)
    )
    if progress:
        progress("match model (trained on these rows, or reused)", 0, 1)
    choice = choose_model(
        engine,
        prepared,
        load_model(model_path),
        incremental=incremental,
        retrain=retrain,
        min_training_rows=min_training_rows,
        packaged_name=(model_path or DEFAULT_MODEL).name,
    )
    model = choice.model
    if progress:
        progress("resolving", 0, 1)
    # What the review queue reads of the rows; the rest goes with the engine.
    review_rows = prepared[list(REVIEW_COLUMNS)]
    if incremental:
        mask = pending.to_numpy()
        existing = prepared[~mask]
        existing_clusters = existing[["row_key"]].merge(previous, on="row_key")
        existing_clusters = pd.DataFrame(
            {
                "row_key": existing_clusters["row_key"],
                "cluster": existing_clusters["person_id"].str.slice(1).astype("int64"),
            }
        )
        resolution = resolve_incremental(
            existing,
            existing_clusters,
            prepared[mask],
            model,
            must_link=must_link,
            cannot_link=cannot_link,
        )
        del prepared, existing
    else:
        # handed over, not kept here: the engine drops what it no longer reads
        handed = {"rows": prepared}
        del prepared
        resolution = (resolver or resolve)(
            handed.pop("rows"),
            model,
            must_link=must_link,
            cannot_link=cannot_link,
            batch_rows=batch_rows,
        )
    try:
        run_id, ids, review = _store(
            engine, resolution, review_rows, previous, hashes, incremental, choice, started
        )
    finally:
        resolution.close()
    model_store.set_run_model(engine, run_id, choice.model_id)
    log.info(
        "identity run %s (%s, %s): %s rows resolved, %s new persons, %s merges, %s splits",
        run_id,
        "incremental" if incremental else "full",
        choice.label,
        len(ids.assignments),
        len(ids.created),
        int((ids.lineage["event"] == "merged").sum()),
        int((ids.lineage["event"] == "split").sum()),
    )
    return RunSummary(
        run_id=run_id,
        mode="incremental" if incremental else "full",
        rows=len(hashes),
        rows_resolved=len(ids.assignments),
        persons_created=len(ids.created),
        merges=int((ids.lineage["event"] == "merged").sum()),
        splits=int((ids.lineage["event"] == "split").sum()),
        review_items=len(review),
        model=choice.description,
        model_source=choice.source,
        model_id=choice.model_id,
    )


def _store(
    engine: Engine,
    resolution: Resolution,
    review_rows: pd.DataFrame,
    previous: pd.DataFrame,
    hashes: pd.DataFrame,
    incremental: bool,
    choice: ModelChoice,
    started: object,
) -> tuple[int, Assignment, pd.DataFrame]:
    """Ids kept stable, the review queue, and the run stored (links batch by batch)."""
    ids = assign_ids(
        resolution.clusters, previous[["row_key", "person_id"]], store.next_person_number(engine)
    )
    assigned = ids.assignments.merge(hashes, on="row_key")
    review = _review_rows(
        review_queue(resolution, review_rows), resolution.clusters, ids.assignments
    )
    run_id = store.store_run(
        engine,
        store.RunRecord(
            mode="incremental" if incremental else "full",
            model=choice.label[:100],
            started_at=started,  # type: ignore[arg-type]
            rows=len(hashes),
        ),
        assigned,
        ids.lineage,
        resolution.links,
        review,
        replace_links_for=resolution.clusters["row_key"] if incremental else None,
        guarded=resolution.guarded_links(),
    )
    return run_id, ids, review


def _review_rows(
    queue: pd.DataFrame, clusters: pd.DataFrame, assigned: pd.DataFrame
) -> pd.DataFrame:
    """The engine's review queue in the stored columns, with person ids in
    place of the engine's cluster labels."""
    columns = ["kind", "priority", "person_id", "row_key_l", "row_key_r", "reason"]
    if queue is None or queue.empty:
        return pd.DataFrame(columns=columns)
    frame = queue.rename(columns={"item": "kind"}).copy()
    person_of_cluster = (
        clusters.merge(assigned, on="row_key").drop_duplicates("cluster").set_index("cluster")
    )["person_id"]
    person_of_row = assigned.set_index("row_key")["person_id"]
    by_cluster = frame["cluster"].map(person_of_cluster) if "cluster" in frame else None
    by_row = frame["row_key_l"].map(person_of_row) if "row_key_l" in frame else None
    if by_cluster is not None and by_row is not None:
        frame["person_id"] = by_cluster.fillna(by_row)
    else:
        frame["person_id"] = by_cluster if by_cluster is not None else by_row
    for name in columns:
        if name not in frame.columns:
            frame[name] = None
    frame["priority"] = frame["priority"].astype("float64")
    return frame[columns].reset_index(drop=True)
