"""Read the resolved history (``adapt.features.History``) out of the database.

Person ids come from ``person_assignments`` joined on each record's row key
(``involvements:17``, ``marac_referrals:5:victim``, ``management:3``); a record
not yet resolved has a missing person id. Withdrawn involvements are left out.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, String, cast, literal, select

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


def _incidents(conn: Connection) -> pd.DataFrame:
    i = incidents.c
    cols = [
        "incident_id", "occurred_at", "offence", "is_crime", "dash_risk", "injury", "weapon",
        "children_present", "outcome", "area", "address", "postcode",
    ]  # fmt: skip
    stmt = select(*[i[c] for c in cols])
    return bulk.read_frame(conn, stmt, cols, dates=("occurred_at",))


def _involvements(conn: Connection, with_protected: bool = True) -> pd.DataFrame:
    v, a = involvements.c, person_assignments.alias("a")
    cols = ["incident_id", "role", "person_id", "relationship"]
    if with_protected:
        cols += ["gender", "date_of_birth", "home_address", "home_postcode"]
    stmt = (
        select(*[a.c.person_id if c == "person_id" else v[c] for c in cols])
        .select_from(involvements)
        .outerjoin(a, a.c.row_key == row_key_expr("involvements:", v.id))
        .where(v.withdrawn_import_id.is_(None))
    )
    return bulk.read_frame(conn, stmt, cols, dates=("date_of_birth",))


def _marac(conn: Connection) -> pd.DataFrame:
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
        .select_from(marac_referrals)
        .outerjoin(vic, vic.c.row_key == row_key_expr("marac_referrals:", m.id, ":victim"))
        .outerjoin(per, per.c.row_key == row_key_expr("marac_referrals:", m.id, ":perpetrator"))
    )
    cols = [
        "referral_id", "referral_date", "meeting_date", "flagged_at", "victim_person_id",
        "perpetrator_person_id", "referring_agency",
    ]  # fmt: skip
    return bulk.read_frame(conn, stmt, cols, dates=("referral_date", "meeting_date", "flagged_at"))


def _management(conn: Connection) -> pd.DataFrame:
    g, a = management.c, person_assignments.alias("a")
    stmt = (
        select(a.c.person_id, g.status, g.from_date, g.to_date)
        .select_from(management)
        .outerjoin(a, a.c.row_key == row_key_expr("management:", g.id))
    )
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
