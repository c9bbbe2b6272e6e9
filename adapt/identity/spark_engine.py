"""Identity resolution with splink's Spark backend (``adapt resolve --engine spark``).

The same trained model, the same context stage, decisions, guards and
clustering as :func:`adapt.identity.resolve.resolve`; only the pairwise
scoring (splink's blocking and prediction, the expensive part that grows with
the square of block sizes) runs on Spark instead of DuckDB. The model's
settings are written in DuckDB SQL (:mod:`adapt.identity.splink_adapter`);
:func:`spark_settings` translates them to Spark SQL, with splink's Scala
similarity functions (``jaro_winkler``, ``damerau_levenshtein``) in place of
DuckDB's. Term frequencies are computed exactly as the default engine computes
them and handed to splink as lookups. The one known difference: the jar's
Jaro-Winkler differs from DuckDB's on some strings with transposed letters
(0.877 against 0.896 for one pair of forenames), so a rare pair near a level's
threshold lands one level apart (benchmarks/results/spark_engine.md: 2 pairs
of rows in 100k incidents).

The pairs then come back to the driver, where the context stage, the guards
and the clustering run as in the default engine (they are linear in the
number of kept pairs). Only full runs: an incremental run is the default
engine's (``adapt resolve``); the Spark engine always resolves every row with
the model chosen as for a full run (trained or reused, see
:func:`adapt.identity.runner.choose_model`).

pyspark is an optional extra (``pip install 'adapt[spark]'``) and needs Java
17 or later; importing this module without it works, using it raises
:class:`SparkUnavailable`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine

from adapt.identity import splink_adapter
from adapt.identity.guards import Guards
from adapt.identity.model import IdentityModel
from adapt.identity.resolve import Resolution, resolve
from adapt.identity.runner import Progress, RunSummary, resolve_database

try:  # the optional extra: adapt[spark]
    from pyspark.sql import SparkSession

    HAVE_PYSPARK = True
except ImportError:  # pragma: no cover - depends on the installation
    SparkSession = None  # type: ignore[assignment,misc]
    HAVE_PYSPARK = False

LOG = logging.getLogger(__name__)
INSTALL_HINT = "the Spark engine needs pyspark and Java 17: pip install 'adapt[spark]'"
# DuckDB function -> the Spark function splink registers from its jar (or Spark's own).
SPARK_FUNCTIONS = {
    "list_has_any(": "arrays_overlap(",
    "jaro_winkler_similarity(": "jaro_winkler(",
}


# Checkpoint folders this process made (removed by stop_session), never one given.
_TEMP_DIRS: set[str] = set()


class SparkUnavailable(RuntimeError):
    """pyspark (or Java) is missing: install the ``spark`` extra."""


def require_spark() -> None:
    if not HAVE_PYSPARK:
        raise SparkUnavailable(INSTALL_HINT)


def local_session(
    master: str = "local[*]",
    *,
    shuffle_partitions: int = 8,
    driver_memory: str | None = None,
    checkpoint_dir: str | None = None,
) -> Any:
    """A Spark session for ADAPT: splink's similarity jar, UTC, no UI, no network.

    On a cluster ``spark-submit`` (or the managed service) makes the session;
    :func:`get_session` then returns it and this is not called.
    """
    require_spark()
    # splink is imported where used, as in splink_adapter (it costs every command's start).
    from splink.internals.spark.jar_location import similarity_jar_location

    # Local mode talks to itself only: no lookup of the machine's address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (the features per partition) run this interpreter, with ADAPT.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("adapt")
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # splink's prediction SQL makes methods past the JVM's 64 KB limit: Spark
        # would try whole-stage code generation, fail and fall back, every query.
        .config("spark.sql.codegen.wholeStage", "false")
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(checkpoint_dir or _checkpoint_dir())
    return spark


def _checkpoint_dir() -> str:
    """Where splink's checkpoints go: ``ADAPT_SPARK_CHECKPOINT_DIR`` (on a
    cluster, shared storage: HDFS, S3, DBFS...), else a local temp folder."""
    given = os.environ.get("ADAPT_SPARK_CHECKPOINT_DIR")
    if given:
        return given
    folder = tempfile.mkdtemp(prefix="adapt-spark-")
    _TEMP_DIRS.add(folder)
    return folder


def get_session() -> Any:
    """The Spark session: the one spark-submit or a managed cluster started
    (its settings stand; ADAPT sets the time zone and Arrow), else a local one
    (``ADAPT_SPARK_MASTER``, default ``local[*]``)."""
    require_spark()
    active = SparkSession.getActiveSession()
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ or "DATABRICKS_RUNTIME_VERSION" in os.environ
    if active is None and submitted:
        active = SparkSession.builder.appName("adapt").getOrCreate()
    if active is None:
        return local_session(os.environ.get("ADAPT_SPARK_MASTER", "local[*]"))
    active.conf.set("spark.sql.session.timeZone", "UTC")
    active.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    active.conf.set("spark.sql.codegen.wholeStage", "false")
    if active.sparkContext.getCheckpointDir() is None:
        active.sparkContext.setCheckpointDir(_checkpoint_dir())
    return active


@contextmanager
def spark_session() -> Iterator[Any]:
    """:func:`get_session` for one command: a session this made is stopped
    afterwards (its temporary checkpoints removed); one already running is left."""
    require_spark()
    running = SparkSession.getActiveSession()
    spark = get_session()
    try:
        yield spark
    finally:
        if running is None:
            stop_session(spark)


def to_spark_sql(sql: str) -> str:
    """One SQL expression of the model (DuckDB dialect) in Spark SQL."""
    import sqlglot  # splink's SQL translator, loaded only when Spark is used

    for duck, spark in SPARK_FUNCTIONS.items():
        sql = sql.replace(duck, spark)
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def spark_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The model's prediction settings (capped blocks) with every SQL in Spark's dialect.

    What the model learned (prior, m, u) is untouched.
    """
    out = json.loads(json.dumps(splink_adapter._predict_settings(settings)))
    out["sql_dialect"] = "spark"
    for comp in out["comparisons"]:
        for level in comp["comparison_levels"]:
            if level["sql_condition"].strip().upper() != "ELSE":
                level["sql_condition"] = to_spark_sql(level["sql_condition"])
    out["blocking_rules_to_generate_predictions"] = [
        to_spark_sql(rule) for rule in out["blocking_rules_to_generate_predictions"]
    ]
    return out


def _tf_lookup(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Term frequencies of ``column`` as a lookup: the shares
    :func:`splink_adapter.term_frequency` gives each row (value_counts, normalised)."""
    freq = rows[column].value_counts(normalize=True, dropna=True)
    return pd.DataFrame(
        {column: freq.index.astype(str), f"tf_{column}": freq.to_numpy(dtype="float64")}
    )


def _arrow(frame: Any) -> pa.Table:
    """A Spark frame collected to the driver as Arrow."""
    return frame.toArrow()


class SparkScorer:
    """:class:`adapt.identity.splink_adapter.Scorer` on Spark: the same two passes.

    :meth:`chunks` yields the scored pairs with what the decisions need
    (``l``, ``r``, weights, ``lbl_forename``, ``lbl_dob``); splink's scored
    table stays in Spark (checkpointed), and :meth:`fetch` reads back the full
    columns of chosen pairs only.
    """

    def __init__(
        self, rows: pd.DataFrame, settings: dict[str, Any], *, threshold_weight: float, spark: Any
    ) -> None:
        require_spark()
        from splink import Linker, SparkAPI

        self.settings = settings
        self.threshold_weight = threshold_weight
        self.spark = spark
        self.pairs_scored = 0
        self.n_rows = len(rows)
        self.db = SparkAPI(spark_session=spark)
        frame = splink_adapter.splink_frame(rows, with_tf=False, ids=np.arange(len(rows)))
        sdf = self.db.register(frame, table_name="adapt_rows")
        del frame
        self.linker = Linker(sdf, spark_settings(settings), log_level=logging.WARNING)
        for column in splink_adapter.TF_COLUMNS:
            lookup = self.db.register(_tf_lookup(rows, column), table_name=f"adapt_tf_{column}")
            self.linker.table_management.register_term_frequency_lookup(lookup, column)
        self.predicted: Any = None

    def __enter__(self) -> SparkScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.predicted is not None:
            self.predicted.drop_table_from_database_and_remove_from_cache()
            self.predicted = None

    def set_memory_limit(self, limit: str) -> None:
        """Nothing to do: Spark manages its own memory (the DuckDB scorer's hook)."""

    def _sql(self, duckdb_sql: str) -> Any:
        return self.spark.sql(to_spark_sql(duckdb_sql))

    def chunks(self) -> Iterator[pd.DataFrame]:
        self.predicted = self.linker.inference.predict(threshold_match_weight=self.threshold_weight)
        names = [
            n
            for n in splink_adapter.comparison_names(self.settings)
            if n in splink_adapter.GUARD_COMPARISONS
        ]
        tables = splink_adapter.level_weights(self.settings)
        raw = ", ".join(f'"mw_{n}" AS "raw_{n}"' for n in names)
        tbl = _arrow(
            self._sql(
                "SELECT least(row_key_l, row_key_r) AS l, "
                "greatest(row_key_l, row_key_r) AS r, match_weight, match_probability, "
                f"{raw} FROM {self.predicted.physical_name}"
            )
        )
        self.pairs_scored = tbl.num_rows
        df = pd.DataFrame(
            {
                "l": tbl.column("l").to_numpy().astype(np.int64),
                "r": tbl.column("r").to_numpy().astype(np.int64),
                "match_weight": tbl.column("match_weight").to_numpy(zero_copy_only=False),
                "match_probability": tbl.column("match_probability").to_numpy(zero_copy_only=False),
            }
        )
        for n in names:
            raw_w = tbl.column(f"raw_{n}").to_numpy(zero_copy_only=False)
            df[f"lbl_{n}"] = splink_adapter._labels(raw_w, tables[n])
        del tbl
        yield df

    def fetch(self, left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
        """Full scored columns of pairs (``l`` < ``r``, positions), ordered by (l, r)."""
        names = splink_adapter.comparison_names(self.settings)
        n = int(self.n_rows)
        want = np.unique(np.asarray(left, np.int64) * n + np.asarray(right, np.int64))
        self.spark.createDataFrame(pa.table({"code": pa.array(want)})).createOrReplaceTempView(
            "adapt_want"
        )
        pairs_sql = splink_adapter._pairs_sql([self.predicted], self.settings, names)
        tbl = _arrow(
            self._sql(
                f"SELECT p.* FROM ({pairs_sql}) AS p "
                f"LEFT SEMI JOIN adapt_want AS w ON p.l * {n} + p.r = w.code"
            )
        )
        self.spark.catalog.dropTempView("adapt_want")
        order = np.lexsort((tbl.column("r").to_numpy(), tbl.column("l").to_numpy()))
        return splink_adapter._frame(tbl.take(pa.array(order)), self.settings, names)


def resolve_spark(
    rows: pd.DataFrame,
    model: IdentityModel,
    *,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
    guards: Guards | None = None,
    spark: Any = None,
    batch_rows: int | None = None,
) -> Resolution:
    """:func:`adapt.identity.resolve.resolve` with the pairs scored on Spark:
    the same function, given :class:`SparkScorer` as its scorer, so every stage
    after scoring is the default engine's own code (``batch_rows`` as there)."""
    session = spark or get_session()

    def scorer(rows: pd.DataFrame, settings: dict, *, threshold_weight: float,
               chunks: int, threads: int) -> SparkScorer:  # fmt: skip
        return SparkScorer(rows, settings, threshold_weight=threshold_weight, spark=session)

    return resolve(
        rows,
        model,
        must_link=must_link,
        cannot_link=cannot_link,
        guards=guards,
        scorer=scorer,
        batch_rows=batch_rows,
    )


def resolve_database_spark(
    engine: Engine,
    *,
    retrain: bool = False,
    progress: Progress | None = None,
    spark: Any = None,
) -> RunSummary:
    """:func:`adapt.identity.runner.resolve_database` as a full run, scored on Spark.

    Reads the stored rows and analyst decisions, chooses the model as a full
    run does (reuses the stored model, or trains one on these rows with
    DuckDB: training samples a bounded number of pairs), resolves on Spark
    and stores the run (ids kept stable, lineage, links, review queue) like
    the default engine.
    """
    require_spark()
    session = spark or get_session()

    def resolver(rows: pd.DataFrame, model: IdentityModel, **kw: Any) -> Resolution:
        return resolve_spark(rows, model, spark=session, **kw)

    return resolve_database(engine, retrain=retrain, progress=progress, resolver=resolver)


def stop_session(spark: Any) -> None:
    """Stop a session made by :func:`local_session` and remove its checkpoints."""
    folder = spark.sparkContext.getCheckpointDir()
    spark.stop()
    if folder:  # Spark checkpoints into a folder of its own inside the one given
        made = str(Path(folder.removeprefix("file:")).parent)
        if made in _TEMP_DIRS:
            shutil.rmtree(made, ignore_errors=True)
            _TEMP_DIRS.discard(made)
