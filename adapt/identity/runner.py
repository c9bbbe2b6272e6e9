"""Resolve everything stored: read person rows and decisions from the database,
run the engine (in full, or only on what is new or changed), keep person ids
stable, and store assignments, lineage, links and the review queue.

A run is incremental when a previous run exists, no analyst decision has
changed since it, and fewer than half the rows are new or changed; otherwise
(or with ``full=True``) everything is resolved again. Either way ids are
carried over by :func:`adapt.identity.ids.assign_ids`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from adapt.core.resources import model_file
from adapt.db import identity as store
from adapt.db.engine import utc_now
from adapt.identity.ids import assign_ids
from adapt.identity.model import IdentityModel
from adapt.identity.normalise import prepare_rows
from adapt.identity.resolve import resolve, resolve_incremental
from adapt.identity.review import review_queue

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
DEFAULT_MODEL = Path(str(model_file("identity-splink.json")))
INCREMENTAL_SHARE = 0.5


@dataclass(frozen=True)
class RunSummary:
    run_id: int | None
    mode: str
    rows: int
    rows_resolved: int
    persons_created: int
    merges: int
    splits: int
    review_items: int


def load_model(path: Path | None = None):  # type: ignore[no-untyped-def]
    """The trained model committed under ``models/`` (or ``path``)."""

    return IdentityModel.load(path or DEFAULT_MODEL)


def _pending(rows: pd.DataFrame, previous: pd.DataFrame) -> pd.Series:
    """Rows never resolved, or changed since they were."""
    stored = rows[["row_key"]].merge(
        previous[["row_key", "row_hash"]].rename(columns={"row_hash": "stored_hash"}),
        on="row_key",
        how="left",
    )["stored_hash"]
    return pd.Series(
        stored.isna().to_numpy() | (stored.to_numpy() != rows["row_hash"].to_numpy()),
        index=rows.index,
    )


def resolve_database(
    engine: Engine,
    *,
    full: bool = False,
    model_path: Path | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Resolve the identities of every stored person row."""

    started = utc_now()
    rows = store.person_rows(engine)
    previous = store.assignments(engine)
    must_link, cannot_link = store.active_decisions(engine)
    last = store.last_run(engine)
    decisions_changed = store.decisions_changed_since(engine, last["started_at"] if last else None)
    pending = _pending(rows, previous)
    if not full and last and not decisions_changed and not pending.any():
        return RunSummary(None, "nothing to do", len(rows), 0, 0, 0, 0, 0)
    incremental = (
        not full
        and last is not None
        and not decisions_changed
        and pending.sum() < INCREMENTAL_SHARE * len(rows)
    )
    if progress:
        progress("preparing rows", 0, 1)
    model = load_model(model_path)
    prepared = prepare_rows(rows.drop(columns=["row_hash"]))
    if progress:
        progress("resolving", 0, 1)
    if incremental:
        mask = pending.to_numpy()
        existing = prepared[~mask]
        existing_clusters = existing[["row_key"]].merge(previous, on="row_key")
        existing_clusters = pd.DataFrame(
            {
                "row_key": existing_clusters["row_key"],
                "cluster": existing_clusters["person_id"].str.slice(1).astype("int64"),
            }
        )
        resolution = resolve_incremental(
            existing,
            existing_clusters,
            prepared[mask],
            model,
            must_link=must_link,
            cannot_link=cannot_link,
        )
    else:
        resolution = resolve(prepared, model, must_link=must_link, cannot_link=cannot_link)
    ids = assign_ids(
        resolution.clusters, previous[["row_key", "person_id"]], store.next_person_number(engine)
    )
    assigned = ids.assignments.merge(rows[["row_key", "row_hash"]], on="row_key")
    review = _review_rows(review_queue(resolution, prepared), resolution.clusters, ids.assignments)
    run_id = store.store_run(
        engine,
        store.RunRecord(
            mode="incremental" if incremental else "full",
            model=(model_path or DEFAULT_MODEL).name,
            started_at=started,
            rows=len(rows),
        ),
        assigned,
        ids.lineage,
        resolution.links,
        review,
        replace_links_for=resolution.clusters["row_key"] if incremental else None,
    )
    log.info(
        "identity run %s (%s): %s rows resolved, %s new persons, %s merges, %s splits",
        run_id,
        "incremental" if incremental else "full",
        len(assigned),
        len(ids.created),
        int((ids.lineage["event"] == "merged").sum()),
        int((ids.lineage["event"] == "split").sum()),
    )
    return RunSummary(
        run_id=run_id,
        mode="incremental" if incremental else "full",
        rows=len(rows),
        rows_resolved=len(assigned),
        persons_created=len(ids.created),
        merges=int((ids.lineage["event"] == "merged").sum()),
        splits=int((ids.lineage["event"] == "split").sum()),
        review_items=len(review),
    )


def _review_rows(
    queue: pd.DataFrame, clusters: pd.DataFrame, assigned: pd.DataFrame
) -> pd.DataFrame:
    """The engine's review queue in the stored columns, with person ids in
    place of the engine's cluster labels."""
    columns = ["kind", "priority", "person_id", "row_key_l", "row_key_r", "reason"]
    if queue is None or queue.empty:
        return pd.DataFrame(columns=columns)
    frame = queue.rename(columns={"item": "kind"}).copy()
    person_of_cluster = (
        clusters.merge(assigned, on="row_key").drop_duplicates("cluster").set_index("cluster")
    )["person_id"]
    person_of_row = assigned.set_index("row_key")["person_id"]
    by_cluster = frame["cluster"].map(person_of_cluster) if "cluster" in frame else None
    by_row = frame["row_key_l"].map(person_of_row) if "row_key_l" in frame else None
    if by_cluster is not None and by_row is not None:
        frame["person_id"] = by_cluster.fillna(by_row)
    else:
        frame["person_id"] = by_cluster if by_cluster is not None else by_row
    for name in columns:
        if name not in frame.columns:
            frame[name] = None
    frame["priority"] = frame["priority"].astype("float64")
    return frame[columns].reset_index(drop=True)
