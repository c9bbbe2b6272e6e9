"""Features, scores and the cohort on Spark (``adapt score --engine spark``).

The same pure functions as the default engine
(:func:`adapt.features.compute_features` and :func:`adapt.scoring.score.rank`)
run on each partition of the people with ``groupBy(...).applyInPandas``; only
the final order (and so the ``rank`` column) is computed over everyone.

The partitions are the default engine's (:mod:`adapt.scoring.partitions`):
whole connected components of people and incidents, dealt into
``partitions`` buckets of about equal involvement rows; each Spark task runs
:func:`adapt.scoring.partitions.partition_table` on one bucket.

The driver reads the history from the database (as the default engine does)
and finds the components (scipy, linear in the rows); Spark computes the
features and scores bucket by bucket; the driver orders the result and stores
the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.core.history import History
from adapt.core.settings import Settings, default_settings
from adapt.scoring.partitions import TABLES, partition_table, ranked, row_buckets
from adapt.scoring.partitions import components as components  # the partitions, as before
from adapt.scoring.runner import NotResolved, ScoreResult, resolve_as_of, score_database

try:  # the optional extra: adapt[spark]
    from pyspark.sql.pandas.types import from_arrow_schema

    HAVE_PYSPARK = True
except ImportError:  # pragma: no cover - depends on the installation
    from_arrow_schema = None  # type: ignore[assignment]
    HAVE_PYSPARK = False

INSTALL_HINT = "the Spark engine needs pyspark and Java 17: pip install 'adapt[spark]'"
BUCKET = "_bucket"
TABLE = "_table"
SEP = "__"


class SparkUnavailable(RuntimeError):
    """pyspark (or Java) is missing: install the ``spark`` extra."""


def bucketed(history: History, buckets: int) -> dict[str, pd.DataFrame]:
    """Each table of ``history`` with the bucket of each row
    (:func:`adapt.scoring.partitions.row_buckets`: whole components per bucket)."""
    keyed = row_buckets(history, buckets)
    return {name: getattr(history, name).assign(**{BUCKET: keyed[name]}) for name in TABLES}


def _arrow_table(name: str, frame: pd.DataFrame) -> pa.Table:
    """One history table as Arrow, its columns prefixed with its name, dates in µs."""
    cols: dict[str, pa.Array] = {}
    for col in frame.columns:
        s = frame[col]
        if col == BUCKET:
            cols[BUCKET] = pa.array(s.to_numpy(dtype=np.int64))
            continue
        if s.dtype.kind == "M":
            arr = pa.array(s.to_numpy(dtype="datetime64[us]"), pa.timestamp("us"))
            arr = pc.if_else(pa.array(s.isna().to_numpy()), None, arr)
        elif isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
            arr = pa.array(s.to_numpy(dtype=object, na_value=None), pa.bool_())
        elif s.dtype.kind in "iuf":
            arr = pa.array(s.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
        else:
            arr = pa.array(s.astype("string").to_numpy(dtype=object, na_value=None), pa.string())
        cols[f"{name}{SEP}{col}"] = arr
    cols[TABLE] = pa.array([name] * len(frame), pa.string())
    return pa.table(cols)


def wide_table(history: History, buckets: int) -> pa.Table:
    """Every table of ``history`` in one Arrow table: a row per record, the
    record's columns (prefixed ``<table>__``) filled, the others null, with
    its table's name and its bucket."""
    parts = [_arrow_table(name, frame) for name, frame in bucketed(history, buckets).items()]
    return pa.concat_tables(parts, promote_options="default")


def history_of(wide: pd.DataFrame) -> History:
    """The History held by rows of :func:`wide_table` (one bucket's, or any subset)."""
    frames = {}
    for name in TABLES:
        prefix = f"{name}{SEP}"
        part = wide.loc[wide[TABLE] == name, [c for c in wide.columns if c.startswith(prefix)]]
        frames[name] = part.rename(columns=lambda c, p=prefix: c.removeprefix(p)).reset_index(
            drop=True
        )
    return History.build(**frames)


def bucket_table(wide: pd.DataFrame, day: str, settings: Settings) -> pd.DataFrame:
    """The cohort table (unordered) of the people of one bucket: what each Spark task runs."""
    return partition_table(history_of(wide), day, settings)


def _spark_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as Spark's Arrow conversion takes them (text as object, dates as µs)."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype.kind == "M":
            out[col] = s.astype("datetime64[us]")
        elif isinstance(s.dtype, (pd.StringDtype, pd.BooleanDtype)) or s.dtype == object:
            out[col] = s.astype(object).where(s.notna(), None)
        else:
            out[col] = s
    return pd.DataFrame(out, index=frame.index)


def cohort_table_spark(
    history: History,
    as_of: object | None = None,
    settings: Settings | None = None,
    *,
    spark: Any,
    partitions: int | None = None,
) -> tuple[Any, pd.DataFrame]:
    """:func:`adapt.scoring.runner.cohort_table` computed on Spark, partition by partition.

    ``partitions``: buckets of whole components (default: Spark's shuffle
    partitions). Same table, same order, same dtypes as the default engine.
    """
    if not HAVE_PYSPARK:
        raise SparkUnavailable(INSTALL_HINT)
    settings = settings or default_settings()
    day = resolve_as_of(history, as_of)
    involved = history.involvements
    if len(involved) and involved["person_id"].isna().all():
        raise NotResolved("identities are not resolved yet: run `adapt resolve` first")
    buckets = int(partitions or spark.conf.get("spark.sql.shuffle.partitions"))
    wide = wide_table(history, buckets)
    day_text = day.isoformat()
    # The output schema, from the smallest bucket computed on the driver.
    sizes = pc.value_counts(wide.column(BUCKET)).to_pandas()
    smallest = int(sorted(sizes, key=lambda x: (x["counts"], x["values"]))[0]["values"])
    mask = pc.equal(wide.column(BUCKET), smallest)
    sample = bucket_table(wide.filter(mask).to_pandas(), day_text, settings)
    schema = from_arrow_schema(pa.Table.from_pandas(_spark_ready(sample)).schema)

    def task(frame: pd.DataFrame) -> pd.DataFrame:
        return _spark_ready(bucket_table(frame, day_text, settings))

    frame = spark.createDataFrame(wide)
    result = frame.groupBy(BUCKET).applyInPandas(task, schema=schema).toArrow()
    table = result.to_pandas()
    for col in sample.columns:  # the default engine's dtypes
        if isinstance(table[col].dtype, pd.DatetimeTZDtype):  # the session's zone is UTC
            table[col] = table[col].dt.tz_convert("UTC").dt.tz_localize(None)
        if table[col].dtype != sample[col].dtype:
            table[col] = table[col].astype(sample[col].dtype)
    return day, ranked([table])


def score_database_spark(
    engine: Any,
    as_of: object | None = None,
    settings: Settings | None = None,
    store: bool = True,
    *,
    spark: Any,
    partitions: int | None = None,
) -> ScoreResult:
    """:func:`adapt.scoring.runner.score_database` with the table computed on Spark."""

    def cohort(history: History, day: object | None, s: Settings) -> tuple[Any, pd.DataFrame]:
        return cohort_table_spark(history, day, s, spark=spark, partitions=partitions)

    return score_database(engine, as_of, settings, store, cohort=cohort)
