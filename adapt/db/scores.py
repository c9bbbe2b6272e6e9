"""Storage of score runs (the ranked table each run gave); settings versions are
in :mod:`adapt.db.settings_store`."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, insert, select

from adapt.db import bulk, settings_store
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    PERSON_SCORE_BOOLS,
    PERSON_SCORE_FLOATS,
    PERSON_SCORE_INTS,
    identity_runs,
    person_scores,
    score_runs,
)

STORED_COLUMNS = [
    "run_id", "rank", "person_id", "reason", *PERSON_SCORE_FLOATS, *PERSON_SCORE_INTS,
    *PERSON_SCORE_BOOLS, "last_incident_at", "counter_role", "already_managed",
]  # fmt: skip

# The settings versions live in adapt.db.settings_store (with their approval);
# their names stay importable from here.
SettingsVersionExists = settings_store.SettingsVersionExists
save_settings_version = settings_store.save_settings_version
settings_json = settings_store.settings_json
settings_versions_frame = settings_store.settings_versions_frame


STORE_BATCH_ROWS = 200_000


def store_score_run(
    engine: Engine, table: pd.DataFrame, as_of: date, settings, unresolved_rows: int
) -> int:  # type: ignore[no-untyped-def]
    """Store one scoring run: the settings snapshot and the ranked table."""
    with writer(engine) as conn:
        identity_run = conn.execute(select(func.max(identity_runs.c.id))).scalar()
        run_id = conn.execute(
            insert(score_runs).values(
                created_at=utc_now(),
                as_of=as_of,
                settings_name=settings.name,
                settings_version=settings.version,
                settings_json=settings.to_json(),
                identity_run_id=identity_run,
                persons=len(table),
                in_cohort=int(table["in_cohort"].sum()),
                unresolved_rows=unresolved_rows,
            )
        ).inserted_primary_key[0]
        # Converted and written a slice at a time: no second copy of a
        # national table (millions of rows) is held.
        for start in range(0, len(table), STORE_BATCH_ROWS):
            frame = table.iloc[start : start + STORE_BATCH_ROWS].reindex(columns=STORED_COLUMNS[1:])
            frame.insert(0, "run_id", int(run_id))
            for col in PERSON_SCORE_BOOLS:
                frame[col] = frame[col].astype(bool)
            for col in PERSON_SCORE_INTS:
                frame[col] = frame[col].astype("int64")
            frame["reason"] = frame["reason"].astype(str)
            bulk.insert_frame(conn, person_scores, frame)
            del frame
    return int(run_id)


def run_metadata(engine: Engine, run_id: int) -> dict | None:
    """A score run's metadata, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(score_runs).where(score_runs.c.id == run_id)).mappings().first()
    return dict(row) if row else None


def latest_score_run(engine: Engine) -> dict | None:
    """The latest score run's metadata, or None."""
    r = score_runs.c
    with engine.connect() as conn:
        row = conn.execute(select(score_runs).order_by(r.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def score_run_frame(engine: Engine, run_id: int) -> pd.DataFrame:
    """The stored ranked table of a run, best first."""
    p = person_scores.c
    stmt = select(*[p[c] for c in STORED_COLUMNS]).where(p.run_id == run_id).order_by(p.rank)
    with engine.connect() as conn:
        frame = bulk.read_frame(conn, stmt, STORED_COLUMNS, dates=("last_incident_at",))
    for col in PERSON_SCORE_BOOLS:
        frame[col] = frame[col].astype(bool)
    return frame
