"""The scoring stage on a database: read the resolved history, compute features
as of a date, rank, store the run. Everything it computes is in the pure
functions of ``adapt.features`` and ``adapt.scoring.score``.

:func:`score_database` holds no more than a bucket of the history: for a force
of more than ``rows_per_bucket`` involvement rows it reads the ids that say
who is linked to whom (:func:`adapt.db.history.load_history_keys`), deals
the people's connected components into buckets of about
``rows_per_bucket`` involvement rows (:mod:`adapt.scoring.partitions`), reads
and scores one bucket at a time, and orders the buckets' tables into the one
table :func:`cohort_table` gives on the whole history. Its memory grows with a
bucket, not with the force (plus a few arrays of ids)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from adapt.core.history import History
from adapt.core.settings import Settings, default_settings
from adapt.db.history import (
    history_buckets,
    involvement_rows,
    last_incident_date,
    load_history,
    load_history_keys,
)
from adapt.db.scores import store_score_run
from adapt.features import compute_features
from adapt.scoring.partitions import bucket_count, partition_table, ranked, row_buckets
from adapt.scoring.score import rank

log = logging.getLogger(__name__)

# Involvement rows per bucket of a partitioned run (whole components: a bucket
# may hold one component more). About 1 GB of features at 1M rows.
ROWS_PER_BUCKET = 1_000_000


class NotResolved(RuntimeError):
    """Scoring needs resolved identities: ``adapt resolve`` has not run."""


@dataclass(frozen=True)
class ScoreResult:
    run_id: int | None
    as_of: date
    table: pd.DataFrame
    unresolved_rows: int


def resolve_as_of(history: History, as_of: object | None) -> date:
    """The as-of date asked for, or the latest incident date."""
    return _as_of(history.last_date, as_of)


def _as_of(last: pd.Timestamp | None, as_of: object | None) -> date:
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    if last is None:
        raise NotResolved("nothing to score: no incidents are stored (run `adapt load` first)")
    return last.date()


def _check_resolved(person_ids: pd.Series) -> None:
    if len(person_ids) and person_ids.isna().all():
        raise NotResolved("identities are not resolved yet: run `adapt resolve` first")


def cohort_table(
    history: History, as_of: object | None = None, settings: Settings | None = None
) -> tuple[date, pd.DataFrame]:
    """Features, score and cohort for everyone who was a suspect up to the date."""
    settings = settings or default_settings()
    day = resolve_as_of(history, as_of)
    _check_resolved(history.involvements["person_id"])
    return day, rank(compute_features(history, day, settings), settings)


def cohort_table_partitioned(
    engine: Engine,
    as_of: object | None = None,
    settings: Settings | None = None,
    *,
    rows_per_bucket: int = ROWS_PER_BUCKET,
    buckets: int | None = None,
) -> tuple[date, pd.DataFrame, int]:
    """:func:`cohort_table` of everything stored, read and computed one bucket
    of whole components at a time: the same table (rows, order, values,
    dtypes). Returns (as-of date, table, unresolved involvement rows).

    ``buckets``: how many (default: enough for ``rows_per_bucket`` involvement
    rows each; a force that fits in one is read whole, with no partitioning)."""
    settings = settings or default_settings()
    if buckets is None and involvement_rows(engine) <= rows_per_bucket:
        history = load_history(engine, with_protected=False)
        day, table = cohort_table(history, as_of, settings)
        return day, table, history.unresolved_rows()
    day = _as_of(last_incident_date(engine) if as_of is None else None, as_of)
    keys = load_history_keys(engine)
    person_ids = keys.involvements["person_id"]
    _check_resolved(person_ids)
    unresolved = int(person_ids.isna().sum())
    n = int(buckets or bucket_count(len(person_ids), rows_per_bucket))
    where = row_buckets(keys, n)
    staged = {
        "incidents": pd.DataFrame(
            {"incident_id": keys.incidents["incident_id"], "bucket": where["incidents"]}
        ),
        "marac": pd.DataFrame({"id": keys.marac["id"], "bucket": where["marac"]}),
        "management": pd.DataFrame({"id": keys.management["id"], "bucket": where["management"]}),
    }
    overrides = keys.counter_overrides
    override_bucket = where["counter_overrides"]
    used = np.unique(np.concatenate([where[name] for name in ("incidents", "marac", "management")]))
    del keys, person_ids, where
    log.info("scoring %d bucket(s) of whole components", len(used))
    tables = []
    with history_buckets(engine, staged) as read:
        del staged
        for bucket in used.tolist() or [0]:
            history = read(bucket, overrides[override_bucket == bucket])
            tables.append(partition_table(history, day, settings))
            del history
    return day, ranked(tables), unresolved


def score_database(
    engine: Engine,
    as_of: object | None = None,
    settings: Settings | None = None,
    store: bool = True,
    cohort: Callable[[History, object | None, Settings], tuple[date, pd.DataFrame]] | None = None,
    rows_per_bucket: int = ROWS_PER_BUCKET,
) -> ScoreResult:
    """Score everything stored as of a date and (by default) store the run,
    bucket by bucket (:func:`cohort_table_partitioned`).

    ``cohort``: another engine's :func:`cohort_table` (same arguments, same
    table; e.g. :func:`adapt.scoring.spark_engine.cohort_table_spark`), given
    the whole history."""
    settings = settings or default_settings()
    if cohort is None:
        day, table, unresolved = cohort_table_partitioned(
            engine, as_of, settings, rows_per_bucket=rows_per_bucket
        )
    else:
        history = load_history(engine, with_protected=False)
        day, table = cohort(history, as_of, settings)
        unresolved = history.unresolved_rows()
        del history
    if unresolved:
        log.warning("%d involvement rows are not resolved and were left out", unresolved)
    run_id = store_score_run(engine, table, day, settings, unresolved) if store else None
    return ScoreResult(run_id=run_id, as_of=day, table=table, unresolved_rows=unresolved)
