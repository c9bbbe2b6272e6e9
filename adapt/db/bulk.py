"""Fast bulk writes of typed DataFrames, per database.

SQLite: the raw DBAPI ``executemany`` inside the caller's transaction, in
batches, with values converted column by column (no per-row Python).
PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` through psycopg 3, with the
CSV made by Arrow. Both write into the caller's open transaction, so a failure
anywhere rolls the whole import back.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table
from sqlalchemy.types import Boolean, Date, DateTime

BATCH_ROWS = 100_000
Progress = Callable[[int], None]


def _sqlite_values(frame: pd.DataFrame, table: Table) -> list[list[object]]:
    """Columns as lists of plain Python values in SQLAlchemy's SQLite storage
    format (so rows written here read back through SQLAlchemy unchanged)."""
    out: list[list[object]] = []
    for name in frame.columns:
        col = frame[name]
        sqltype = table.c[name].type
        if isinstance(sqltype, DateTime):
            text = col.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            out.append(text.to_numpy(dtype=object, na_value=None).tolist())
        elif isinstance(sqltype, Date):
            text = col.dt.strftime("%Y-%m-%d")
            out.append(text.to_numpy(dtype=object, na_value=None).tolist())
        elif isinstance(sqltype, Boolean):
            values = col.astype("Int8").to_numpy(dtype=object, na_value=None)
            out.append(values.tolist())
        else:
            out.append(col.to_numpy(dtype=object, na_value=None).tolist())
    return out


def _arrow_table(frame: pd.DataFrame, table: Table) -> pa.Table:
    arrays = []
    for name in frame.columns:
        col = frame[name]
        sqltype = table.c[name].type
        if isinstance(sqltype, DateTime):
            arrays.append(pa.array(col.to_numpy(dtype="datetime64[s]"), type=pa.timestamp("s")))
        elif isinstance(sqltype, Date):
            arrays.append(
                pa.array(col.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True)
            )
        elif isinstance(sqltype, Boolean):
            arrays.append(pa.array(col.astype("boolean"), type=pa.bool_(), from_pandas=True))
        elif pd.api.types.is_integer_dtype(col.dtype):
            arrays.append(pa.array(col.astype("Int64"), type=pa.int64(), from_pandas=True))
        elif pd.api.types.is_float_dtype(col.dtype):
            arrays.append(pa.array(col.astype("Float64"), type=pa.float64(), from_pandas=True))
        else:
            arrays.append(pa.array(col.astype("string"), type=pa.large_string(), from_pandas=True))
    return pa.Table.from_arrays(arrays, names=list(frame.columns))


def insert_frame(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    progress: Progress | None = None,
) -> None:
    """Append every row of ``frame`` (columns named as ``table``'s) to
    ``target`` (default: the table itself)."""
    if frame.empty:
        return
    name = target or table.name
    columns = list(frame.columns)
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cur = dbapi.cursor()
        for start in range(0, len(frame), BATCH_ROWS):
            part = frame.iloc[start : start + BATCH_ROWS]
            cur.executemany(sql, zip(*_sqlite_values(part, table), strict=True))
            if progress:
                progress(len(part))
        cur.close()
        return
    sql = f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        for start in range(0, len(frame), BATCH_ROWS):
            part = frame.iloc[start : start + BATCH_ROWS]
            buf = io.BytesIO()
            pacsv.write_csv(_arrow_table(part, table), buf, write_options=options)
            copy.write(buf.getvalue())
            if progress:
                progress(len(part))


def update_frame(conn: Connection, table: Table, frame: pd.DataFrame, columns: list[str]) -> None:
    """Set ``columns`` on the rows whose ``id`` is in ``frame``: stage the new
    values in a temporary table with the bulk path, then one UPDATE."""
    if frame.empty:
        return
    stage = f"adapt_stage_{table.name}"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage} AS SELECT id, {', '.join(columns)} "
        f"FROM {table.name} WHERE 1 = 0"
    )
    insert_frame(conn, table, frame[["id", *columns]], target=stage)
    assignments = ", ".join(f"{c} = {stage}.{c}" for c in columns)
    conn.exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} FROM {stage} WHERE {table.name}.id = {stage}.id"
    )
    conn.exec_driver_sql(f"DROP TABLE {stage}")
