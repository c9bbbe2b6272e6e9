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

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
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


def _of_bucket(incident_id, bucket: int):  # type: ignore[no-untyped-def]
    """The join of an incident id to the bucket's staged incidents."""
    b = incident_buckets.c
    return and_(b.incident_id == incident_id, b.bucket == bucket)


def _record_of_bucket(source: str, record_id, bucket: int):  # type: ignore[no-untyped-def]
    """The join of a record's primary key to the bucket's staged records."""
    b = record_buckets.c
    return and_(b.id == record_id, b.source == source, b.bucket == bucket)


def _incidents(conn: Connection, bucket: int | None = None) -> pd.DataFrame:
    i = incidents.c
    cols = [
        "incident_id", "occurred_at", "offence", "is_crime", "dash_risk", "injury", "weapon",
        "children_present", "outcome", "area", "address", "postcode",
    ]  # fmt: skip
    stmt = select(*[i[c] for c in cols])
    if bucket is not None:
        stmt = stmt.join(incident_buckets, _of_bucket(i.incident_id, bucket)).order_by(i.id)
    return bulk.read_frame(conn, stmt, cols, dates=("occurred_at",))


def _involvements(
    conn: Connection, with_protected: bool = True, bucket: int | None = None
) -> pd.DataFrame:
    v, a = involvements.c, person_assignments.alias("a")
    cols = ["incident_id", "role", "person_id", "relationship"]
    if with_protected:
        cols += ["gender", "date_of_birth", "home_address", "home_postcode"]
    rows = involvements
    if bucket is not None:  # the involvements of the bucket's incidents
        rows = rows.join(incident_buckets, _of_bucket(v.incident_id, bucket))
    stmt = (
        select(*[a.c.person_id if c == "person_id" else v[c] for c in cols])
        .select_from(rows)
        .outerjoin(a, a.c.row_key == row_key_expr("involvements:", v.id))
        .where(v.withdrawn_import_id.is_(None))
    )
    if bucket is not None:
        stmt = stmt.order_by(v.id)
    return bulk.read_frame(conn, stmt, cols, dates=("date_of_birth",))


def _marac(conn: Connection, bucket: int | None = None) -> pd.DataFrame:
    m = marac_referrals.c
    vic, per = person_assignments.alias("vic"), person_assignments.alias("per")
    rows = marac_referrals
    if bucket is not None:
        rows = rows.join(record_buckets, _record_of_bucket("marac", m.id, bucket))
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
        .select_from(rows)
        .outerjoin(vic, vic.c.row_key == row_key_expr("marac_referrals:", m.id, ":victim"))
        .outerjoin(per, per.c.row_key == row_key_expr("marac_referrals:", m.id, ":perpetrator"))
    )
    if bucket is not None:
        stmt = stmt.order_by(m.id)
    cols = [
        "referral_id", "referral_date", "meeting_date", "flagged_at", "victim_person_id",
        "perpetrator_person_id", "referring_agency",
    ]  # fmt: skip
    return bulk.read_frame(conn, stmt, cols, dates=("referral_date", "meeting_date", "flagged_at"))


def _management(conn: Connection, bucket: int | None = None) -> pd.DataFrame:
    g, a = management.c, person_assignments.alias("a")
    rows = management
    if bucket is not None:
        rows = rows.join(record_buckets, _record_of_bucket("management", g.id, bucket))
    stmt = (
        select(a.c.person_id, g.status, g.from_date, g.to_date)
        .select_from(rows)
        .outerjoin(a, a.c.row_key == row_key_expr("management:", g.id))
    )
    if bucket is not None:
        stmt = stmt.order_by(g.id)
    cols = ["person_id", "status", "from_date", "to_date"]
    return bulk.read_frame(conn, stmt, cols, dates=("from_date", "to_date"))


def load_history(engine: Engine, with_protected: bool = True) -> History:
    """Everything stored, with resolved person ids, as a typed :class:`History`.

    ``with_protected=False`` leaves out the involvements' protected columns
    (gender, date of birth, home address and postcode): no feature reads them,
    and scoring a large force reads a third less without them."""
    with engine.connect() as conn:
        frames = {
            "incidents": _incidents(conn),
            "involvements": _involvements(conn, with_protected),
            "marac": _marac(conn),
            "management": _management(conn),
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
    given (the caller's, already bucketed). The tables are dropped on exit."""
    with engine.connect() as conn:
        _stage_buckets(conn, rows)
        conn.commit()
        del rows  # staged: the caller may free its frames

        def read(bucket: int, counter_overrides: pd.DataFrame | None = None) -> History:
            b = int(bucket)
            return History.build(
                incidents=_incidents(conn, b),
                involvements=_involvements(conn, with_protected, b),
                marac=_marac(conn, b),
                management=_management(conn, b),
                counter_overrides=counter_overrides,
            )

        try:
            yield read
        finally:
            conn.rollback()
            for table in (incident_buckets, record_buckets):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
            conn.commit()
