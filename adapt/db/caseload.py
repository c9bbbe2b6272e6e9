"""What the Caseload page reads besides decisions and plans
(:mod:`adapt.db.app_store`): the scores stored on the adoption dates, for the
outcome panel's score bands."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, select

from adapt.db.models import person_scores, score_runs


def scores_on_dates(engine: Engine, dates: list[date]) -> pd.DataFrame:
    """``as_of, person_id, score`` from the latest stored score run of each of
    ``dates`` (dates without a stored run give nothing)."""
    cols = ["as_of", "person_id", "score"]
    wanted = sorted({pd.Timestamp(d).date() for d in dates})
    if not wanted:
        return pd.DataFrame(columns=cols)
    r, p = score_runs.c, person_scores.c
    latest = (
        select(func.max(r.id).label("run_id"))
        .where(r.as_of.in_(wanted))
        .group_by(r.as_of)
        .subquery()
    )
    stmt = (
        select(r.as_of, p.person_id, p.score)
        .select_from(person_scores)
        .join(latest, latest.c.run_id == p.run_id)
        .join(score_runs, r.id == p.run_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=cols)
