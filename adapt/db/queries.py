"""Read-only queries the CLI, exports and (later) the app ask of the database."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from adapt.db.models import CONTRACT_TABLES, import_files, imports, quarantine

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
