"""Fast bulk writes of typed DataFrames, per database.

SQLite: the raw DBAPI ``executemany`` inside the caller's transaction, in
batches, with values converted column by column (no per-row Python).
PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` through psycopg 3, with the
CSV made by Arrow. Both write into the caller's open transaction, so a failure
anywhere rolls the whole import back.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Select, Table
from sqlalchemy.types import Boolean, Date, DateTime

BATCH_ROWS = 100_000
FETCH_BATCH = 200_000
_CURSOR_IDS = itertools.count()
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


def _stage(conn: Connection, table: Table, columns: list[str], frame: pd.DataFrame) -> str:
    """A temporary table shaped like ``table``'s ``columns``, filled from
    ``frame`` with the bulk path; the caller drops it."""
    stage = f"adapt_stage_{table.name}"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage} AS SELECT {', '.join(columns)} "
        f"FROM {table.name} WHERE 1 = 0"
    )
    insert_frame(conn, table, frame[columns], target=stage)
    return stage


def update_frame(
    conn: Connection, table: Table, frame: pd.DataFrame, columns: list[str], key: str = "id"
) -> None:
    """Set ``columns`` on the rows whose ``key`` is in ``frame``: stage the new
    values in a temporary table with the bulk path, then one UPDATE."""
    if frame.empty:
        return
    stage = _stage(conn, table, [key, *columns], frame)
    assignments = ", ".join(f"{c} = {stage}.{c}" for c in columns)
    conn.exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} FROM {stage} "
        f"WHERE {table.name}.{key} = {stage}.{key}"
    )
    conn.exec_driver_sql(f"DROP TABLE {stage}")


def delete_where_in(conn: Connection, table: Table, columns: list[str], keys: pd.Series) -> None:
    """Delete the rows of ``table`` where any of ``columns`` is one of
    ``keys`` (staged in a temporary table: no giant IN list)."""
    stage = _stage(conn, table, columns[:1], pd.DataFrame({columns[0]: keys.astype("string")}))
    match = " OR ".join(f"{c} IN (SELECT {columns[0]} FROM {stage})" for c in columns)
    conn.exec_driver_sql(f"DELETE FROM {table.name} WHERE {match}")
    conn.exec_driver_sql(f"DROP TABLE {stage}")


def read_frame(
    conn: Connection, stmt: Select, columns: list[str], dates: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Run ``stmt`` on the raw DBAPI cursor and collect it in batches into
    typed columns: text as Arrow strings, ``dates`` as datetime64. SQLAlchemy's
    result processing parses every SQLite date in Python (40 s for a large
    force's 2.7M person rows), and pandas' inference over object columns took
    longer than the fetch itself; Arrow types each column in C."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return _fetch(conn, sql, columns, dates)


def read_matching(
    conn: Connection, table: Table, columns: list[str], key: str, keys: pd.Series
) -> pd.DataFrame:
    """``columns`` of the rows of ``table`` whose ``key`` is one of ``keys``
    (staged in a temporary table and joined: no giant IN list, and only these
    rows are read), typed as ``read_frame`` types them."""
    stage = _stage(conn, table, [key], pd.DataFrame({key: keys.drop_duplicates()}))
    picked = ", ".join(f"t.{c}" for c in columns)
    sql = f"SELECT {picked} FROM {table.name} t JOIN {stage} s ON t.{key} = s.{key}"
    try:
        return _fetch(conn, sql, columns)
    finally:
        conn.exec_driver_sql(f"DROP TABLE {stage}")


def _cursor(conn: Connection):  # type: ignore[no-untyped-def]
    """A cursor that streams: on PostgreSQL a server-side (named) cursor, so
    the rows come over ``FETCH_BATCH`` at a time; a client-side cursor would
    hold the whole result in libpq's memory first (19M person rows: 12 GB
    before the first row reached Python). SQLite's cursor steps through rows."""
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        return dbapi.cursor(name=f"adapt_fetch_{next(_CURSOR_IDS)}")
    return dbapi.cursor()


def _fetch(
    conn: Connection, sql: str, columns: list[str], dates: tuple[str, ...] = ()
) -> pd.DataFrame:
    return next(_fetch_batches(conn, sql, columns, dates, None))


def read_frame_batches(
    conn: Connection,
    stmt: Select,
    columns: list[str],
    rows: int,
    dates: tuple[str, ...] = (),
) -> Iterator[pd.DataFrame]:
    """:func:`read_frame`, handed out about ``rows`` rows at a time (at least one
    frame, maybe empty), in the order the query gives them: a caller that keeps
    less of each frame than it reads never holds the whole result."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return _fetch_batches(conn, sql, columns, dates, rows)


def _fetch_batches(
    conn: Connection,
    sql: str,
    columns: list[str],
    dates: tuple[str, ...],
    rows: int | None,
) -> Iterator[pd.DataFrame]:
    """The result of ``sql`` as frames of at least ``rows`` rows (None: one frame)."""
    cursor = _cursor(conn)
    # Each column's batches, kept as Arrow chunks (text) or pandas parts; text
    # columns become one Arrow-backed column without a copy, so the fetch never
    # holds the result twice.
    chunks: dict[str, list[object]] = {c: [] for c in columns}
    text_columns: set[str] = set()
    held, sent = 0, False
    size = FETCH_BATCH if rows is None else max(1, min(FETCH_BATCH, rows))
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(size):
            held += len(batch)
            for name, values in zip(columns, zip(*batch, strict=True), strict=True):
                arr = pa.array(values, from_pandas=True)
                if name in dates:
                    iso = "ISO8601" if pa.types.is_string(arr.type) else None
                    chunks[name].append(pd.to_datetime(arr.to_pandas(), format=iso))
                elif pa.types.is_string(arr.type) or pa.types.is_null(arr.type):
                    chunks[name].append(arr.cast(pa.string()))
                    text_columns.add(name)
                else:
                    chunks[name].append(arr.to_pandas())
            del batch
            if rows is not None and held >= rows:
                yield _assemble(chunks, columns, text_columns)
                chunks = {c: [] for c in columns}
                held, sent = 0, True
    finally:
        cursor.close()
    if held or not sent:
        yield _assemble(chunks, columns, text_columns)


def _assemble(
    chunks: dict[str, list[object]], columns: list[str], text_columns: set[str]
) -> pd.DataFrame:
    """One frame of the fetched batches (the chunks are emptied as they are used)."""
    if not chunks[columns[0]]:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    data: dict[str, object] = {}
    for name in columns:
        parts = chunks.pop(name)
        if name in text_columns and all(isinstance(p, pa.Array) for p in parts):
            data[name] = pd.array(pa.chunked_array(parts, pa.string()), dtype="string[pyarrow]")
        else:
            # A batch of nulls in a column of numbers: as the batches would concatenate.
            data[name] = pd.concat(
                [
                    pd.Series(pd.array(p, dtype="string[pyarrow]"))
                    if isinstance(p, pa.Array)
                    else p
                    for p in parts
                ],
                ignore_index=True,
            )
        del parts
    return pd.DataFrame(data)
