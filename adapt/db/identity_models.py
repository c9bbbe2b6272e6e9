"""Storage of the identity match models trained on the force's own rows.

One row of ``identity_models`` per trained model (its id is its version):
when it was trained, on how many rows, with which seed, what it learned and
how (``figures``: the prior, m and u per comparison level, the EM passes with
their blocking rules, pair counts and iterations) and the model itself (the
JSON of :class:`adapt.identity.model.IdentityModel`) with its sha256, so a run
can say exactly which model it used and the same rows and seed can be shown
to give the same model. ``identity_runs.model_id`` names the model a run used
(NULL: the packaged model).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from adapt.db.engine import utc_now, writer
from adapt.db.models import identity_models, identity_runs


@dataclass(frozen=True)
class StoredModel:
    """A trained model as stored: ``model`` is the IdentityModel JSON."""

    id: int
    trained_at: datetime
    rows: int
    seed: int
    sha256: str
    figures: dict[str, Any]
    model: dict[str, Any]


def model_text(model: dict[str, Any]) -> str:
    """The canonical JSON text of a model (sorted keys): what is stored and hashed."""
    return json.dumps(model, sort_keys=True, separators=(",", ":"))


def model_sha256(model: dict[str, Any]) -> str:
    """sha256 of :func:`model_text`.

    >>> model_sha256({"b": 1, "a": 2}) == model_sha256({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(model_text(model).encode("utf-8")).hexdigest()


def store_model(
    engine: Engine,
    model: dict[str, Any],
    figures: dict[str, Any],
    *,
    rows: int,
    seed: int,
    trained_at: datetime | None = None,
) -> int:
    """Store a trained model; returns its id (the model's version)."""
    with writer(engine) as conn:
        return int(
            conn.execute(
                insert(identity_models).values(
                    trained_at=trained_at or utc_now(),
                    rows=int(rows),
                    seed=int(seed),
                    sha256=model_sha256(model),
                    figures=json.dumps(figures, sort_keys=True),
                    model=model_text(model),
                )
            ).inserted_primary_key[0]
        )


def set_run_model(engine: Engine, run_id: int, model_id: int | None) -> None:
    """Record which stored model run ``run_id`` used (None: the packaged model)."""
    with writer(engine) as conn:
        conn.execute(
            update(identity_runs).where(identity_runs.c.id == run_id).values(model_id=model_id)
        )


def _stored(row: Any) -> StoredModel:
    return StoredModel(
        id=int(row.id),
        trained_at=row.trained_at,
        rows=int(row.rows),
        seed=int(row.seed),
        sha256=row.sha256,
        figures=json.loads(row.figures),
        model=json.loads(row.model),
    )


def latest_model(engine: Engine) -> StoredModel | None:
    """The most recently trained stored model, or None when none is stored."""
    t = identity_models
    with engine.connect() as conn:
        row = conn.execute(select(t).order_by(t.c.id.desc()).limit(1)).first()
    return _stored(row) if row else None


def get_model(engine: Engine, model_id: int) -> StoredModel | None:
    """The stored model ``model_id``, or None."""
    t = identity_models
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == model_id)).first()
    return _stored(row) if row else None


def list_models(engine: Engine) -> list[dict[str, Any]]:
    """Every stored model, newest first, without its JSON: id, trained_at,
    rows, seed, sha256, and the runs that used it."""
    t, r = identity_models, identity_runs
    with engine.connect() as conn:
        models = conn.execute(
            select(t.c.id, t.c.trained_at, t.c.rows, t.c.seed, t.c.sha256).order_by(t.c.id.desc())
        ).all()
        runs = conn.execute(
            select(r.c.id, r.c.model_id).where(r.c.model_id.is_not(None)).order_by(r.c.id)
        ).all()
    used: dict[int, list[int]] = {}
    for run_id, model_id in runs:
        used.setdefault(int(model_id), []).append(int(run_id))
    return [{**m._asdict(), "runs": used.get(int(m.id), [])} for m in models]


def run_model_id(engine: Engine, run_id: int) -> int | None:
    """The stored model run ``run_id`` used (None: the packaged model)."""
    with engine.connect() as conn:
        got = conn.execute(
            select(identity_runs.c.model_id).where(identity_runs.c.id == run_id)
        ).scalar_one_or_none()
    return int(got) if got is not None else None
