"""A calibrated draft settings version and its evidence (``adapt calibrate``).

The draft is saved through :mod:`adapt.db.settings_store` like any other
version: it is a draft until a second person approves it, and nothing here
makes it live. Its evidence (the share of next-year harm each method's top K
captured at each rolling origin, and the spread over the origins) is kept in
``calibration_evidence``, linked to the draft's name and version; the save is
audited as ``settings_saved`` with the evidence, in one transaction.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
from sqlalchemy import Engine, insert, select

from adapt.core.settings import Settings
from adapt.db import app_store
from adapt.db.engine import utc_now, writer
from adapt.db.models import calibration_evidence, settings_versions
from adapt.db.settings_store import save_settings_version

EVIDENCE_COLUMNS = [
    "origin", "role", "method", "k", "harm_share", "incident_share", "people",
    "harm_share_min", "harm_share_max",
]  # fmt: skip
SPREAD_ROLE = "spread"


def next_version(engine: Engine, name: str, as_of: date) -> str:
    """``YYYY-MM-DD.N`` for the as-of date, N one more than any saved under ``name``."""
    stem = f"{as_of:%Y-%m-%d}"
    s = settings_versions.c
    with engine.connect() as conn:
        taken = conn.execute(
            select(s.version).where(s.name == name, s.version.like(f"{stem}.%"))
        ).scalars()
        counters = [int(m.group(1)) for v in taken if (m := re.fullmatch(rf"{stem}\.(\d+)", v))]
    return f"{stem}.{max(counters, default=0) + 1}"


def _rows(evidence: pd.DataFrame, spread: pd.DataFrame) -> list[dict]:
    per_origin = evidence.assign(harm_share_min=None, harm_share_max=None)
    summary = spread.rename(
        columns={"mean": "harm_share", "min": "harm_share_min", "max": "harm_share_max"}
    ).assign(origin=None, role=SPREAD_ROLE, incident_share=None, people=None)
    frame = pd.concat([per_origin[EVIDENCE_COLUMNS], summary[EVIDENCE_COLUMNS]], ignore_index=True)
    frame = frame.astype(object).where(frame.notna(), None)
    out = []
    for row in frame.to_dict("records"):
        row["k"] = int(row["k"])
        for col in ("harm_share", "incident_share", "harm_share_min", "harm_share_max"):
            row[col] = None if row[col] is None else float(row[col])
        row["people"] = None if row["people"] is None else int(row["people"])
        out.append(row)
    return out


def save_calibration(
    engine: Engine,
    draft: Settings,
    as_of: date,
    evidence: pd.DataFrame,
    spread: pd.DataFrame,
    *,
    username: str,
) -> int:
    """Save ``draft`` as a draft settings version with its evidence, audited; returns its id.

    ``evidence``: ``origin, role, method, k, harm_share, incident_share,
    people`` per origin; ``spread``: ``method, k, mean, min, max``. Raises
    :class:`~adapt.db.settings_store.SettingsVersionExists` when the name and
    version are taken (nothing is then written).
    """
    version_id = save_settings_version(engine, draft)
    now = utc_now()
    rows = [
        {**r, "settings_name": draft.name, "settings_version": draft.version, "as_of": as_of,
         "stored_at": now}
        for r in _rows(evidence, spread)
    ]  # fmt: skip
    with writer(engine) as conn:
        if rows:
            conn.execute(insert(calibration_evidence), rows)
        app_store.record_in(
            conn,
            username=username,
            action="settings_saved",
            detail=f"{draft.name} v{draft.version} (draft, adapt calibrate as of "
            f"{as_of:%Y-%m-%d}, {len(rows)} evidence rows)",
        )
    return version_id


def calibration_evidence_frame(engine: Engine, name: str, version: str) -> pd.DataFrame:
    """The evidence stored for a settings version (empty when it has none)."""
    c = calibration_evidence.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.as_of, *[getattr(c, col) for col in EVIDENCE_COLUMNS])
            .where(c.settings_name == name, c.settings_version == version)
            .order_by(c.id)
        ).all()
    return pd.DataFrame(rows, columns=["as_of", *EVIDENCE_COLUMNS])
