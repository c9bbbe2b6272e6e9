"""Read-only queries the CLI, exports and (later) the app ask of the database."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, case, func, select

from adapt.db.models import (
    CONTRACT_TABLES,
    identity_decisions,
    identity_runs,
    import_files,
    imports,
    incidents,
    involvements,
    management,
    marac_referrals,
    quarantine,
)

QUARANTINE_COLUMNS = ["source_file", "source_row", "column", "value", "reason", "raw"]


def quarantine_frame(engine: Engine) -> pd.DataFrame:
    """Every stored quarantine row, in the export's columns, by file and row."""
    q = quarantine.c
    stmt = select(q.source_file, q.source_row, q.column_name, q.value, q.reason, q.raw).order_by(
        q.source_file, q.source_row, q.id
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def import_history(engine: Engine) -> pd.DataFrame:
    """One row per import and file: when, status and counts."""
    i, f = imports.c, import_files.c
    stmt = (
        select(
            i.id.label("import_id"),
            i.started_at,
            i.finished_at,
            i.folder,
            i.strict,
            i.status,
            f.file_name,
            f.sha256,
            f.records,
            f.loaded,
            f.updated,
            f.unchanged,
            f.quarantined,
        )
        .join_from(imports, import_files, f.import_id == i.id, isouter=True)
        .order_by(i.id, f.id)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all())


def table_counts(engine: Engine) -> dict[str, int]:
    """Stored records per contract file, plus the quarantine."""
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for file_name, (table, _key) in CONTRACT_TABLES.items():
            out[file_name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
        out["quarantine"] = conn.execute(select(func.count()).select_from(quarantine)).scalar_one()
    return out


def store_summary(engine: Engine) -> dict[str, object]:
    """What is stored, in a few figures: the period covered, incidents and how
    many are crimes, people named per role, MARAC and management records, and
    the quarantine per file."""
    inc, inv = incidents.c, involvements.c
    with engine.connect() as conn:
        first, last, total, crimes = conn.execute(
            select(
                func.min(inc.occurred_at),
                func.max(inc.occurred_at),
                func.count(),
                func.sum(case((inc.is_crime, 1), else_=0)),
            )
        ).one()
        roles = dict(conn.execute(select(inv.role, func.count()).group_by(inv.role)).all())
        marac = conn.execute(select(func.count()).select_from(marac_referrals)).scalar_one()
        managed = conn.execute(select(func.count()).select_from(management)).scalar_one()
        bad = dict(
            conn.execute(
                select(quarantine.c.source_file, func.count()).group_by(quarantine.c.source_file)
            ).all()
        )
    return {
        "first_incident": first,
        "last_incident": last,
        "incidents": total,
        "crimes": int(crimes or 0),
        "roles": roles,
        "marac_referrals": marac,
        "management_records": managed,
        "quarantine": bad,
    }


def data_version(engine: Engine) -> tuple:
    """Changes whenever stored data or identities change: the latest import,
    the latest identity run, and the number of identity decisions."""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.max(imports.c.id))).scalar(),
            conn.execute(select(func.max(identity_runs.c.id))).scalar(),
            conn.execute(select(func.count()).select_from(identity_decisions)).scalar(),
        )
