"""Storage of the learned models trained on the force's own past (``adapt calibrate``).

One row of ``learned_models`` per version: the model as JSON (what
:meth:`adapt.learned.HarmModel.to_dict` writes: coefficients and scaling, no
person), the as-of date it was trained for, the as-of dates it was fitted on
and the one it was judged on, its out-of-time AUC and top-100 capture, its
evidence (capture by K, calibration table, fairness-by-sex audit: figures per
group, as JSON) and its card (markdown). Nothing here chooses who is in the
cohort: the model is advice beside the RFG score.

The latest stored version is the one the exports and pages show; when none is
stored they show no model figure (never the synthetic-trained model in its place).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select

from adapt.db.engine import utc_now, writer
from adapt.db.models import learned_models


@dataclass(frozen=True)
class StoredLearnedModel:
    """One stored version: ``model`` is the HarmModel JSON, ``evidence`` its figures."""

    id: int
    version: str
    as_of: date
    target: str
    fit_origins: tuple[date, ...]
    held_out_origin: date
    auc_any_incident: float | None
    capture_k100: float | None
    model: dict[str, Any]
    evidence: dict[str, Any]
    card: str
    stored_by: str
    stored_at: datetime


def next_model_version(engine: Engine, as_of: date) -> str:
    """``YYYY-MM-DD.N`` for the as-of date, N one more than any stored for it."""
    stem = f"{as_of:%Y-%m-%d}"
    c = learned_models.c
    with engine.connect() as conn:
        taken = conn.execute(select(c.version).where(c.version.like(f"{stem}.%"))).scalars()
        counters = [int(m.group(1)) for v in taken if (m := re.fullmatch(rf"{stem}\.(\d+)", v))]
    return f"{stem}.{max(counters, default=0) + 1}"


def _float(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if x == x else None


def store_learned_model(
    engine: Engine,
    *,
    version: str,
    as_of: date,
    target: str,
    fit_origins: list[date],
    held_out_origin: date,
    auc_any_incident: float | None,
    capture_k100: float | None,
    model: dict[str, Any],
    evidence: dict[str, Any],
    card: str,
    username: str,
) -> int:
    """Store one version; returns its row id. The JSON must hold no NaN."""
    row = {
        "version": version,
        "as_of": as_of,
        "target": target,
        "fit_origins": ",".join(f"{d:%Y-%m-%d}" for d in fit_origins),
        "held_out_origin": held_out_origin,
        "auc_any_incident": _float(auc_any_incident),
        "capture_k100": _float(capture_k100),
        "model_json": json.dumps(model, sort_keys=True, allow_nan=False),
        "evidence_json": json.dumps(evidence, sort_keys=True, allow_nan=False),
        "card": card,
        "stored_by": username,
        "stored_at": utc_now(),
    }
    with writer(engine) as conn:
        return int(conn.execute(insert(learned_models).values(**row)).inserted_primary_key[0])


def _stored(r: Any) -> StoredLearnedModel:
    return StoredLearnedModel(
        id=int(r.id),
        version=r.version,
        as_of=r.as_of,
        target=r.target,
        fit_origins=tuple(pd.Timestamp(d).date() for d in r.fit_origins.split(",") if d),
        held_out_origin=r.held_out_origin,
        auc_any_incident=r.auc_any_incident,
        capture_k100=r.capture_k100,
        model=json.loads(r.model_json),
        evidence=json.loads(r.evidence_json),
        card=r.card,
        stored_by=r.stored_by,
        stored_at=r.stored_at,
    )


def latest_learned_model(engine: Engine) -> StoredLearnedModel | None:
    """The most recently stored version, or None when no model was trained on this force."""
    with engine.connect() as conn:
        r = conn.execute(
            select(learned_models).order_by(learned_models.c.id.desc()).limit(1)
        ).first()
    return None if r is None else _stored(r)


def learned_model(engine: Engine, version: str) -> StoredLearnedModel | None:
    """One stored version by its version string (None when unknown)."""
    with engine.connect() as conn:
        r = conn.execute(select(learned_models).where(learned_models.c.version == version)).first()
    return None if r is None else _stored(r)


def learned_models_frame(engine: Engine) -> pd.DataFrame:
    """Every stored version, newest first, without the JSON: ``version, as_of,
    target, fit_origins, held_out_origin, auc_any_incident, capture_k100,
    stored_by, stored_at``."""
    c = learned_models.c
    cols = [c.version, c.as_of, c.target, c.fit_origins, c.held_out_origin,
            c.auc_any_incident, c.capture_k100, c.stored_by, c.stored_at]  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).order_by(c.id.desc())).all()
    return pd.DataFrame(rows, columns=[col.name for col in cols])
