"""Storage of settings versions and score runs (the ranked table each run gave)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, insert, select

from adapt.db import bulk
from adapt.db.engine import utc_now, writer
from adapt.db.models import (
    PERSON_SCORE_BOOLS,
    PERSON_SCORE_FLOATS,
    PERSON_SCORE_INTS,
    identity_runs,
    person_scores,
    score_runs,
    settings_versions,
)

STORED_COLUMNS = [
    "run_id", "rank", "person_id", "reason", *PERSON_SCORE_FLOATS, *PERSON_SCORE_INTS,
    *PERSON_SCORE_BOOLS, "last_incident_at", "counter_role", "already_managed",
]  # fmt: skip


class SettingsVersionExists(ValueError):
    """A settings version with this name and version is already saved."""


def save_settings_version(engine: Engine, settings) -> int:  # type: ignore[no-untyped-def]
    """Store a named settings version; a saved (name, version) is never overwritten."""
    s = settings_versions.c
    with writer(engine) as conn:
        taken = conn.execute(
            select(s.id).where(s.name == settings.name, s.version == settings.version)
        ).first()
        if taken:
            raise SettingsVersionExists(
                f"settings {settings.name!r} version {settings.version!r} is already saved"
            )
        result = conn.execute(
            insert(settings_versions).values(
                name=settings.name,
                version=settings.version,
                author=settings.author,
                reason=settings.reason,
                settings_json=settings.to_json(),
                saved_at=utc_now(),
            )
        )
        return int(result.inserted_primary_key[0])


def settings_versions_frame(engine: Engine) -> pd.DataFrame:
    """Every saved settings version (newest first), without the JSON."""
    s = settings_versions.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.id, s.name, s.version, s.author, s.reason, s.saved_at).order_by(s.id.desc())
        ).all()
    return pd.DataFrame(rows, columns=["id", "name", "version", "author", "reason", "saved_at"])


def settings_json(engine: Engine, name: str, version: str | None = None) -> str | None:
    """The JSON of a saved settings version (the latest saved of that name by default)."""
    s = settings_versions.c
    stmt = select(s.settings_json).where(s.name == name)
    if version is not None:
        stmt = stmt.where(s.version == version)
    with engine.connect() as conn:
        return conn.execute(stmt.order_by(s.id.desc()).limit(1)).scalar()


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
        frame = table.reindex(columns=STORED_COLUMNS[1:]).copy()
        frame.insert(0, "run_id", int(run_id))
        for col in PERSON_SCORE_BOOLS:
            frame[col] = frame[col].astype(bool)
        for col in PERSON_SCORE_INTS:
            frame[col] = frame[col].astype("int64")
        frame["reason"] = frame["reason"].astype(str)
        bulk.insert_frame(conn, person_scores, frame)
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
