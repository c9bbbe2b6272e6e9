"""The scoring stage on a database: read the resolved history, compute features
as of a date, rank, store the run. Everything it computes is in the pure
functions of ``adapt.features`` and ``adapt.scoring.score``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from adapt.core.history import History
from adapt.core.settings import Settings, default_settings
from adapt.db.history import load_history
from adapt.db.scores import store_score_run
from adapt.features import compute_features
from adapt.scoring.score import rank

log = logging.getLogger(__name__)


class NotResolved(RuntimeError):
    """Scoring needs resolved identities: ``adapt resolve`` has not run."""


@dataclass(frozen=True)
class ScoreResult:
    run_id: int | None
    as_of: date
    table: pd.DataFrame
    unresolved_rows: int


def resolve_as_of(history: History, as_of: object | None) -> date:
    """The as-of date asked for, or the latest incident date."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    last = history.last_date
    if last is None:
        raise NotResolved("nothing to score: no incidents are stored (run `adapt load` first)")
    return last.date()


def cohort_table(
    history: History, as_of: object | None = None, settings: Settings | None = None
) -> tuple[date, pd.DataFrame]:
    """Features, score and cohort for everyone who was a suspect up to the date."""
    settings = settings or default_settings()
    day = resolve_as_of(history, as_of)
    involved = history.involvements
    if len(involved) and involved["person_id"].isna().all():
        raise NotResolved("identities are not resolved yet: run `adapt resolve` first")
    return day, rank(compute_features(history, day, settings), settings)


def score_database(
    engine: Engine,
    as_of: object | None = None,
    settings: Settings | None = None,
    store: bool = True,
    cohort: Callable[[History, object | None, Settings], tuple[date, pd.DataFrame]] | None = None,
) -> ScoreResult:
    """Score everything stored as of a date and (by default) store the run.

    ``cohort``: another engine's :func:`cohort_table` (same arguments, same
    table; e.g. :func:`adapt.scoring.spark_engine.cohort_table_spark`)."""
    settings = settings or default_settings()
    history = load_history(engine, with_protected=False)
    day, table = (cohort or cohort_table)(history, as_of, settings)
    unresolved = history.unresolved_rows()
    if unresolved:
        log.warning("%d involvement rows are not resolved and were left out", unresolved)
    run_id = store_score_run(engine, table, day, settings, unresolved) if store else None
    return ScoreResult(run_id=run_id, as_of=day, table=table, unresolved_rows=unresolved)
