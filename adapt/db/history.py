"""Read the resolved history (``adapt.features.History``) out of the database.

Person ids come from ``person_assignments`` joined on each record's row key
(``involvements:17``, ``marac_referrals:5:victim``, ``management:3``); a record
not yet resolved has a missing person id. Withdrawn involvements are left out.

A large force's history need not be read whole: :func:`load_history_keys`
reads only the columns that say which records belong together (ids), and
:func:`history_buckets` reads the history one bucket of records at a time,
the bucket of each record staged in a temporary table joined in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    cast,
    func,
    literal,
    select,
)

from adapt.core.history import History
from adapt.db import bulk
from adapt.db.counter import live_overrides
from adapt.db.models import (
    incidents,
    involvements,
    management,
    marac_referrals,
    person_assignments,
)


def row_key_expr(prefix: str, column, suffix: str = ""):  # type: ignore[no-untyped-def]
    """SQL for a stored record's row key ("involvements:" || id || suffix), to join
    ``person_assignments`` to the record it resolves."""
    expr = literal(prefix) + cast(column, String)
    return expr + literal(suffix) if suffix else expr


# The bucket of each record of a partitioned read (:func:`history_buckets`),
# temporary tables of the reading connection (never migrated): the incidents
# by their incident_id (their involvements join on it), the MARAC referrals
# and management records by primary key (``source`` "marac" or "management").
_buckets_metadata = MetaData()
incident_buckets = Table(
    "adapt_incident_buckets",
    _buckets_metadata,
    Column("bucket", Integer, nullable=False),
    Column("incident_id", String(100), nullable=False),
    Index("ix_adapt_incident_buckets", "bucket", "incident_id"),
    prefixes=["TEMPORARY"],
)
record_buckets = Table(
    "adapt_record_buckets",
    _buckets_metadata,
    Column("source", String(20), nullable=False),
    Column("bucket", Integer, nullable=False),
    Column("id", BigInteger, nullable=False),
    Index("ix_adapt_record_buckets", "source", "bucket", "id"),
    prefixes=["TEMPORARY"],
)


# What a read of one source is: its statement, columns and date columns.
_Read = tuple[Select, list[str], tuple[str, ...]]


def _incidents_read(bucketed: bool = False) -> _Read:
    """The incidents; ``bucketed``: those staged, with their bucket, by bucket and id."""
    i, b = incidents.c, incident_buckets.c
    cols = [
        "incident_id", "occurred_at", "offence", "is_crime", "dash_risk", "injury", "weapon",
        "children_present", "outcome", "area", "address", "postcode",
    ]  # fmt: skip
    stmt = select(*[i[c] for c in cols])
    if bucketed:
        stmt = _bucketed(stmt.join(incident_buckets, b.incident_id == i.incident_id), b.bucket)
        stmt = stmt.order_by(b.bucket, i.id)
    return stmt, cols, ("occurred_at",)


def _involvements_read(with_protected: bool = True, bucketed: bool = False) -> _Read:
    """The involvements (withdrawn ones left out) with their person ids;
    ``bucketed``: those of the staged incidents, with their bucket, by bucket and id."""
    v, a, b = involvements.c, person_assignments.alias("a"), incident_buckets.c
    cols = ["incident_id", "role", "person_id", "relationship"]
    if with_protected:
        cols += ["gender", "date_of_birth", "home_address", "home_postcode"]
    rows = involvements
    if bucketed:  # the involvements of the staged incidents
        rows = rows.join(incident_buckets, b.incident_id == v.incident_id)
    stmt = (
        select(*[a.c.person_id if c == "person_id" else v[c] for c in cols])
        .select_from(rows)
        .outerjoin(a, a.c.row_key == row_key_expr("involvements:", v.id))
        .where(v.withdrawn_import_id.is_(None))
    )
    if bucketed:
        stmt = _bucketed(stmt, b.bucket).order_by(b.bucket, v.id)
    return stmt, cols, ("date_of_birth",)


def _record_join(table: Table, source: str, bucketed: bool):  # type: ignore[no-untyped-def]
    """``table`` (or, ``bucketed``, its staged records) to select from."""
    if not bucketed:
        return table
    b = record_buckets.c
    return table.join(record_buckets, and_(b.id == table.c.id, b.source == source))


def _marac_read(bucketed: bool = False) -> _Read:
    """The MARAC referrals with both person ids; ``bucketed``: as the others."""
    m = marac_referrals.c
    vic, per = person_assignments.alias("vic"), person_assignments.alias("per")
    stmt = (
        select(
            m.referral_id,
            m.referral_date,
            m.meeting_date,
            m.flagged_at,
            vic.c.person_id,
            per.c.person_id,
            m.referring_agency,
        )
        .select_from(_record_join(marac_referrals, "marac", bucketed))
        .outerjoin(vic, vic.c.row_key == row_key_expr("marac_referrals:", m.id, ":victim"))
        .outerjoin(per, per.c.row_key == row_key_expr("marac_referrals:", m.id, ":perpetrator"))
    )
    if bucketed:
        stmt = _bucketed(stmt, record_buckets.c.bucket).order_by(record_buckets.c.bucket, m.id)
    cols = [
        "referral_id", "referral_date", "meeting_date", "flagged_at", "victim_person_id",
        "perpetrator_person_id", "referring_agency",
    ]  # fmt: skip
    return stmt, cols, ("referral_date", "meeting_date", "flagged_at")


def _management_read(bucketed: bool = False) -> _Read:
    """The management records with their person ids; ``bucketed``: as the others."""
    g, a = management.c, person_assignments.alias("a")
    stmt = (
        select(a.c.person_id, g.status, g.from_date, g.to_date)
        .select_from(_record_join(management, "management", bucketed))
        .outerjoin(a, a.c.row_key == row_key_expr("management:", g.id))
    )
    if bucketed:
        stmt = _bucketed(stmt, record_buckets.c.bucket).order_by(record_buckets.c.bucket, g.id)
    return stmt, ["person_id", "status", "from_date", "to_date"], ("from_date", "to_date")


def _read(conn: Connection, read: _Read) -> pd.DataFrame:
    stmt, cols, dates = read
    return bulk.read_frame(conn, stmt, cols, dates=dates)


def _stream(conn: Connection, read: _Read) -> _BucketStream:
    stmt, cols, dates = read
    batches = bulk.read_frame_batches(conn, stmt, [*cols, "bucket"], BUCKET_FETCH_ROWS, dates)
    return _BucketStream(batches, cols)


def load_history(engine: Engine, with_protected: bool = True) -> History:
    """Everything stored, with resolved person ids, as a typed :class:`History`.

    ``with_protected=False`` leaves out the involvements' protected columns
    (gender, date of birth, home address and postcode): no feature reads them,
    and scoring a large force reads a third less without them."""
    with engine.connect() as conn:
        frames = {
            "incidents": _read(conn, _incidents_read()),
            "involvements": _read(conn, _involvements_read(with_protected)),
            "marac": _read(conn, _marac_read()),
            "management": _read(conn, _management_read()),
            "counter_overrides": live_overrides(conn),
        }
    return History.build(**frames)


@dataclass(frozen=True)
class HistoryKeys:
    """The narrow columns of the stored history that say which records belong
    together, named as in :class:`History` (what
    :func:`adapt.scoring.partitions.components` reads), with each record's
    primary key ``id`` where :func:`history_buckets` stages it by that.

    ``incidents``: id, incident_id; ``involvements``: incident_id, person_id
    (withdrawn rows left out, as in :func:`load_history`); ``marac``: id,
    victim_person_id, perpetrator_person_id; ``management``: id, person_id;
    ``counter_overrides``: the live labels, whole (a few officers' labels).
    """

    incidents: pd.DataFrame
    involvements: pd.DataFrame
    marac: pd.DataFrame
    management: pd.DataFrame
    counter_overrides: pd.DataFrame


def load_history_keys(engine: Engine) -> HistoryKeys:
    """The ids of every stored record and the person ids they resolve to (no
    dates, names or other columns): a few arrays of ids, whatever the force's size."""
    i, v, m, g = incidents.c, involvements.c, marac_referrals.c, management.c
    a = person_assignments.alias("a")
    vic, per = person_assignments.alias("vic"), person_assignments.alias("per")
    with engine.connect() as conn:
        inc = bulk.read_frame(conn, select(i.id, i.incident_id), ["id", "incident_id"])
        inv = bulk.read_frame(
            conn,
            select(v.incident_id, a.c.person_id)
            .select_from(involvements)
            .outerjoin(a, a.c.row_key == row_key_expr("involvements:", v.id))
            .where(v.withdrawn_import_id.is_(None)),
            ["incident_id", "person_id"],
        )
        marac = bulk.read_frame(
            conn,
            select(m.id, vic.c.person_id, per.c.person_id)
            .select_from(marac_referrals)
            .outerjoin(vic, vic.c.row_key == row_key_expr("marac_referrals:", m.id, ":victim"))
            .outerjoin(
                per, per.c.row_key == row_key_expr("marac_referrals:", m.id, ":perpetrator")
            ),
            ["id", "victim_person_id", "perpetrator_person_id"],
        )
        mgmt = bulk.read_frame(
            conn,
            select(g.id, a.c.person_id)
            .select_from(management)
            .outerjoin(a, a.c.row_key == row_key_expr("management:", g.id)),
            ["id", "person_id"],
        )
        overrides = live_overrides(conn)
    return HistoryKeys(inc, inv, marac, mgmt, overrides)


def involvement_rows(engine: Engine) -> int:
    """How many involvement rows :func:`load_history` reads (withdrawn ones left out)."""
    stmt = select(func.count()).select_from(involvements)
    with engine.connect() as conn:
        return int(conn.execute(stmt.where(involvements.c.withdrawn_import_id.is_(None))).scalar())


def last_incident_date(engine: Engine) -> pd.Timestamp | None:
    """The latest incident's date (midnight; :attr:`History.last_date`), or None
    when no incident is stored: one SQL aggregate."""
    with engine.connect() as conn:
        last = conn.execute(select(func.max(incidents.c.occurred_at))).scalar()
    return None if last is None else pd.Timestamp(last).normalize()


def _stage_buckets(conn: Connection, rows: dict[str, pd.DataFrame]) -> None:
    """Create the temporary bucket tables on ``conn`` and fill them (bulk path)."""
    for table in (incident_buckets, record_buckets):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
        table.create(conn)
    inc = rows.get("incidents")
    if inc is not None and len(inc):
        staged = pd.DataFrame(
            {"bucket": inc["bucket"].to_numpy(dtype="int64"), "incident_id": inc["incident_id"]}
        )
        bulk.insert_frame(conn, incident_buckets, staged)
    for source in ("marac", "management"):
        frame = rows.get(source)
        if frame is None or frame.empty:
            continue
        staged = pd.DataFrame(
            {
                "source": source,
                "bucket": frame["bucket"].to_numpy(dtype="int64"),
                "id": frame["id"].to_numpy(dtype="int64"),
            }
        )
        bulk.insert_frame(conn, record_buckets, staged)
    if conn.dialect.name == "postgresql":
        for table in (incident_buckets, record_buckets):
            conn.exec_driver_sql(f"ANALYZE {table.name}")


# Rows fetched at a time from each of the four ordered bucket reads, and
# PostgreSQL's memory for each sort and hash of them (SET LOCAL: this
# transaction only).
BUCKET_FETCH_ROWS = 200_000
BUCKET_SORT_MEMORY = "128MB"


def _bucketed(stmt: Select, bucket_col) -> Select:  # type: ignore[no-untyped-def]
    """``stmt`` with the record's bucket as its first column ``bucket``."""
    return stmt.add_columns(bucket_col.label("bucket"))


class _BucketStream:
    """One read ordered by bucket (then stored order), handed out a bucket at a
    time: :meth:`take` returns a bucket's rows and keeps the rows after it."""

    def __init__(self, batches: Iterator[pd.DataFrame], columns: list[str]) -> None:
        self._batches = batches
        self._columns = columns
        self._held: pd.DataFrame | None = None
        self._last = -1

    def take(self, bucket: int) -> pd.DataFrame:
        if bucket <= self._last:
            raise ValueError(f"buckets are read in increasing order: {bucket} after {self._last}")
        self._last = bucket
        parts: list[pd.DataFrame] = []
        while True:
            if self._held is None:
                self._held = next(self._batches, None)
                if self._held is None:
                    break
            held = self._held
            at = held["bucket"].to_numpy(dtype="int64") if len(held) else np.empty(0, np.int64)
            lo, hi = np.searchsorted(at, bucket, "left"), np.searchsorted(at, bucket, "right")
            if hi > lo:
                parts.append(held.iloc[lo:hi])
            if hi < len(held):  # a later bucket's rows: kept for it
                self._held = held.iloc[hi:]
                break
            self._held = None
        if not parts:  # as an empty read gives it
            return pd.DataFrame({c: pd.Series(dtype="object") for c in self._columns})
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        return frame[self._columns].reset_index(drop=True)

    def close(self) -> None:
        """Close the read (its cursor) before the transaction ends."""
        close = getattr(self._batches, "close", None)
        if close is not None:
            close()


@contextmanager
def history_buckets(
    engine: Engine, rows: dict[str, pd.DataFrame], with_protected: bool = False
) -> Iterator[Callable[[int, pd.DataFrame | None], History]]:
    """Read the history one bucket at a time.

    ``rows``: a frame of ``bucket`` (int) and ``incident_id`` for
    "incidents", of ``bucket`` and ``id`` (the record's primary key,
    :class:`HistoryKeys`) for "marac" and "management". They are staged in
    temporary tables on one connection (bulk insert, no IN lists). The
    context yields ``read(bucket, counter_overrides)``: the :class:`History`
    of the bucket's incidents (with all their involvements), MARAC referrals
    and management records, in stored order, with the ``counter_overrides``
    given (the caller's, already bucketed). Buckets are read in increasing
    order (a bucket not asked for is skipped): each source is one query
    ordered by bucket, read a batch at a time, so every table is scanned and
    joined once whatever the number of buckets (a query per bucket scanned
    the person assignments once a bucket). The tables are dropped on exit."""
    with engine.connect() as conn:
        _stage_buckets(conn, rows)
        conn.commit()
        del rows  # staged: the caller may free its frames

        if conn.dialect.name == "postgresql":  # four sorted reads: room to sort in memory
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{BUCKET_SORT_MEMORY}'")
        streams = {
            "incidents": _stream(conn, _incidents_read(bucketed=True)),
            "involvements": _stream(conn, _involvements_read(with_protected, bucketed=True)),
            "marac": _stream(conn, _marac_read(bucketed=True)),
            "management": _stream(conn, _management_read(bucketed=True)),
        }

        def read(bucket: int, counter_overrides: pd.DataFrame | None = None) -> History:
            b = int(bucket)
            return History.build(
                **{name: stream.take(b) for name, stream in streams.items()},
                counter_overrides=counter_overrides,
            )

        try:
            yield read
        finally:
            for stream in streams.values():
                stream.close()
            conn.rollback()
            for table in (incident_buckets, record_buckets):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
            conn.commit()
