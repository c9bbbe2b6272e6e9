"""Review dates for every stored record (Management of Police Information), and
the list of those due: ``adapt retention report``.

Record groups and their periods (``Settings.governance.retention``):

* a person's records (their involvements, MARAC referral sides and
  management records) are reviewed together, at the date of their last
  activity plus the longest period that applies to any incident they are
  named on: ``violent_or_sexual_years`` when one is a crime in
  :data:`VIOLENT_OR_SEXUAL` (MoPI group 2), else ``other_crime_years`` when
  one is a crime (group 3), else ``non_crime_years``. Their last activity is
  the latest of their incidents, MARAC referrals and management records; a
  management record still open counts as active on the as-of date. A record
  no identity run has resolved is reviewed on its own;
* ``decisions``: a person's cohort decisions and plan entries, at the latest
  of their last decision, last plan entry and the end of their management,
  plus ``decisions_years``;
* ``quarantine``: a rejected input row (it holds the raw row), at the date
  its import was loaded plus ``quarantine_days``.

Nothing is deleted by a review date: the report lists what is due, a person
decides (keep, or ``adapt erase``). Withdrawn and erased rows are left out.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, or_, select

from adapt.core.settings import Retention
from adapt.db import bulk
from adapt.db.history import row_key_expr
from adapt.db.models import (
    cohort_decisions,
    imports,
    incidents,
    involvements,
    management,
    marac_referrals,
    person_assignments,
    plan_entries,
    quarantine,
)

# Crimes of violence against the person (homicide, violence with and without
# injury, stalking and harassment, as the Home Office counting rules group
# them) and sexual offences: MoPI group 2 ("other sexual, violent or serious
# offences"). The rest of the contract's offences, when recorded as a crime,
# are group 3.
VIOLENT_OR_SEXUAL: frozenset[str] = frozenset(
    {
        "homicide", "attempted_murder", "gbh", "abh", "strangulation", "common_assault",
        "threats_to_kill", "harassment", "stalking", "coercive_control", "sexual_assault",
        "rape",
    }
)  # fmt: skip
PERSON_GROUPS = ("non_crime", "other_crime", "violent_or_sexual")  # least to most serious
GROUPS = (*reversed(PERSON_GROUPS), "decisions", "quarantine")
REPORT_COLUMNS = [
    "group", "person_id", "record", "last_activity", "review_date", "days_overdue", "records",
]  # fmt: skip


def add_years(dates: pd.Series, years: pd.Series) -> pd.Series:
    """``dates`` plus a whole number of ``years`` each (29 February to 28
    February), vectorised per distinct period.

    >>> add_years(pd.Series(pd.to_datetime(["2020-02-29", "2021-05-01"])), pd.Series([1, 10]))
    0   2021-02-28
    1   2031-05-01
    dtype: datetime64[ns]
    """
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    for n in pd.unique(years.dropna()):
        mask = (years == n).to_numpy()
        out[mask] = (dates[mask] + pd.DateOffset(years=int(n))).to_numpy()
    return out


def _person_rows(engine: Engine, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per live person row: unit (person id, else row key), person_id,
    record (row key when unresolved), when, severity (0 non-crime .. 2)."""
    a, v, i = person_assignments.c, involvements.c, incidents.c
    m, g = marac_referrals.c, management.c
    with engine.connect() as conn:
        inv = bulk.read_frame(
            conn,
            select(v.id, a.person_id, i.occurred_at, i.offence, i.is_crime)
            .join_from(involvements, incidents, v.incident_id == i.incident_id)
            .outerjoin(person_assignments, a.row_key == row_key_expr("involvements:", v.id))
            .where(v.withdrawn_import_id.is_(None)),
            ["id", "person_id", "when", "offence", "is_crime"],
            dates=("when",),
        )
        sides = []
        for side in ("victim", "perpetrator"):
            named = or_(
                m[f"{side}_person_ref"].is_not(None),
                m[f"{side}_forename"].is_not(None),
                m[f"{side}_surname"].is_not(None),
            )
            key = row_key_expr("marac_referrals:", m.id, f":{side}")
            part = bulk.read_frame(
                conn,
                select(m.id, a.person_id, m.referral_date)
                .outerjoin(person_assignments, a.row_key == key)
                .where(named),
                ["id", "person_id", "when"],
                dates=("when",),
            )
            sides.append(
                part.assign(key="marac_referrals:" + part["id"].astype("string") + f":{side}")
            )
        mgt = bulk.read_frame(
            conn,
            select(g.id, a.person_id, g.from_date, g.to_date).outerjoin(
                person_assignments, a.row_key == row_key_expr("management:", g.id)
            ),
            ["id", "person_id", "from_date", "to_date"],
            dates=("from_date", "to_date"),
        )
    crime = inv["is_crime"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    violent = inv["offence"].astype("string").str.lower().isin(VIOLENT_OR_SEXUAL).to_numpy()
    inv = inv.assign(
        key="involvements:" + inv["id"].astype("string"),
        severity=np.where(crime & violent, 2, np.where(crime, 1, 0)),
    )
    # An open management record is active today; a closed one ended on to_date.
    mgt = mgt.assign(
        key="management:" + mgt["id"].astype("string"),
        when=mgt["to_date"].where(mgt["to_date"].notna(), as_of),
        severity=0,
    )
    marac = pd.concat(sides, ignore_index=True).assign(severity=0)
    cols = ["key", "person_id", "when", "severity"]
    frame = pd.concat([inv[cols], marac[cols], mgt[cols]], ignore_index=True)
    frame["person_id"] = frame["person_id"].astype("string")
    frame["when"] = pd.to_datetime(frame["when"])
    frame["record"] = frame["key"].where(frame["person_id"].isna())
    frame["unit"] = frame["person_id"].fillna(frame["key"])
    return frame


def _person_dates(engine: Engine, retention: Retention, as_of: pd.Timestamp) -> pd.DataFrame:
    rows = _person_rows(engine, as_of)
    if rows.empty:
        return pd.DataFrame(columns=[*REPORT_COLUMNS[:-2], "records"])
    years = {
        0: retention.non_crime_years,
        1: retention.other_crime_years,
        2: retention.violent_or_sexual_years,
    }
    rows["years"] = rows["severity"].map(years)
    # The longest period that applies (ties: the more serious group) names the group.
    worst = rows.sort_values(["unit", "years", "severity"]).drop_duplicates("unit", keep="last")
    per = rows.groupby("unit").agg(
        person_id=("person_id", "first"),
        record=("record", "first"),
        last_activity=("when", "max"),
        records=("key", "size"),
    )
    per = per.join(worst.set_index("unit")[["years", "severity"]])
    per["group"] = per["severity"].map(dict(enumerate(PERSON_GROUPS)))
    per["review_date"] = add_years(per["last_activity"], per["years"])
    return per.reset_index(drop=True)


def _decision_dates(engine: Engine, retention: Retention, as_of: pd.Timestamp) -> pd.DataFrame:
    d, p, g, a = cohort_decisions.c, plan_entries.c, management.c, person_assignments.c
    with engine.connect() as conn:
        decided = bulk.read_frame(
            conn, select(d.person_id, d.decided_at), ["person_id", "when"], dates=("when",)
        )
        planned = bulk.read_frame(
            conn, select(p.person_id, p.recorded_at), ["person_id", "when"], dates=("when",)
        )
        managed = bulk.read_frame(
            conn,
            select(a.person_id, g.to_date).join_from(
                management,
                person_assignments,
                a.row_key == row_key_expr("management:", g.id),
            ),
            ["person_id", "when"],
            dates=("when",),
        )
    items = pd.concat([decided, planned], ignore_index=True)
    if items.empty:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    items["person_id"] = items["person_id"].astype("string")
    managed["person_id"] = managed["person_id"].astype("string")
    managed["when"] = pd.to_datetime(managed["when"]).fillna(as_of)  # open: active today
    per = items.groupby("person_id").agg(last_activity=("when", "max"), records=("when", "size"))
    ended = managed[managed["person_id"].isin(per.index)].groupby("person_id")["when"].max()
    per["last_activity"] = np.maximum(
        pd.to_datetime(per["last_activity"]), ended.reindex(per.index)
    ).fillna(per["last_activity"])
    per = per.reset_index()
    per["group"] = "decisions"
    per["record"] = None
    per["review_date"] = add_years(
        pd.to_datetime(per["last_activity"]), pd.Series(retention.decisions_years, index=per.index)
    )
    return per


def _quarantine_dates(engine: Engine, retention: Retention) -> pd.DataFrame:
    q, im = quarantine.c, imports.c
    with engine.connect() as conn:
        rows = bulk.read_frame(
            conn,
            select(q.id, im.started_at).join_from(quarantine, imports, q.import_id == im.id),
            ["id", "last_activity"],
            dates=("last_activity",),
        )
    rows["group"] = "quarantine"
    rows["person_id"] = None
    rows["record"] = "quarantine:" + rows["id"].astype("string")
    rows["records"] = 1
    rows["review_date"] = pd.to_datetime(rows["last_activity"]) + pd.Timedelta(
        days=retention.quarantine_days
    )
    return rows


def review_dates(engine: Engine, retention: Retention, as_of: date) -> pd.DataFrame:
    """Every stored record's review date, as :data:`REPORT_COLUMNS`
    (``days_overdue`` negative when not yet due), most overdue first."""
    day = pd.Timestamp(as_of).normalize()
    parts = [
        _person_dates(engine, retention, day),
        _decision_dates(engine, retention, day),
        _quarantine_dates(engine, retention),
    ]
    parts = [p.reindex(columns=REPORT_COLUMNS) for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in REPORT_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    frame["last_activity"] = pd.to_datetime(frame["last_activity"]).dt.normalize()
    frame["review_date"] = pd.to_datetime(frame["review_date"]).dt.normalize()
    frame["days_overdue"] = (day - frame["review_date"]).dt.days.astype("int64")
    frame["records"] = frame["records"].astype("int64")
    for name in ("group", "person_id", "record"):
        frame[name] = frame[name].astype("string")
    order = {g: i for i, g in enumerate(GROUPS)}
    frame["_group"] = frame["group"].map(order)
    frame = frame.sort_values(
        ["days_overdue", "_group", "person_id", "record"], ascending=[False, True, True, True]
    )
    return frame.drop(columns="_group").reset_index(drop=True)


def retention_report(engine: Engine, retention: Retention, as_of: date) -> pd.DataFrame:
    """The records due for review on ``as_of`` (review date on or before it)."""
    frame = review_dates(engine, retention, as_of)
    return frame[frame["days_overdue"] >= 0].reset_index(drop=True)
